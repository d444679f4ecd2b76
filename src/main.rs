fn main() -> std::process::ExitCode {
    couplet::cli::main()
}
