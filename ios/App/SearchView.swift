import DoorstepKit
import SwiftUI

/// Finds members by name, phone tail or identity-number tail, or the village's roster by
/// special-group tag; a person opens the household.
struct SearchView: View {
    @State var model: SearchModel
    let repo: DoorstepRepository
    @State private var text = ""

    var body: some View {
        List {
            Section {
                ForEach(model.state.hits, id: \.memberId) { hit in
                    household(hit.householdId, "\(hit.name) · \(hit.address)")
                }
            }
            Section("按特殊群体查看花名册") {
                ForEach(model.state.tagChoices, id: \.self) { tag in
                    Toggle(tag.label(), isOn: Binding(
                        get: { model.state.tags.contains(tag) },
                        set: { _ in Task { await model.toggleTag(tag) } }))
                }
                ForEach(model.state.roster, id: \.memberId) { entry in
                    household(entry.householdId, "\(entry.name) · \(entry.groupName) \(entry.address)")
                }
            }
        }
        .overlay { if let error = model.state.error { Text(error).foregroundStyle(.red) } }
        .searchable(text: $text, prompt: "姓名、手机或身份证号后几位")
        .onSubmit(of: .search) { Task { await model.search(text) } }
        .toolbar {
            NavigationLink("登记新户") { HouseholdFormView(model: HouseholdFormModel(repo: repo), repo: repo) }
        }
        .navigationTitle("查找")
    }

    private func household(_ householdId: String, _ title: String) -> some View {
        NavigationLink(title) {
            HouseholdView(model: HouseholdModel(repo: repo, householdId: householdId), repo: repo)
        }
    }
}
