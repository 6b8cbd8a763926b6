//! Building the widget and the server, running the server, and `cargo xtask dist`.

use crate::sizes::{print_table, size_rows};
use crate::util::{cmd, exec, root, Result};
use std::io::{BufRead, BufReader};
use std::process::{Child, ExitCode, Stdio};
use std::time::{Duration, Instant};

pub fn build_widget(release: bool) -> Result<Built> {
    build_widget_into(release, &root().join("dist"))
}

/// What a widget build used.
pub struct Built {
    /// The nightly size build (see `toolchain.rs`), else stable.
    pub nightly: bool,
}

impl Built {
    /// The cargo output (before wasm-bindgen and wasm-opt) of the last Trunk build: the
    /// embed build's, which goes second.
    pub fn raw_wasm(&self, name: &str) -> std::path::PathBuf {
        let dir = if self.nightly {
            crate::toolchain::nightly_target_dir()
        } else {
            crate::toolchain::target_dir()
        };
        dir.join("wasm32-unknown-unknown/release")
            .join(format!("{name}.wasm"))
    }
}

/// The playground page into `dist`, then the embeddable widget (no playground) into
/// `dist/widget`, in that order: Trunk empties its output folder first. A release build
/// compiles the wasm with the pinned nightly (smaller); if that toolchain is missing or its
/// build fails, it builds with stable and warns, so there is always a working widget.
pub fn build_widget_into(release: bool, dist: &std::path::Path) -> Result<Built> {
    let mut nightly = release && crate::toolchain::nightly_ready();
    if release && !nightly {
        println!(
            "warning: the {} toolchain (with rust-src and wasm32) is missing: building the widget \
             with stable, which is larger (cargo xtask setup installs it)",
            crate::toolchain::NIGHTLY
        );
    } else if nightly {
        println!(
            "building the widget's wasm with {} for size",
            crate::toolchain::nightly_version()
        );
    }
    if let Err(e) = trunk_builds(release, nightly, dist) {
        if !nightly {
            return Err(e);
        }
        println!(
            "warning: the nightly size build failed ({e}); building the widget with stable \
             instead, which is larger"
        );
        nightly = false;
        trunk_builds(release, nightly, dist)?;
    }
    let loader = dist.join("public/embed.js");
    let source =
        std::fs::read_to_string(&loader).map_err(|e| format!("{}: {e}", loader.display()))?;
    std::fs::write(&loader, strip_loader(&source))
        .map_err(|e| format!("{}: {e}", loader.display()))?;
    Ok(Built { nightly })
}

fn trunk_builds(release: bool, nightly: bool, dist: &std::path::Path) -> Result<()> {
    let dist_arg = dist.to_string_lossy().into_owned();
    let widget_arg = dist.join("widget").to_string_lossy().into_owned();
    for (html, out) in [("index.html", &dist_arg), ("widget.html", &widget_arg)] {
        let mut args = vec!["build", html, "--dist", out.as_str()];
        if release {
            args.push("--release");
        }
        let mut c = cmd("trunk", &args);
        if nightly {
            crate::toolchain::use_nightly(&mut c);
        }
        exec(c)?;
    }
    Ok(())
}

/// The loader as pages get it: without whole-line comments and indentation, which are
/// for readers of `public/embed.js` and cost about 700 bytes brotli of its 5 KB budget.
/// Only whole lines go, so no string or regex can be cut.
pub fn strip_loader(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    for line in source.lines() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

pub fn build_server() -> Result<()> {
    exec(cmd("cargo", &["build", "--release", "-p", "confab-server"]))
}

fn server_binary() -> std::path::PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    target.join("release/confab-server")
}

/// A confab-server child on a free port, killed when dropped.
pub struct ServerProcess {
    child: Child,
    url: String,
}

impl ServerProcess {
    pub fn start(extra: &[&str]) -> Result<ServerProcess> {
        let mut args = vec!["--listen", "127.0.0.1:0", "--static-dir", "dist"];
        args.extend_from_slice(extra);
        let mut child = cmd(server_binary().to_str().unwrap_or_default(), &args)
            .env_remove("OPENAI_API_KEY")
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("could not start confab-server: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            for line in lines.by_ref().map_while(|l| l.ok()) {
                if let Some(at) = line.find("listening on ") {
                    let _ = tx.send(line[at + "listening on ".len()..].trim().to_string());
                    break;
                }
            }
            // Keep draining so the server never blocks on a full pipe.
            for line in lines.map_while(|l| l.ok()) {
                println!("[server] {line}");
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let url = loop {
            if let Ok(url) = rx.recv_timeout(Duration::from_millis(100)) {
                break url;
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("confab-server exited at start ({status})"));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return Err("confab-server did not say where it listens within 30 s".into());
            }
        };
        println!("confab-server is up at {url}");
        Ok(ServerProcess { child, url })
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `cargo xtask serve`: release build, then the server in the foreground on :8787.
pub fn serve(args: &[String]) -> Result<ExitCode> {
    build_widget(true)?;
    build_server()?;
    let mut server_args = vec!["--static-dir".to_string(), "dist".to_string()];
    server_args.extend(args.iter().cloned());
    println!("\nConfab: open http://127.0.0.1:8787 (Ctrl+C stops)\n");
    let arg_refs: Vec<&str> = server_args.iter().map(String::as_str).collect();
    exec(cmd(server_binary().to_str().unwrap_or_default(), &arg_refs))?;
    Ok(ExitCode::SUCCESS)
}

/// `cargo xtask dist [--dist DIR]`: release build, versioned files with SRI hashes in
/// `DIR/release/`, a size table and the snippet to paste.
pub fn run(args: &[String]) -> Result<ExitCode> {
    let dist = match args {
        [] => root().join("dist"),
        [flag, dir] if flag == "--dist" => std::path::PathBuf::from(dir),
        _ => return Err("usage: cargo xtask dist [--dist DIR]".into()),
    };
    build_widget_into(true, &dist)?;
    let release = crate::release::write_release(&dist, env!("CARGO_PKG_VERSION"))?;
    let rows = size_rows(&dist)?;
    print_table(&rows);
    println!(
        "
Release files in {}:",
        dist.join("release").display()
    );
    for (name, integrity) in &release.files {
        println!("  {name:<40} {integrity}");
    }
    let src = format!("https://YOUR-HOST/confab/{}", release.loader);
    println!(
        "
Serve the release folder as it is (the loader finds the other files beside it; \
         cross-origin hosts need CORS). Paste:

{}
",
        crate::release::snippet(&release, &src, "/v1/chat/completions")
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loader_loses_comment_lines_and_indentation_only() {
        let src = "// header\n(() => {\n  // why\n  const RELEASE = null;\n  const u = \"a // b\";\n\n})();\n";
        assert_eq!(
            strip_loader(src),
            "(() => {\nconst RELEASE = null;\nconst u = \"a // b\";\n})();\n"
        );
    }

    /// The loader's brotli size limit: all a host page downloads before the chat is opened.
    const LOADER_BUDGET: usize = 5 * 1024;

    #[test]
    fn the_shipped_loader_fits_its_budget_once_stripped() {
        let src = std::fs::read_to_string(root().join("public/embed.js")).unwrap();
        let size = crate::sizes::brotli_len(strip_loader(&src).as_bytes());
        assert!(
            size <= LOADER_BUDGET,
            "embed.js is {size} B brotli, budget {LOADER_BUDGET}"
        );
    }
}
