import Doorstep
import DoorstepKit
import SwiftUI

/// Adds a need (一次性需求, with an optional due date) or a reminder (every N days, yearly) to a
/// household's ledger; the kinds, urgencies and checks are the core's.
struct LedgerLineFormView: View {
    @State var model: LedgerLineFormModel

    var body: some View {
        Form {
            Picker("哪位成员", selection: Binding(get: { model.state.form.memberId }, set: { id in model.edit { $0.memberId = id } })) {
                ForEach(model.state.members, id: \.id) { Text($0.name).tag($0.id) }
            }
            if model.state.members.isEmpty { Text("本户没有在册成员，请先添加成员") }
            TextField("事项（例如 轮椅申领、降压药更换）", text: Binding(
                get: { model.state.form.title }, set: { t in model.edit { $0.title = t } }))
            Picker("类型", selection: Binding(get: { kind(model.state.form.schedule) }, set: model.chooseKind)) {
                ForEach(model.state.kindChoices, id: \.self) { Text($0.label()).tag($0) }
            }
            scheduleFields
            Picker("紧急程度", selection: Binding(get: { model.state.form.urgency }, set: { u in model.edit { $0.urgency = u } })) {
                ForEach(model.state.urgencyChoices, id: \.self) { Text($0.label()).tag($0) }
            }
            TextField("备注", text: Binding(get: { model.state.form.note }, set: { t in model.edit { $0.note = t } }))
            if let error = model.state.error { Text(error).foregroundStyle(.red) }
            Button(model.state.savedLineId == nil ? "保存" : "已保存") { Task { await model.save() } }
                .disabled(model.state.saving || model.state.savedLineId != nil)
            Text("保存在本机，有网络时自动同步。").font(.caption)
        }
        .navigationTitle("添加需求或提醒")
        .task { await model.load() }
    }

    /// The inputs of the chosen kind: a due date, an interval and first date, or a day of the year.
    @ViewBuilder private var scheduleFields: some View {
        switch model.state.form.schedule {
        case let .oneOff(status, due):
            TextField("期限（年-月-日，可不填）", text: Binding(
                get: { due ?? "" }, set: { d in model.edit { $0.schedule = .oneOff(status: status, due: d.isEmpty ? nil : d) } }))
        case let .everyNDays(days, firstDue):
            TextField("每隔几天", text: number(days) { n in .everyNDays(days: n, firstDue: firstDue) }).keyboardType(.numberPad)
            TextField("第一次（年-月-日）", text: Binding(
                get: { firstDue }, set: { d in model.edit { $0.schedule = .everyNDays(days: days, firstDue: d) } }))
        case let .yearly(month, day):
            TextField("月", text: number(month) { n in .yearly(month: n, day: day) }).keyboardType(.numberPad)
            TextField("日", text: number(day) { n in .yearly(month: month, day: n) }).keyboardType(.numberPad)
        }
    }

    /// A field for a small whole number; empty goes to the core as 0, which then says what is wrong.
    private func number(_ value: UInt32, _ schedule: @escaping (UInt32) -> Schedule) -> Binding<String> {
        Binding(get: { value == 0 ? "" : "\(value)" },
                set: { text in model.edit { $0.schedule = schedule(UInt32(text.filter(\.isNumber).prefix(4)) ?? 0) } })
    }

    /// The kind of a schedule, to show which kind is chosen.
    private func kind(_ schedule: Schedule) -> ScheduleKind {
        switch schedule {
        case .oneOff: .oneOff
        case .everyNDays: .everyNDays
        case .yearly: .yearly
        }
    }
}
