//! Running tools with the project's PATH, and finding the repository root.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub type Result<T> = std::result::Result<T, String>;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// Where `setup` keeps npm tools (wasm-opt), ignored by git.
pub fn tools_dir() -> PathBuf {
    root().join(".tools")
}

/// PATH with the project's tools first: the npm wasm-opt must win over Debian's, which
/// produces broken modules with current wasm-bindgen.
pub fn path_env() -> String {
    let mut parts = vec![tools_dir().join("node_modules/.bin")];
    if let Some(home) = std::env::var_os("HOME") {
        parts.push(PathBuf::from(home).join(".cargo/bin"));
    }
    let mut path = std::env::join_paths(parts)
        .expect("valid paths")
        .into_string()
        .unwrap_or_default();
    if let Ok(old) = std::env::var("PATH") {
        path.push(':');
        path.push_str(&old);
    }
    path
}

pub fn cmd(program: &str, args: &[&str]) -> Command {
    let mut c = Command::new(program);
    c.args(args).current_dir(root()).env("PATH", path_env());
    c
}

/// Runs a command with inherited output, printing it first.
pub fn exec(mut c: Command) -> Result<()> {
    println!("$ {}", describe(&c));
    let status = c
        .status()
        .map_err(|e| format!("could not run {}: {e}", describe(&c)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({status})", describe(&c)))
    }
}

/// Runs a command, capturing its output, and echoes it as it was.
pub fn run_captured(mut c: Command) -> Result<(bool, String)> {
    println!("$ {}", describe(&c));
    let out: Output = c
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("could not run {}: {e}", describe(&c)))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    print!("{text}");
    Ok((out.status.success(), text))
}

/// The first line a tool prints for `--version`, if it runs at all.
pub fn version_of(program: &str) -> Option<String> {
    let out = cmd(program, &["--version"]).output().ok()?;
    out.status.success().then(|| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or("")
            .to_string()
    })
}

pub fn describe(c: &Command) -> String {
    let mut s = c.get_program().to_string_lossy().to_string();
    for a in c.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// The version of a package recorded in Cargo.lock.
pub fn locked_version(package: &str) -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
    let needle = format!("name = \"{package}\"\nversion = \"");
    let start = lock
        .find(&needle)
        .ok_or_else(|| format!("{package} is not in Cargo.lock"))?
        + needle.len();
    let end = lock[start..].find('"').ok_or("malformed Cargo.lock")? + start;
    Ok(lock[start..end].to_string())
}
