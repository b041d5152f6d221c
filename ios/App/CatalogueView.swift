import Doorstep
import DoorstepKit
import SwiftUI

/// The catalogue (事项清单): search by name or pinyin initials, read an item, open a job of it.
struct CatalogueView: View {
    @State var model: CatalogueModel
    let memberId: String
    let repo: DoorstepRepository
    @State private var query = ""

    var body: some View {
        List {
            if let item = model.state.chosen {
                Section(item.name) {
                    Text("办结时限：\(item.timeLimitDays) 个工作日 · \(item.tier.label())")
                    ForEach(item.materials, id: \.name) { material in
                        Text("\(material.name)\(material.key ? "（要件）" : "（可容缺）")")
                    }
                    ForEach(item.modes, id: \.self) { mode in
                        Button("以“\(mode.label())”方式办件") {
                            Task { await model.openJob(memberId: memberId, mode: mode, urgency: .amber) }
                        }
                    }
                    if let jobId = model.state.openedJobId {
                        NavigationLink("下一步：受理") { JobStepView(model: JobStepModel(repo: repo, jobId: jobId)) }
                    }
                }
            }
            if let error = model.state.error { Text(error).foregroundStyle(.red) }
            ForEach(model.state.results, id: \.code) { item in
                Button(item.name) { model.choose(item) }
            }
        }
        .searchable(text: $query, prompt: "事项名称或拼音首字母")
        .onChange(of: query) { _, text in model.search(text) }
        .onAppear { model.search(query) }
        .navigationTitle("事项清单")
    }
}
