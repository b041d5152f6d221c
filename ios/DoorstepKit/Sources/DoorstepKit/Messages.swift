import Doorstep

extension Error {
    /// The sentence a screen shows for a failure. The core's errors already say, in Chinese,
    /// what is wrong and what to do (a key the app could not supply arrives as
    /// `CoreError.KeyUnavailable`); anything else is an app fault to report.
    public var userMessage: String {
        switch self {
        case let error as CoreError: coreMessage(error)
        case let error as SyncError: coreMessage(error)
        default: "应用出错：\(self)。数据未丢失，请重试；如反复出现请联系镇便民服务中心"
        }
    }
}

/// The Chinese message a core error carries: every case of the bindings' flat errors holds
/// just `message` (the case's payload, seen as a one-element tuple).
private func coreMessage(_ error: Error) -> String {
    let payload = Mirror(reflecting: error).children.first?.value
    let message = payload.flatMap { $0 as? String ?? Mirror(reflecting: $0).children.first?.value as? String }
    return message ?? "操作失败，请重试"
}
