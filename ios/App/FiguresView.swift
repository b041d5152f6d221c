import Doorstep
import DoorstepKit
import SwiftUI

/// This month's figures for a village, counted by the core as the hub's console counts them.
struct FiguresView: View {
    @State var model: FiguresModel

    var body: some View {
        List {
            if let error = model.state.error { Text(error).foregroundStyle(.red) }
            if let f = model.state.figures {
                Section("办件") {
                    figure("告知建件", "\(f.jobsOpened) 件")
                    figure("特殊群体需求响应率", "\(f.specialNeedsResponded) / \(f.specialNeeds)（\(percent(f.responseRate))）")
                    figure("承诺办结率", "\(f.completedOnTime) / \(f.jobsCompleted)（\(percent(f.onTimeRate))）")
                    figure("平均办理时长", f.averageHandlingHours.map { String(format: "%.1f 小时", $0) } ?? "—")
                }
                Section("群众满意度") {
                    figure("满意度", "\(percent(f.satisfactionRate))（已评价 \(f.jobsRated) 件）")
                    figure("好评 / 中评 / 差评", "\(f.ratedGood) / \(f.ratedAverage) / \(f.ratedBad)")
                }
                Section("走访与需求") {
                    figure("走访次数", "\(f.visitsDone) 次")
                    figure("需求登记 / 销号", "\(f.needsRaised) / \(f.needsClosed) 项")
                }
                if !f.jobsByItem.isEmpty {
                    Section("按事项") { ForEach(f.jobsByItem, id: \.itemCode) { figure($0.itemName, "\($0.jobs) 件") } }
                }
                if !f.jobsByMode.isEmpty {
                    Section("按办理方式") { ForEach(f.jobsByMode, id: \.mode) { figure($0.mode.label(), "\($0.jobs) 件") } }
                }
            }
        }
        .navigationTitle(model.state.from.map { from in "\(from) 至 \(model.state.to ?? "")" } ?? "本月统计")
        .refreshable { await model.refresh() }
        .task { await model.refresh() }
    }

    /// One figure: what it counts on the left, the count on the right.
    private func figure(_ label: String, _ value: String) -> some View {
        HStack { Text(label); Spacer(); Text(value) }
    }

    /// A rate as a percentage, or a dash when there was nothing to count.
    private func percent(_ rate: Double?) -> String { rate.map { String(format: "%.0f%%", $0 * 100) } ?? "—" }
}
