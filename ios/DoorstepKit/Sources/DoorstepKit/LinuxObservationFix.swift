#if os(Linux) && compiler(<6.2)
/// Swift 6.0's Observation library on Linux calls `swift::threading::fatal`, which the shared
/// standard library does not export, so anything using `@Observable` fails to link
/// (swiftlang/swift#75670, fixed in Swift 6.2). This defines it, as the fixed library does.
@_cdecl("_ZN5swift9threading5fatalEPKcz")
func swiftThreadingFatal(_ message: UnsafePointer<CChar>) -> Never {
    fatalError(String(cString: message))
}
#endif
