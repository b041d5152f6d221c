# Sourced by the test scripts (test.sh, bindings.sh, kotlin-test.sh, swift-test.sh): the one
# feature set every workspace build in them uses. The `cli` feature of doorstep-ffi (the
# uniffi-bindgen binary) is always on, so that the test build, uniffi-bindgen, the library the
# Kotlin and Swift tests load and the server they start are one build: a build with another
# feature set gives uniffi other features, and so recompiles uniffi, the core and every crate
# over the core. (The feature only adds the generator binary and its dependencies; the library's
# exported functions are the same. The phones' release libraries are built with -p doorstep-ffi.)
# shellcheck disable=SC2034
WORKSPACE=(--workspace --features doorstep-ffi/cli)
# What the scripts build with `cargo build` (the library, uniffi-bindgen, the server) is built with
# these too: `cargo build` without a test target resolves features without the dev-dependencies,
# and then chrono, rand_chacha, regex and others get other features than in the test build, so
# they, the core and everything over it are compiled a second time. With --tests the resolution
# is the test build's; after scripts/test.sh's build this adds nothing to build.
# shellcheck disable=SC2034
AS_TESTED=(--tests)
