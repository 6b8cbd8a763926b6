//! When the server counts as public: a non-loopback `--listen`, and also a loopback one
//! behind a reverse proxy, which `--public-host` (not loopback) or `--trust-forwarded-for`
//! give away. A public proxy needs its limits or `--open-proxy`.

use clap::Parser;
use confab_server::{Args, Config};

fn from_args(list: &[&str]) -> Result<Config, String> {
    let mut v = vec!["confab-server", "--upstream", "https://api.openai.com/v1"];
    v.extend_from_slice(list);
    Config::from_args(Args::try_parse_from(v).unwrap(), |n| {
        (n == "OPENAI_API_KEY").then(|| "sk-x".to_string())
    })
}

const LIMITS: &[&str] = &["--rate-limit", "10", "--max-tokens", "500", "--model", "m"];

#[test]
fn a_proxy_behind_a_reverse_proxy_on_loopback_needs_its_limits_too() {
    for (public, named) in [
        (&["--public-host", "chat.example.com"][..], "--public-host"),
        (&["--trust-forwarded-for"], "--trust-forwarded-for"),
        (
            &[
                "--listen",
                "127.0.0.1:8787",
                "--public-host",
                "chat.example.com:8443",
            ],
            "--public-host",
        ),
        (&["--listen", "0.0.0.0:8787"], "--listen"),
    ] {
        let err = from_args(public).unwrap_err();
        assert!(!err.contains('\n'), "{err}");
        for flag in [
            named,
            "--rate-limit",
            "--max-tokens",
            "--model",
            "--open-proxy",
        ] {
            assert!(err.contains(flag), "{public:?}: {flag} missing from {err}");
        }
        assert!(from_args(&[public, LIMITS].concat()).is_ok(), "{public:?}");
        assert!(from_args(&[public, &["--open-proxy"]].concat()).is_ok());
    }
}

#[test]
fn a_loopback_proxy_for_this_machine_alone_needs_no_limits() {
    for local in [
        &[][..],
        &["--public-host", "localhost:8787"],
        &["--public-host", "127.0.0.1:8787"],
        &["--public-host", "[::1]"],
    ] {
        assert!(from_args(local).is_ok(), "{local:?}");
    }
    // The demo model has no key to spend.
    let demo = Args::try_parse_from(["confab-server", "--trust-forwarded-for"]).unwrap();
    assert!(Config::from_args(demo, |_| None).is_ok());
}
