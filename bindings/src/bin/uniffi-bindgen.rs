//! The uniffi code generator, built from the same uniffi version as the library:
//! `uniffi-bindgen generate --library <libdoorstep_ffi.so> --language kotlin ...`.

fn main() {
    uniffi::uniffi_bindgen_main()
}
