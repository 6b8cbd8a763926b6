//! `cargo xtask setup`: installs what is missing, idempotently, saying what it does.
//! Only package registries are used (crates.io, npm, Debian): nothing downloads a binary.

use crate::util::{cmd, exec, locked_version, root, tools_dir, version_of, Result};
use std::path::Path;
use std::process::ExitCode;

pub const TRUNK_VERSION: &str = "0.21.14";
pub const BINARYEN_VERSION: &str = "132.0.0";
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Debian's `fonts-noto-cjk`: without it Chromium draws Chinese as boxes in screenshots.
const CJK_FONT: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";

fn step(name: &str, done: bool) {
    println!(
        "setup: {name} {}",
        if done {
            "is ready"
        } else {
            "is missing, installing"
        }
    );
}

pub fn run() -> Result<ExitCode> {
    wasm_target()?;
    crate::toolchain::setup()?;
    trunk()?;
    wasm_bindgen_cli()?;
    wasm_opt()?;
    chromium()?;
    redis()?;
    e2e_packages()?;
    Ok(ExitCode::SUCCESS)
}

fn wasm_target() -> Result<()> {
    let out = cmd("rustup", &["target", "list", "--installed"])
        .output()
        .map_err(|e| format!("rustup is needed: {e}"))?;
    let ready = String::from_utf8_lossy(&out.stdout).contains("wasm32-unknown-unknown");
    step("the wasm32-unknown-unknown target", ready);
    if !ready {
        exec(cmd("rustup", &["target", "add", "wasm32-unknown-unknown"]))?;
    }
    Ok(())
}

fn trunk() -> Result<()> {
    let ready = version_of("trunk").is_some_and(|v| v.contains(TRUNK_VERSION));
    step(&format!("trunk {TRUNK_VERSION}"), ready);
    if !ready {
        println!("setup: building trunk takes about 10 minutes on 2 cores");
        exec(cmd(
            "cargo",
            &["install", "trunk", "--version", TRUNK_VERSION, "--locked"],
        ))?;
    }
    Ok(())
}

fn wasm_bindgen_cli() -> Result<()> {
    let version = locked_version("wasm-bindgen")?;
    let ready = version_of("wasm-bindgen").is_some_and(|v| v.ends_with(&version))
        && version_of("wasm-bindgen-test-runner").is_some();
    step(&format!("wasm-bindgen-cli {version}"), ready);
    if !ready {
        // Not --locked: its lock file names a crate version the registry lacks.
        exec(cmd(
            "cargo",
            &[
                "install",
                "wasm-bindgen-cli",
                "--version",
                &version,
                "--force",
            ],
        ))?;
    }
    Ok(())
}

fn wasm_opt() -> Result<()> {
    let bin = tools_dir().join("node_modules/.bin/wasm-opt");
    let ready = bin.exists()
        && version_of(bin.to_str().unwrap_or_default())
            .is_some_and(|v| v.contains(&BINARYEN_VERSION[..3]));
    step(
        &format!("wasm-opt (npm binaryen@{BINARYEN_VERSION})"),
        ready,
    );
    if !ready {
        std::fs::create_dir_all(tools_dir()).map_err(|e| e.to_string())?;
        let prefix = tools_dir();
        exec(cmd(
            "npm",
            &[
                "install",
                "--no-audit",
                "--no-fund",
                "--prefix",
                prefix.to_str().unwrap_or(".tools"),
                &format!("binaryen@{BINARYEN_VERSION}"),
            ],
        ))?;
    }
    Ok(())
}

fn chromium() -> Result<()> {
    let ready = [CHROMIUM, CHROMEDRIVER, CJK_FONT]
        .iter()
        .all(|p| Path::new(p).exists());
    step("Chromium, chromedriver and a CJK font", ready);
    if ready {
        return Ok(());
    }
    apt_install(
        &["chromium", "chromium-driver", "fonts-noto-cjk"],
        &format!(
            "Chromium (expected {CHROMIUM} and {CHROMEDRIVER}) is needed for the browser tests"
        ),
    )
}

/// Debian's `redis-server`: the confab-server tests run instances that share limits in it.
fn redis() -> Result<()> {
    let ready = Path::new("/usr/bin/redis-server").exists();
    step("redis-server", ready);
    if ready {
        return Ok(());
    }
    apt_install(
        &["redis-server"],
        "redis-server is needed for the confab-server tests",
    )
}

/// Installs Debian `packages` as root; elsewhere, says `why` and the command to run.
fn apt_install(packages: &[&str], why: &str) -> Result<()> {
    let is_root = cmd("id", &["-u"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !is_root || !Path::new("/usr/bin/apt-get").exists() {
        return Err(format!(
            "{why}. Install Debian's packages as root: apt-get update && apt-get install -y {}",
            packages.join(" ")
        ));
    }
    exec(cmd("apt-get", &["update"]))?;
    let mut args = vec!["install", "-y", "--no-install-recommends"];
    args.extend_from_slice(packages);
    let mut install = cmd("apt-get", &args);
    install.env("DEBIAN_FRONTEND", "noninteractive");
    exec(install)
}

fn e2e_packages() -> Result<()> {
    let dir = root().join("e2e");
    let ready = ["playwright-core", "axe-core"].iter().all(|p| {
        dir.join("node_modules")
            .join(p)
            .join("package.json")
            .exists()
    });
    step("the e2e npm packages (playwright-core, axe-core)", ready);
    if !ready {
        let mut c = cmd("npm", &["ci", "--no-audit", "--no-fund"]);
        c.current_dir(dir);
        exec(c)?;
    }
    Ok(())
}
