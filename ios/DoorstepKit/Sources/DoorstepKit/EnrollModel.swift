import Doorstep
import Observation

/// The enrolment screen: the one-time code being typed and how enrolling went.
public struct EnrollState: Equatable, Sendable {
    public var code = ""
    public var working = false
    public var enrolledAs: User?
    public var error: String?
}

/// Enrols the phone with the one-time code hub staff gave the agent (8 characters, valid for
/// 24 hours, single use); the store then signs the agent in.
@MainActor @Observable
public final class EnrollModel {
    public private(set) var state = EnrollState()
    private let repo: DoorstepRepository
    private let deviceName: String

    public init(repo: DoorstepRepository, deviceName: String) {
        self.repo = repo
        self.deviceName = deviceName
    }

    /// The server the phone enrols with, shown small on the screen.
    public var serverURL: String { repo.server.url }

    /// Changes the code being typed (codes are upper-case letters and digits).
    public func editCode(_ text: String) {
        state.code = text.uppercased()
        state.error = nil
    }

    /// Sends the code; on success `state.enrolledAs` is the signed-in agent.
    public func enroll() async {
        guard !state.code.trimmingCharacters(in: .whitespaces).isEmpty else {
            state.error = "请输入镇便民服务中心给您的登记码"
            return
        }
        state.working = true
        state.error = nil
        do {
            state.enrolledAs = try await repo.enroll(code: state.code, deviceName: deviceName)
        } catch {
            state.error = error.userMessage
        }
        state.working = false
    }
}
