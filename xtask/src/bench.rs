//! `cargo xtask bench`: prints figures, never asserts times (the machines are shared).

use crate::sizes::{kb, print_table, row_for, size_rows};
use crate::util::{cmd, exec, root, Result};
use std::process::ExitCode;

/// A plain `fn main` program under a crate's `examples/`, built in release mode.
fn run_example(package: &str, example: &str, args: &[&str]) -> Result<()> {
    let mut all = vec![
        "run",
        "--release",
        "-q",
        "-p",
        package,
        "--example",
        example,
    ];
    if !args.is_empty() {
        all.push("--");
        all.extend_from_slice(args);
    }
    exec(cmd("cargo", &all))
}

pub fn run() -> Result<ExitCode> {
    crate::dist::build_widget(true)?;
    println!("\n== bundle sizes (dist/) ==");
    let dist = root().join("dist");
    print_table(&size_rows(&dist)?);
    let brotli_of = |files: &[&str]| -> usize {
        files
            .iter()
            .filter_map(|f| row_for(&dist.join(f), f.to_string()).ok())
            .map(|r| r.brotli)
            .sum()
    };
    println!(
        "embed loader public/embed.js (brotli): {} (budget 5.0 KB; all a page loads before interest)",
        kb(brotli_of(&["public/embed.js"]))
    );
    let (_, report) = crate::sizes::check_budgets(&dist.join(crate::release::WIDGET_DIR))?;
    print!("{report}");
    println!(
        "highlighter module, loaded with the first code block (brotli): {}",
        kb(brotli_of(&[
            "widget/confab-highlight.js",
            "widget/confab-highlight_bg.wasm"
        ]))
    );
    println!("(`cargo xtask sizes` shows what the wasm is made of)");
    println!(
        "playground page, boot + glue + wasm + CSS (brotli): {}",
        kb(brotli_of(&[
            "public/boot.js",
            "confab.js",
            "confab_bg.wasm",
            "confab.css",
            "page.css",
            "playground.css"
        ]))
    );

    println!("\n== SSE decoder throughput ==");
    run_example("confab-core", "sse_bench", &[])?;
    println!("\n== proxy overhead ==");
    run_example("confab-server", "proxy_bench", &[])?;
    println!("\n== in the browser (headless Chromium, demo model) ==");
    crate::dist::build_server()?;
    let server = crate::dist::ServerProcess::start(&[])?;
    let long = std::env::temp_dir().join("confab-bench-1000-messages.json");
    let long_arg = long.to_string_lossy().into_owned();
    run_example("confab-core", "long_conversation", &[&long_arg])?;
    let mut node = cmd("node", &["bench.mjs"]);
    node.current_dir(root().join("e2e"))
        .env("LONG_CONVERSATION", &long)
        .env("CONFAB_URL", server.url())
        .env("CHROMIUM", crate::setup::CHROMIUM);
    exec(node)?;
    drop(server);
    Ok(ExitCode::SUCCESS)
}
