import DoorstepKit
import SwiftUI

/// Results to take to the residents' doors: signed for, or nobody home and a new date.
struct DeliveriesView: View {
    @State var model: DeliveriesModel
    @State private var signedBy = ""
    @State private var newDate = ""

    var body: some View {
        List {
            if let notice = model.state.notice { Text(notice) }
            if let error = model.state.error { Text(error).foregroundStyle(.red) }
            Section {
                TextField("签收人", text: $signedBy)
                TextField("改约日期（年-月-日）", text: $newDate)
            }
            ForEach(model.state.jobs, id: \.jobId) { job in
                VStack(alignment: .leading) {
                    Text("\(job.itemName) · \(job.memberName)")
                    HStack {
                        Button("已签收") { Task { await model.delivered(job.jobId, signedBy: signedBy) } }
                        Button("无人在家") { Task { await model.nobodyHome(job.jobId, newDate: newDate.isEmpty ? nil : newDate) } }
                    }
                    .buttonStyle(.borderless)
                }
            }
        }
        .navigationTitle("送达")
        .task { await model.refresh() }
    }
}
