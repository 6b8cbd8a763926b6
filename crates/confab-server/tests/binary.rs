//! The `confab-server` binary as test harnesses run it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_confab-server");

#[test]
fn prints_the_bound_address_first_and_serves_the_demo() {
    let mut child = Command::new(BIN)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--static-dir",
            "/nonexistent-confab-dist",
            "--demo-delay-ms",
            "5",
        ])
        .env_remove("CONFAB_UPSTREAM")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let first = first_stdout_line(&mut child);
    let addr = first
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string();
    assert!(!addr.ends_with(":0"));

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let health = rt.block_on(async {
        let c = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        c.get(format!("http://{addr}/healthz"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    assert!(health.contains("demo"), "{health}");

    // SIGTERM stops it cleanly.
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = wait_for(&mut child, Duration::from_secs(10));
    assert_eq!(status, Some(0));
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(err.contains("demo model"), "{err}");
}

fn first_stdout_line(child: &mut std::process::Child) -> String {
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    first
}

fn wait_for(child: &mut std::process::Child, limit: Duration) -> Option<i32> {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if let Some(s) = child.try_wait().unwrap() {
            return s.code();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    None
}

fn one_line_error(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove("OPENAI_API_KEY")
        .env_remove("CONFAB_UPSTREAM");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    err
}

#[test]
fn bad_configuration_stops_with_one_clear_line() {
    let err = one_line_error(&["--upstream", "https://api.openai.com/v1"], &[]);
    assert!(err.contains("OPENAI_API_KEY"), "{err}");
    let err = one_line_error(
        &["--upstream", "https://x/v1", "--api-key-env", "MY_KEY"],
        &[("MY_KEY", "")],
    );
    assert!(err.contains("MY_KEY"), "{err}");
    let err = one_line_error(&["--upstream", "not a url"], &[("OPENAI_API_KEY", "k")]);
    assert!(err.contains("--upstream"), "{err}");
    let err = one_line_error(&["--listen", "nowhere"], &[]);
    assert!(err.contains("--listen"), "{err}");
    let err = one_line_error(&["--no-such-flag"], &[]);
    assert!(err.contains("--no-such-flag"), "{err}");
}

#[test]
fn a_public_proxy_without_limits_is_refused_naming_the_flags_to_add() {
    let key = [("OPENAI_API_KEY", "sk-x")];
    let err = one_line_error(
        &[
            "--listen",
            "0.0.0.0:0",
            "--upstream",
            "https://api.openai.com/v1",
        ],
        &key,
    );
    for flag in [
        "--rate-limit",
        "--max-tokens",
        "--model",
        "--allowed-models",
        "--open-proxy",
    ] {
        assert!(err.contains(flag), "{flag} missing from {err}");
    }
    // Only what is still missing is named.
    let err = one_line_error(
        &[
            "--listen",
            "0.0.0.0:0",
            "--upstream",
            "https://api.openai.com/v1",
            "--rate-limit",
            "10",
            "--model",
            "gpt-4o-mini",
        ],
        &key,
    );
    assert!(
        err.contains("--max-tokens") && !err.contains("--rate-limit N"),
        "{err}"
    );
    let err = one_line_error(&["--embed-endpoint", "/v1/chat/completions"], &[]);
    assert!(err.contains("--embed-endpoint"), "{err}");
    let err = one_line_error(&["--system-prompt", "@/nonexistent/prompt.txt"], &[]);
    assert!(err.contains("--system-prompt"), "{err}");
}

#[test]
fn a_public_proxy_starts_with_its_limits_or_with_open_proxy() {
    for extra in [
        &[
            "--rate-limit",
            "10",
            "--max-tokens",
            "500",
            "--allowed-models",
            "a,b",
        ][..],
        &["--open-proxy"],
    ] {
        let mut child = Command::new(BIN)
            .args([
                "--listen",
                "0.0.0.0:0",
                "--upstream",
                "https://api.openai.com/v1",
            ])
            .args(extra)
            .env("OPENAI_API_KEY", "sk-x")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let first = first_stdout_line(&mut child);
        assert!(
            first.starts_with("listening on http://0.0.0.0:"),
            "{extra:?}: {first}"
        );
        let _ = child.kill();
        let _ = child.wait();
    }
}
