import Doorstep
import DoorstepKit
import SwiftUI

/// Today's work: overdue first, then due today; a row opens its household.
struct TodayView: View {
    @State var model: TodayModel
    let repo: DoorstepRepository

    var body: some View {
        List {
            if let error = model.state.error { Text(error).foregroundStyle(.red) }
            section("逾期", model.state.overdue)
            section("今日", model.state.dueToday)
        }
        .navigationTitle(model.state.headline)
        .refreshable { await model.refresh() }
        .task { await model.refresh() }
    }

    private func section(_ title: String, _ items: [WorkItem]) -> some View {
        Section(title) {
            ForEach(items, id: \.id) { item in
                NavigationLink {
                    HouseholdView(model: HouseholdModel(repo: repo, householdId: item.householdId), repo: repo)
                } label: {
                    VStack(alignment: .leading) {
                        Text(item.title)
                        Text("\(item.memberName) · \(item.urgency.label())").font(.caption)
                    }
                }
            }
        }
    }
}
