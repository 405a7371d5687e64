//! The `gauntlet` binary: all of it lives in the library; see `gauntlet --help`.

fn main() -> std::process::ExitCode {
    gauntlet::cli::main()
}
