import Doorstep
import DoorstepKit
import SwiftUI

/// The app: opens the encrypted store once (key from the Keychain), builds the repository,
/// registers background sync, and shows enrolment until the phone is enrolled.
@main
struct DoorstepApp: App {
    @Environment(\.scenePhase) private var phase
    private let opened: Result<DoorstepRepository, Error>

    init() {
        opened = Result {
            let folder = try FileManager.default.url(
                for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true)
            let store = try DoorstepStore.open(
                path: folder.appendingPathComponent("doorstep.db").path, key: KeychainKey())
            let server = Bundle.main.object(forInfoDictionaryKey: "DoorstepSyncServer") as? String ?? ""
            return DoorstepRepository(store: store, server: SyncServer(url: server, trustedCertificates: []))
        }
        if case let .success(repo) = opened { BackgroundSync.register(repo) }
    }

    var body: some Scene {
        WindowGroup {
            switch opened {
            case let .success(repo): RootView(repo: repo)
            case let .failure(error): ContentUnavailableView("无法打开本机数据", systemImage: "lock",
                                                             description: Text(error.userMessage))
            }
        }
        .onChange(of: phase) { _, now in
            if now == .background { BackgroundSync.schedule() }
        }
    }
}

/// Enrolment first; then the tabs of an agent's day.
struct RootView: View {
    let repo: DoorstepRepository
    @State private var enrolled: Bool?

    var body: some View {
        Group {
            switch enrolled {
            case nil: ProgressView()
            case false?: EnrollView(model: EnrollModel(repo: repo, deviceName: UIDevice.current.name)) { enrolled = true }
            case true?:
                TabView {
                    NavigationStack { TodayView(model: TodayModel(repo: repo), repo: repo) }
                        .tabItem { Label("今日工作", systemImage: "checklist") }
                    NavigationStack { SearchView(model: SearchModel(repo: repo), repo: repo) }
                        .tabItem { Label("查找", systemImage: "magnifyingglass") }
                    NavigationStack { DeliveriesView(model: DeliveriesModel(repo: repo)) }
                        .tabItem { Label("送达", systemImage: "shippingbox") }
                    NavigationStack { HandUpView(model: HandUpModel(repo: repo)) }
                        .tabItem { Label("转办", systemImage: "arrow.up.doc") }
                    NavigationStack { SyncView(model: SyncModel(repo: repo)) }
                        .tabItem { Label("同步", systemImage: "arrow.triangle.2.circlepath") }
                }
            }
        }
        .task { enrolled = await repo.currentUser() != nil }
    }
}
