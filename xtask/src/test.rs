//! `cargo xtask test`: every check, in order of cost, then one summary line
//! `N passed, N failed`. Any failure makes the exit code nonzero.

use crate::dist::{build_server, build_widget, ServerProcess};
use crate::setup::{CHROMEDRIVER, CHROMIUM};
use crate::util::{cmd, root, run_captured, Result};
use std::process::ExitCode;

#[derive(Default)]
struct Tally {
    passed: u64,
    failed: u64,
    failures: Vec<String>,
}

impl Tally {
    /// A check without test counts (fmt, clippy, a build) counts as one.
    fn check(&mut self, name: &str, ok: bool) {
        if ok {
            self.passed += 1;
        } else {
            self.failed += 1;
            self.failures.push(name.to_string());
        }
    }

    fn tests(&mut self, name: &str, ok: bool, counts: (u64, u64)) {
        self.passed += counts.0;
        self.failed += counts.1;
        if !ok {
            if counts.1 == 0 {
                // It failed without a failing test (did not build, crashed): still a failure.
                self.failed += 1;
            }
            self.failures.push(name.to_string());
        }
    }
}

/// Sums `test result: ok. N passed; M failed` lines (cargo test, wasm-bindgen-test-runner).
pub fn cargo_counts(output: &str) -> (u64, u64) {
    let mut counts = (0, 0);
    for line in output.lines() {
        if let Some(rest) = line.trim().strip_prefix("test result: ") {
            counts.0 += number_before(rest, " passed");
            counts.1 += number_before(rest, " failed");
        }
    }
    counts
}

/// Reads node's test runner summary (`# pass N`, `# fail N`).
pub fn node_counts(output: &str) -> (u64, u64) {
    let mut counts = (0, 0);
    for line in output.lines() {
        let line = line.trim();
        if let Some(n) = line.strip_prefix("# pass ") {
            counts.0 += n.trim().parse::<u64>().unwrap_or(0);
        } else if let Some(n) = line.strip_prefix("# fail ") {
            counts.1 += n.trim().parse::<u64>().unwrap_or(0);
        }
    }
    counts
}

fn number_before(text: &str, suffix: &str) -> u64 {
    text.find(suffix)
        .and_then(|end| {
            let head = &text[..end];
            let start = head
                .rfind(|c: char| !c.is_ascii_digit())
                .map_or(0, |i| i + 1);
            head[start..].parse().ok()
        })
        .unwrap_or(0)
}

pub fn run(args: &[String]) -> Result<ExitCode> {
    let only_native = args.iter().any(|a| a == "--native");
    let mut tally = Tally::default();

    let (ok, _) = run_captured(cmd("cargo", &["fmt", "--all", "--", "--check"]))?;
    tally.check("cargo fmt --check", ok);

    let (ok, _) = run_captured(cmd(
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    ))?;
    tally.check("cargo clippy", ok);

    let (ok, out) = run_captured(cmd("cargo", &["test", "--workspace"]))?;
    tally.tests("native tests", ok, cargo_counts(&out));

    if !only_native {
        // The embed build (no playground) compiles only for wasm: lint it as it ships.
        let (ok, _) = run_captured(cmd(
            "cargo",
            &[
                "clippy",
                "-p",
                "confab",
                "--no-default-features",
                "--target",
                "wasm32-unknown-unknown",
                "--",
                "-D",
                "warnings",
            ],
        ))?;
        tally.check("cargo clippy (embed build, wasm32)", ok);
        browser_tests(&mut tally)?;
        e2e_tests(&mut tally)?;
    }

    println!();
    for f in &tally.failures {
        println!("FAILED: {f}");
    }
    println!("{} passed, {} failed", tally.passed, tally.failed);
    Ok(if tally.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// wasm-bindgen-test in headless Chromium (flags in webdriver.json).
fn browser_tests(tally: &mut Tally) -> Result<()> {
    let mut c = cmd(
        "cargo",
        &["test", "-p", "confab", "--target", "wasm32-unknown-unknown"],
    );
    c.env("CHROMEDRIVER", CHROMEDRIVER)
        .env("WASM_BINDGEN_TEST_TIMEOUT", "120");
    let (ok, out) = run_captured(c)?;
    tally.tests("browser tests (wasm-bindgen-test)", ok, cargo_counts(&out));
    Ok(())
}

/// Playwright flows against a confab-server started here on a free port.
fn e2e_tests(tally: &mut Tally) -> Result<()> {
    // The versioned, SRI-checked release files too, so the release tests run rather than skip.
    let built = build_widget(true)
        .and_then(|_| {
            crate::release::write_release(&root().join("dist"), env!("CARGO_PKG_VERSION"))
        })
        .and_then(|_| build_server());
    tally.check("release build of widget and server", built.is_ok());
    if let Err(e) = built {
        eprintln!("{e}");
        return Ok(());
    }
    // The transfer-size budgets, on the build the tests below run against.
    let (within, report) =
        crate::sizes::check_budgets(&root().join("dist").join(crate::release::WIDGET_DIR))?;
    if !within {
        println!("size budgets exceeded (brotli -q 11 of dist/widget):\n{report}");
    }
    tally.check("size budgets (cargo xtask sizes)", within);
    // The cross-origin tests host their pages on a second port: the "site", which the
    // server allows as an origin, with one extra endpoint that embed.html may be sent to.
    let site_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port for the test site: {e}"))?;
    let site = format!("http://127.0.0.1:{site_port}");
    let site_endpoint = format!("{site}/v1/chat/completions");
    // Killed when dropped, also when a test step fails.
    let server = ServerProcess::start(&[
        "--demo-delay-ms",
        "5",
        "--allow-origin",
        &site,
        "--embed-endpoint",
        &site_endpoint,
    ])?;
    let artifacts = root().join("e2e/artifacts");
    let _ = std::fs::create_dir_all(&artifacts);
    let mut c = cmd("node", &["--test", "--test-concurrency=1"]);
    c.current_dir(root().join("e2e"))
        .env("CONFAB_URL", server.url())
        .env("CONFAB_SITE_PORT", site_port.to_string())
        .env("CHROMIUM", CHROMIUM)
        .env("ARTIFACTS", &artifacts);
    let (ok, out) = run_captured(c)?;
    tally.tests("end-to-end tests (Playwright)", ok, node_counts(&out));
    drop(server);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cargo_summaries_are_added_up() {
        let out = "test result: ok. 12 passed; 0 failed; 1 ignored\n\
                   test result: FAILED. 3 passed; 2 failed; 0 ignored\n";
        assert_eq!(cargo_counts(out), (15, 2));
    }

    #[test]
    fn node_summaries_are_read() {
        let out = "# tests 7\n# suites 0\n# pass 6\n# fail 1\n# cancelled 0\n";
        assert_eq!(node_counts(out), (6, 1));
    }
}
