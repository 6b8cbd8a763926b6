//! Project tasks: `cargo xtask setup | serve | test | dist | bench`.

mod bench;
mod dist;
mod release;
mod setup;
mod sizes;
mod test;
mod toolchain;
mod util;
mod wasm_parts;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

  setup   install what the build and tests need (idempotent)
  serve   build the widget and run confab-server with the offline demo model on :8787
  test    fmt, clippy, native tests, browser tests and end-to-end tests
  dist    release build into dist/ with versioned files, SRI hashes and a size table
  sizes   release build: transfer sizes against the budgets, and what the wasm is made of
          [--dist DIR] [--no-build]
  bench   sizes, decoder throughput, proxy overhead and streaming cost";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup::run(),
        Some("serve") => setup::run().and_then(|_| dist::serve(&args[1..])),
        Some("test") => setup::run().and_then(|_| test::run(&args[1..])),
        Some("dist") => setup::run().and_then(|_| dist::run(&args[1..])),
        Some("sizes") => setup::run().and_then(|_| sizes::run(&args[1..])),
        Some("bench") => setup::run().and_then(|_| bench::run()),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
