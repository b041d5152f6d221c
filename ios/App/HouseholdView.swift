import Doorstep
import DoorstepKit
import SwiftUI

/// One household's file (一户一档): members, ledger, jobs, conflicts; as the core describes it.
struct HouseholdView: View {
    @State var model: HouseholdModel
    let repo: DoorstepRepository

    var body: some View {
        List {
            if let notice = model.state.notice { Text(notice) }
            if let error = model.state.error { Text(error).foregroundStyle(.red) }
            if let screen = model.state.screen {
                Section(model.state.syncLine) {
                    NavigationLink(screen.household.address) {
                        HouseholdFormView(model: HouseholdFormModel(repo: repo, householdId: screen.household.id), repo: repo)
                    }
                }
                Section("成员") {
                    ForEach(screen.members, id: \.id) { member in
                        Text("\(member.name)（\(member.relation)）\(member.tags.map { $0.label() }.joined(separator: "、"))")
                    }
                    NavigationLink("添加成员") {
                        MemberFormView(model: MemberFormModel(repo: repo, householdId: screen.household.id))
                    }
                }
                Section("台账") {
                    ForEach(screen.ledger, id: \.line.id) { row in
                        HStack {
                            Text(row.line.title).foregroundStyle(row.dueNow ? .red : .primary)
                            Spacer()
                            if case .oneOff = row.line.schedule {
                                Button(NeedStatus.done.label()) { Task { await model.setNeedStatus(lineId: row.line.id, .done) } }
                            } else {
                                Button("已完成") { Task { await model.markReminderDone(lineId: row.line.id) } }
                            }
                        }
                    }
                }
                Section("办件") {
                    ForEach(screen.jobs, id: \.details.job.id) { job in
                        NavigationLink("\(job.itemName) · \(job.details.progress.state.label())") {
                            JobStepView(model: JobStepModel(repo: repo, jobId: job.details.job.id))
                        }
                    }
                    if let member = screen.members.first {
                        NavigationLink("从事项清单办件") { CatalogueView(model: CatalogueModel(repo: repo), memberId: member.id, repo: repo) }
                    }
                }
                ForEach(screen.conflicts, id: \.field) { conflict in
                    Section("冲突：\(conflict.fieldLabel)") {
                        ForEach(conflict.values, id: \.valueId) { value in
                            Button("采用“\(value.value)”（\(value.authorName ?? "")）") {
                                Task { await model.choose(value, for: conflict) }
                            }
                        }
                    }
                }
            }
        }
        .navigationTitle("户档案")
        .task { await model.refresh() }
    }
}
