//! `doorstep-ffi`: the uniffi layer over `doorstep-core` for Kotlin and Swift. Not built yet:
//! it is the work of the bindings issue.
