import Doorstep
import DoorstepKit
import SwiftUI

/// Records a visit to a household (a planned one, or one made on the way); the store checks it.
struct VisitView: View {
    @State var model: VisitModel

    var body: some View {
        Form {
            TextField("走访事由", text: Binding(get: { model.state.form.purpose }, set: { t in model.edit { $0.purpose = t } }))
            Picker("走访结果", selection: Binding(get: { model.state.form.outcome }, set: { o in model.edit { $0.outcome = o } })) {
                ForEach(model.state.outcomes, id: \.self) { Text($0.label()).tag($0) }
            }
            TextField("情况记录", text: Binding(get: { model.state.form.notes }, set: { t in model.edit { $0.notes = t } }), axis: .vertical)
            if let error = model.state.error { Text(error).foregroundStyle(.red) }
            Button(model.state.savedVisitId == nil ? "保存" : "已保存") { Task { await model.save() } }
                .disabled(model.state.saving || model.state.savedVisitId != nil)
        }
        .navigationTitle("记录走访")
    }
}
