//! The widget's release wasm is compiled with a nightly toolchain (only that build: stable
//! stays the default for everything else, and there is no `rust-toolchain` file): std is
//! rebuilt with the size profile, panics abort at once (no formatting machinery, no
//! messages) and carry no source locations. About a third of the widget's bytes.
//!
//! Trunk runs `cargo` itself and passes its environment on, so the choice is made through
//! the environment: `RUSTUP_TOOLCHAIN` picks the toolchain, `CARGO_UNSTABLE_BUILD_STD` is
//! `-Z build-std`, and the wasm target's `RUSTFLAGS` carry the panic strategy. Its own target
//! directory keeps these artifacts apart from the stable ones.

use crate::util::{cmd, Result};
use std::path::PathBuf;
use std::process::Command;

/// The nightly the size build is verified with (rustc 1.97.0-nightly e50aa6fba 2026-05-19).
/// `cargo xtask setup` installs it with rust-src and the wasm target; move it forward on
/// purpose, with `cargo xtask test`, never by accident.
pub const NIGHTLY: &str = "nightly-2026-05-20";

/// The flags for the wasm target. `-Cpanic=immediate-abort` is what recent nightlies made of
/// the `panic_immediate_abort` std feature (rust-lang/rust#146317).
pub const NIGHTLY_RUSTFLAGS: &str =
    "-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none";

/// Where cargo puts its artifacts (the shared `CARGO_TARGET_DIR` if set).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::util::root().join("target"))
}

/// The target directory of the nightly size build.
pub fn nightly_target_dir() -> PathBuf {
    target_dir().join("size-nightly")
}

/// Whether the nightly with rust-src and the wasm target is installed.
pub fn nightly_ready() -> bool {
    let toolchain = format!("+{NIGHTLY}");
    let listed = |args: &[&str], want: &str| {
        cmd("rustup", args)
            .output()
            .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains(want))
    };
    cmd("rustc", &[&toolchain, "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
        && listed(
            &["component", "list", "--installed", "--toolchain", NIGHTLY],
            "rust-src",
        )
        && listed(
            &["target", "list", "--installed", "--toolchain", NIGHTLY],
            "wasm32-unknown-unknown",
        )
}

/// The nightly's version line, for the build log.
pub fn nightly_version() -> String {
    cmd("rustc", &[&format!("+{NIGHTLY}"), "--version"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// Points a `trunk build` at the nightly size build.
pub fn use_nightly(c: &mut Command) {
    c.env("RUSTUP_TOOLCHAIN", NIGHTLY)
        .env("CARGO_UNSTABLE_BUILD_STD", "std,panic_abort")
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
            NIGHTLY_RUSTFLAGS,
        )
        .env("CARGO_TARGET_DIR", nightly_target_dir());
}

/// `cargo xtask setup`'s step: the nightly, rust-src and the wasm target through rustup.
pub fn setup() -> Result<()> {
    let ready = nightly_ready();
    println!(
        "setup: the {NIGHTLY} toolchain with rust-src and wasm32 (the widget's size build) {}",
        if ready {
            "is ready"
        } else {
            "is missing, installing"
        }
    );
    if ready {
        return fetch_std_deps();
    }
    let installed = crate::util::exec(cmd(
        "rustup",
        &[
            "toolchain",
            "install",
            NIGHTLY,
            "--profile",
            "minimal",
            "--component",
            "rust-src",
            "--target",
            "wasm32-unknown-unknown",
        ],
    ));
    if let Err(e) = installed {
        // Not fatal: the release build then uses stable and says so.
        println!("setup: warning: {e}; the widget's release build will use stable (larger)");
        return Ok(());
    }
    fetch_std_deps()
}

/// `-Z build-std` compiles std's own dependencies, and Trunk builds `--offline`: they must be
/// in cargo's cache already. Quick when they are.
fn fetch_std_deps() -> Result<()> {
    let out = cmd("rustc", &[&format!("+{NIGHTLY}"), "--print", "sysroot"])
        .output()
        .map_err(|e| format!("rustc +{NIGHTLY}: {e}"))?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let manifest = sysroot.join("lib/rustlib/src/rust/library/Cargo.toml");
    let manifest = manifest.to_string_lossy();
    let fetched = cmd(
        "cargo",
        &[
            &format!("+{NIGHTLY}"),
            "fetch",
            "-q",
            "--manifest-path",
            &manifest,
        ],
    )
    .status();
    if !fetched.is_ok_and(|s| s.success()) {
        println!("setup: warning: could not fetch std's dependencies for {NIGHTLY}; the widget's release build may fall back to stable");
    }
    Ok(())
}
