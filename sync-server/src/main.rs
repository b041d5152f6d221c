//! `doorstep-sync-server`: see `doorstep-sync-server --help`.

fn main() -> std::process::ExitCode {
    doorstep_sync_server::cli::main()
}
