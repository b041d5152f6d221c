import Doorstep

extension Error {
    /// The sentence a screen shows for a failure. The core's errors carry their fields (which
    /// input, which rule) and say in Chinese, as their `description` (the Rust `Display` the
    /// bindings export), what is wrong and what to do; a key the app could not supply arrives
    /// as `CoreError.KeyUnavailable`. Anything else is an app fault to report.
    public var userMessage: String {
        switch self {
        case let error as CoreError: error.description
        case let error as SyncError: error.description
        case let error as KeyError: error.description
        default: "应用出错：\(self)。数据未丢失，请重试；如反复出现请联系镇便民服务中心"
        }
    }
}

/// The core's reason why `text` fails `check`, or nil when it passes or is still empty.
func problem(_ text: String, _ check: (String) throws -> String) -> String? {
    if text.trimmingCharacters(in: .whitespaces).isEmpty { return nil }
    do {
        _ = try check(text)
        return nil
    } catch {
        return error.userMessage
    }
}
