import DoorstepKit
import SwiftUI

/// Sync on request: a progress bar while it runs, then the status and the last error.
struct SyncView: View {
    @State var model: SyncModel

    var body: some View {
        Form {
            Section {
                Text(model.state.statusLine)
                if model.state.running {
                    if let fraction = model.state.fraction { ProgressView(value: fraction) } else { ProgressView() }
                    Button("停止同步", role: .cancel) { model.cancelSync() }
                } else {
                    Button("立即同步") { Task { await model.syncNow() } }
                }
                Text(model.state.progressText).font(.caption)
            }
            if let result = model.state.result { Text(result) }
            if let error = model.state.error ?? model.state.status?.lastError {
                Section("上次同步出错") { Text(error).foregroundStyle(.red) }
            }
        }
        .navigationTitle("同步")
        .task { await model.refreshStatus() }
    }
}
