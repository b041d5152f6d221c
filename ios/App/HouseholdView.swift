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
                    NavigationLink("本村本月统计") {
                        FiguresView(model: FiguresModel(repo: repo, villageId: screen.household.villageId))
                    }
                }
                Section("成员") {
                    ForEach(screen.members, id: \.id) { member in
                        NavigationLink("\(member.name)（\(member.relation)·\(member.status.label())）\(member.tags.map { $0.label() }.joined(separator: "、"))") {
                            MemberFormView(model: MemberFormModel(repo: repo, householdId: screen.household.id, memberId: member.id))
                        }
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
                    NavigationLink("添加需求或提醒") {
                        LedgerLineFormView(model: LedgerLineFormModel(repo: repo, householdId: screen.household.id))
                    }
                }
                Section("走访") {
                    ForEach(screen.visits, id: \.id) { visit in
                        if visit.doneAt == nil {
                            NavigationLink("\(visit.plannedFor ?? "") 计划走访：\(visit.purpose)") {
                                VisitView(model: VisitModel(repo: repo, householdId: screen.household.id,
                                                            plannedVisitId: visit.id, purpose: visit.purpose))
                            }
                        } else {
                            Text("\(visit.purpose) · \(visit.outcome?.label() ?? "")\(visit.notes.isEmpty ? "" : "：\(visit.notes)")")
                        }
                    }
                    NavigationLink("记录走访") { VisitView(model: VisitModel(repo: repo, householdId: screen.household.id)) }
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
