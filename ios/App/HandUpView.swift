import DoorstepKit
import SwiftUI

/// The rotating village head's duty day: tick jobs by village group and hand them up at once.
struct HandUpView: View {
    @State var model: HandUpModel

    var body: some View {
        List {
            if let notice = model.state.notice { Text(notice) }
            if let error = model.state.error { Text(error).foregroundStyle(.red) }
            TextField("带件人", text: Binding(get: { model.state.carrier }, set: model.editCarrier))
            ForEach(model.state.groups, id: \.groupName) { group in
                Section {
                    ForEach(group.jobs, id: \.jobId) { job in
                        Button { model.toggle(job.jobId) } label: {
                            Label(job.itemName, systemImage: model.state.selected.contains(job.jobId) ? "checkmark.circle.fill" : "circle")
                        }
                    }
                } header: {
                    HStack { Text(group.groupName); Spacer(); Button("全选") { model.selectGroup(group.groupName) } }
                }
            }
            Button("转办所选办件") { Task { await model.handUp() } }
        }
        .navigationTitle("转办")
        .task { await model.refresh() }
    }
}
