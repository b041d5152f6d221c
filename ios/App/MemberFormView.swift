import Doorstep
import DoorstepKit
import SwiftUI

/// Adds a member, or edits one and marks them moved away or deceased; the identity and mobile
/// numbers are checked by the core as they are typed.
struct MemberFormView: View {
    @State var model: MemberFormModel

    var body: some View {
        Form {
            TextField("姓名", text: field(\.name))
            TextField("身份证号码", text: field(\.idNumber))
            if let problem = model.state.idNumberError { Text(problem).foregroundStyle(.red) }
            TextField("手机号码", text: field(\.phone)).keyboardType(.phonePad)
            if let problem = model.state.phoneError { Text(problem).foregroundStyle(.red) }
            TextField("与户主关系", text: field(\.relation))
            Section("特殊群体") {
                ForEach(model.state.tagChoices, id: \.self) { tag in
                    Toggle(tag.label(), isOn: Binding(
                        get: { model.state.form.tags.contains(tag) },
                        set: { on in model.edit { $0.tags = on ? $0.tags + [tag] : $0.tags.filter { $0 != tag } } }))
                }
            }
            if let status = model.state.status {
                Section("状态：\(status.label())") {
                    ForEach(model.state.statusChoices.filter { $0 != status }, id: \.self) { choice in
                        Button("标记为\(choice.label())") { Task { await model.markStatus(choice) } }
                    }
                }
            }
            if let notice = model.state.notice { Text(notice) }
            if let error = model.state.error { Text(error).foregroundStyle(.red) }
            Button("保存") { Task { await model.save() } }
                .disabled(model.state.saving)
        }
        .navigationTitle(model.state.status == nil ? "添加成员" : "成员信息")
        .task { await model.load() }
    }

    private func field(_ path: WritableKeyPath<MemberForm, String>) -> Binding<String> {
        Binding(get: { model.state.form[keyPath: path] }, set: { text in model.edit { $0[keyPath: path] = text } })
    }
}
