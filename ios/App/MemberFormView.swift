import Doorstep
import DoorstepKit
import SwiftUI

/// Adds a member; the identity and mobile numbers are checked by the core as they are typed.
struct MemberFormView: View {
    @State var model: MemberFormModel

    var body: some View {
        Form {
            TextField("姓名", text: field(\.name))
            TextField("身份证号码", text: field(\.idNumber))
            if let problem = model.state.idNumberError { Text(problem).foregroundStyle(.red) }
            TextField("手机号码", text: field(\.phone)).keyboardType(.phonePad)
            if let problem = model.state.phoneError { Text(problem).foregroundStyle(.red) }
            TextField("与户主关系", text: field(\.relation))
            Section("特殊群体") {
                ForEach(model.state.tagChoices, id: \.self) { tag in
                    Toggle(tag.label(), isOn: Binding(
                        get: { model.state.form.tags.contains(tag) },
                        set: { on in model.edit { $0.tags = on ? $0.tags + [tag] : $0.tags.filter { $0 != tag } } }))
                }
            }
            if let error = model.state.error { Text(error).foregroundStyle(.red) }
            Button(model.state.savedMemberId == nil ? "保存" : "已保存") { Task { await model.save() } }
                .disabled(model.state.saving)
        }
        .navigationTitle("添加成员")
    }

    private func field(_ path: WritableKeyPath<MemberForm, String>) -> Binding<String> {
        Binding(get: { model.state.form[keyPath: path] }, set: { text in model.edit { $0[keyPath: path] = text } })
    }
}
