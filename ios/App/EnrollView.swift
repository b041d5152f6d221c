import DoorstepKit
import SwiftUI

/// Enrolment with the one-time code from the town's service centre.
struct EnrollView: View {
    @State var model: EnrollModel
    let onEnrolled: () -> Void

    var body: some View {
        Form {
            Section {
                TextField("登记码", text: Binding(get: { model.state.code }, set: model.editCode))
                    .textInputAutocapitalization(.characters)
                Button(model.state.working ? "正在登记…" : "登记本机") { Task { await model.enroll() } }
                    .disabled(model.state.working)
            } footer: { Text("服务器：\(model.serverURL)") }
            if let error = model.state.error { Text(error).foregroundStyle(.red) }
        }
        .navigationTitle("登记")
        .onChange(of: model.state.enrolledAs) { _, user in if user != nil { onEnrolled() } }
    }
}
