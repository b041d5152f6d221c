import Doorstep
import DoorstepKit
import Foundation

/// The sync server binary the test script built (`DOORSTEP_SERVER`).
private func serverBinary() throws -> URL {
    guard let path = ProcessInfo.processInfo.environment["DOORSTEP_SERVER"] else {
        throw NSError(domain: "TestServer", code: 0, userInfo: [
            NSLocalizedDescriptionKey: "run with DOORSTEP_SERVER=<path of doorstep-sync-server> (scripts/swift-test.sh does)",
        ])
    }
    return URL(fileURLWithPath: path)
}

/// A fresh temporary folder.
func temporaryFolder(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A real sync server process on 127.0.0.1 with the seeded demo town (6 villages), in a
/// temporary data folder that is deleted on `close`.
final class TestServer {
    /// The village most tests work in, and its two users.
    static let village = "sanzhang-v01"
    static let agent = "sanzhang-v01-agent"
    static let head = "sanzhang-v01-head"

    private let data: URL
    private let process = Process()
    /// The server's base address.
    let url: String

    init(seed: Int = 7) throws {
        data = try temporaryFolder("doorstep-server")
        process.executableURL = try serverBinary()
        process.arguments = ["demo", "--listen", "127.0.0.1:0", "--data", data.path, "--seed", "\(seed)"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        var seen = ""
        var started: String?
        while started == nil {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
            started = try seen.firstMatch(of: Regex(#"已启动：(http://\S+)"#))?.output[1].substring.map(String.init)
        }
        guard let started else {
            process.terminate()
            throw NSError(domain: "TestServer", code: 1, userInfo: [NSLocalizedDescriptionKey: "the demo server stopped before it started: \(seen)"])
        }
        url = started
        // Keeps reading so the server never blocks on a full pipe.
        output.fileHandleForReading.readabilityHandler = { _ = $0.availableData }
    }

    /// A one-time enrolment code for a user, from the admin command.
    func issueCode(_ userId: String) throws -> String {
        let admin = Process()
        admin.executableURL = try serverBinary()
        admin.arguments = ["admin", "--data", data.path, "issue-code", "--user", userId]
        let output = Pipe()
        admin.standardOutput = output
        admin.standardError = output
        try admin.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        admin.waitUntilExit()
        guard admin.terminationStatus == 0, let code = try text.firstMatch(of: Regex(#"登记码 (\S+)（"#))?.output[1].substring else {
            throw NSError(domain: "TestServer", code: 2, userInfo: [NSLocalizedDescriptionKey: "admin failed: \(text)"])
        }
        return String(code)
    }

    func close() {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: data)
    }
}

/// A key held in memory, as the Keychain would hand it out.
final class FixedKey: DatabaseKey {
    let key: Data
    init(_ key: Data) { self.key = key }
    func databaseKey() throws -> Data { key }
}

/// A phone: an encrypted store in a temporary file, deleted on `close`.
final class TestPhone {
    let key = Data((0..<32).map { _ in UInt8.random(in: 0...255) })
    private let folder: URL
    /// The store file.
    let path: String
    /// The open store.
    let store: DoorstepStore

    init() throws {
        folder = try temporaryFolder("doorstep-phone")
        path = folder.appendingPathComponent("phone.db").path
        store = try DoorstepStore.open(path: path, key: FixedKey(key))
    }

    /// The app's repository over this phone's store.
    func repository(_ serverURL: String) -> DoorstepRepository {
        DoorstepRepository(store: store, server: SyncServer(url: serverURL, trustedCertificates: []))
    }

    func close() { try? FileManager.default.removeItem(at: folder) }
}

/// `date` (`YYYY-MM-DD`) moved by `days`.
func adding(_ days: Int, to date: CalendarDate) -> CalendarDate {
    let format = DateFormatter()
    format.dateFormat = "yyyy-MM-dd"
    format.timeZone = TimeZone(identifier: "UTC")
    let day = format.date(from: date)!
    return format.string(from: day.addingTimeInterval(TimeInterval(days * 86_400)))
}
