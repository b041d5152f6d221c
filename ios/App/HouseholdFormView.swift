import DoorstepKit
import SwiftUI

/// Registers a household in one of the user's villages (then its file opens), or edits one.
struct HouseholdFormView: View {
    @State var model: HouseholdFormModel
    let repo: DoorstepRepository

    var body: some View {
        Form {
            Picker("所属村", selection: field(\.villageId)) {
                ForEach(model.state.villages, id: \.self) { Text($0).tag($0) }
            }
            TextField("村民小组", text: field(\.groupName))
            TextField("住址", text: field(\.address))
            TextField("联系电话", text: field(\.phone)).keyboardType(.phonePad)
            if let problem = model.state.phoneError { Text(problem).foregroundStyle(.red) }
            if let error = model.state.error { Text(error).foregroundStyle(.red) }
            if let id = model.state.savedHouseholdId {
                NavigationLink("打开户档案") { HouseholdView(model: HouseholdModel(repo: repo, householdId: id), repo: repo) }
            } else {
                Button("保存") { Task { await model.save() } }.disabled(model.state.saving)
            }
        }
        .navigationTitle("户信息")
        .task { await model.load() }
    }

    private func field(_ path: WritableKeyPath<HouseholdForm, String>) -> Binding<String> {
        Binding(get: { model.state.form[keyPath: path] }, set: { text in model.edit { $0[keyPath: path] = text } })
    }
}
