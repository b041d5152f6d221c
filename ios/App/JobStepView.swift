import Doorstep
import DoorstepKit
import SwiftUI

/// A job's next step: the steps the core allows now, and the chosen step's form as the core
/// describes it (`stepForm`: fields, labels, which are required, the materials to tick).
struct JobStepView: View {
    @State var model: JobStepModel

    var body: some View {
        Form {
            Section(model.state.itemName) {
                Text(model.state.stateLabel)
                if let missing = model.state.job?.progress.missingMaterials, !missing.isEmpty {
                    Text("容缺材料：\(missing.joined(separator: "、"))")
                }
            }
            Section("下一步") {
                ForEach(model.state.steps, id: \.self) { step in
                    Button(step.label()) { Task { await model.choose(step) } }
                }
            }
            if let form = model.state.form {
                Section(form.title) {
                    ForEach(form.fields, id: \.label) { field in input(field) }
                    Button("保存") { Task { await model.submit() } }.disabled(model.state.working)
                }
            }
            if let error = model.state.error { Text(error).foregroundStyle(.red) }
        }
        .task { await model.refresh() }
    }

    @ViewBuilder private func input(_ field: StepField) -> some View {
        switch field.kind {
        case .text:
            TextField(field.label, text: Binding(get: { model.state.input.text }, set: { t in model.edit { $0.text = t } }))
        case .materials:
            ForEach(field.choices, id: \.self) { name in
                Toggle(name, isOn: Binding(
                    get: { model.state.input.materials.contains(name) },
                    set: { on in model.edit { $0.materials = on ? $0.materials + [name] : $0.materials.filter { $0 != name } } }))
            }
        case .date:
            TextField("\(field.label)（年-月-日）", text: Binding(
                get: { model.state.input.date ?? "" }, set: { d in model.edit { $0.date = d.isEmpty ? nil : d } }))
        case .rating:
            Picker(field.label, selection: Binding(get: { model.state.input.rating }, set: { r in model.edit { $0.rating = r } })) {
                ForEach(Rating.allCases, id: \.self) { Text($0.label()).tag(Optional($0)) }
            }
        }
    }
}
