import DoorstepKit
import SwiftUI

/// Finds members by name, phone tail or identity-number tail; a hit opens the household.
struct SearchView: View {
    @State var model: SearchModel
    let repo: DoorstepRepository
    @State private var text = ""

    var body: some View {
        List(model.state.hits, id: \.memberId) { hit in
            NavigationLink("\(hit.name) · \(hit.address)") {
                HouseholdView(model: HouseholdModel(repo: repo, householdId: hit.householdId), repo: repo)
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
}
