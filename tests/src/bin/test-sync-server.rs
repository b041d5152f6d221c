//! The sync server's command line, built inside this package so that its integration tests
//! start a real server process (`CARGO_BIN_EXE_test-sync-server`) that is always up to date.

fn main() -> std::process::ExitCode {
    doorstep_sync_server::cli::main()
}
