//! Transfer sizes of built files: raw, gzip and brotli.

use crate::util::Result;
use std::io::Write;
use std::path::Path;

pub struct SizeRow {
    pub name: String,
    pub raw: usize,
    pub gzip: usize,
    pub brotli: usize,
}

pub fn gzip_len(bytes: &[u8]) -> usize {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).expect("in-memory write");
    enc.finish().expect("in-memory gzip").len()
}

pub fn brotli_len(bytes: &[u8]) -> usize {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).expect("in-memory brotli");
    out.len()
}

pub fn row_for(path: &Path, name: String) -> Result<SizeRow> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(SizeRow {
        name,
        raw: bytes.len(),
        gzip: gzip_len(&bytes),
        brotli: brotli_len(&bytes),
    })
}

/// Every file under `dir`, largest first.
pub fn size_rows(dir: &Path) -> Result<Vec<SizeRow>> {
    let mut rows = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path
                    .strip_prefix(dir)
                    .unwrap_or(&path)
                    .display()
                    .to_string();
                rows.push(row_for(&path, name)?);
            }
        }
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.brotli));
    Ok(rows)
}

pub fn kb(n: usize) -> String {
    format!("{:.1} KB", n as f64 / 1024.0)
}

pub fn print_table(rows: &[SizeRow]) {
    println!(
        "{:<40} {:>11} {:>11} {:>11}",
        "file", "raw", "gzip", "brotli"
    );
    for r in rows {
        println!(
            "{:<40} {:>11} {:>11} {:>11}",
            r.name,
            kb(r.raw),
            kb(r.gzip),
            kb(r.brotli)
        );
    }
    let total = |f: fn(&SizeRow) -> usize| rows.iter().map(f).sum::<usize>();
    println!(
        "{:<40} {:>11} {:>11} {:>11}",
        "total",
        kb(total(|r| r.raw)),
        kb(total(|r| r.gzip)),
        kb(total(|r| r.brotli))
    );
}

/// The first-open budget (DESIGN.md): glue + wasm + CSS of the embed build, brotli.
pub const FIRST_OPEN_BUDGET: usize = 130 * 1024;
/// What `cargo xtask test` holds the first open to until the budget is reached: the size
/// reached so far plus a little room, so it cannot grow back unnoticed. 288,197 B on
/// 2026-12-02 (nightly size build, highlighter as its own module, `--converge`), measured on
/// the tree with the features then in progress; lower it with every saving, and raise it
/// only on purpose, saying what the bytes buy.
pub const FIRST_OPEN_GATE: usize = 282 * 1024;
/// The math module (glue + wasm), loaded with the first formula.
pub const MATH_BUDGET: usize = 50 * 1024;
/// 57,869 B with the nightly size build and `--converge`.
pub const MATH_GATE: usize = 57 * 1024;

/// Files of the embed build (in `dist/widget/`) that a visitor downloads on first open.
pub const FIRST_OPEN_FILES: [&str; 3] = ["confab.js", "confab_bg.wasm", "confab.css"];
pub const MATH_FILES: [&str; 2] = ["confab-math.js", "confab-math_bg.wasm"];

pub struct Budget {
    pub name: &'static str,
    pub files: &'static [&'static str],
    pub budget: usize,
    pub gate: usize,
}

pub const BUDGETS: [Budget; 2] = [
    Budget {
        name: "embedded widget on first open (glue + wasm + CSS)",
        files: &FIRST_OPEN_FILES,
        budget: FIRST_OPEN_BUDGET,
        gate: FIRST_OPEN_GATE,
    },
    Budget {
        name: "math module, with the first formula",
        files: &MATH_FILES,
        budget: MATH_BUDGET,
        gate: MATH_GATE,
    },
];

/// Checks the budgets of the embed build in `widget_dir`: the table, and whether every figure
/// is within its gate.
pub fn check_budgets(widget_dir: &Path) -> Result<(bool, String)> {
    let mut ok = true;
    let mut out = String::new();
    for b in &BUDGETS {
        let mut total = 0;
        for f in b.files {
            let row = row_for(&widget_dir.join(f), f.to_string())?;
            out.push_str(&format!("  {:<34} {:>9} B brotli\n", row.name, row.brotli));
            total += row.brotli;
        }
        let within = total <= b.gate;
        ok &= within;
        let limit = if b.gate == b.budget {
            format!("budget {}", kb(b.budget))
        } else {
            format!(
                "budget {}, gate {} until the budget is reached",
                kb(b.budget),
                kb(b.gate)
            )
        };
        out.push_str(&format!(
            "{} {}: {total} B = {} ({limit})\n",
            if within { "ok  " } else { "OVER" },
            b.name,
            kb(total)
        ));
    }
    Ok((ok, out))
}

/// `cargo xtask sizes [--dist DIR] [--no-build]`: the release build's transfer sizes against
/// the budgets, then where the widget's wasm bytes go.
pub fn run(args: &[String]) -> Result<std::process::ExitCode> {
    let mut dist = crate::util::root().join("dist");
    let mut build = true;
    let mut rest = args.iter();
    while let Some(a) = rest.next() {
        match a.as_str() {
            "--dist" => dist = rest.next().ok_or("--dist needs a folder")?.into(),
            "--no-build" => build = false,
            _ => return Err("usage: cargo xtask sizes [--dist DIR] [--no-build]".into()),
        }
    }
    let built = if build {
        crate::dist::build_widget_into(true, &dist)?
    } else {
        // Whichever build ran last.
        let modified = |nightly| {
            std::fs::metadata(crate::dist::Built { nightly }.raw_wasm("confab"))
                .and_then(|m| m.modified())
                .ok()
        };
        crate::dist::Built {
            nightly: modified(true) > modified(false),
        }
    };
    let widget = dist.join(crate::release::WIDGET_DIR);
    println!("\n== embed build ({}) ==", widget.display());
    print_table(&size_rows(&widget)?);
    let (ok, report) = check_budgets(&widget)?;
    println!("\n{report}");
    for (module, top) in [("confab", 30), ("confab_math", 15)] {
        attribute(&built.raw_wasm(module), top)?;
    }
    Ok(if ok {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    })
}

/// The widget's wasm as it ships (wasm-bindgen, wasm-opt -Oz) but with its function names
/// kept, taken apart: sections, the `top` largest functions, code per crate. Raw bytes: brotli
/// of single functions means little, their share of the raw module is what to cut.
pub fn attribute(raw: &Path, top: usize) -> Result<()> {
    let tmp = std::env::temp_dir().join(format!("confab-sizes-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
    let tmp_arg = tmp.to_string_lossy().into_owned();
    let raw_arg = raw.to_string_lossy().into_owned();
    crate::util::exec(crate::util::cmd(
        "wasm-bindgen",
        &[
            "--keep-debug",
            "--target",
            "web",
            "--out-dir",
            &tmp_arg,
            &raw_arg,
        ],
    ))?;
    let stem = raw.file_stem().and_then(|s| s.to_str()).unwrap_or("confab");
    let bg = tmp.join(format!("{stem}_bg.wasm"));
    let named = tmp.join("named.wasm");
    let mut opt_args = vec!["-Oz", "-g"];
    opt_args.extend(WASM_OPT_FEATURES);
    let (bg_arg, named_arg) = (bg.to_string_lossy(), named.to_string_lossy());
    opt_args.extend([bg_arg.as_ref(), "-o", named_arg.as_ref()]);
    crate::util::exec(crate::util::cmd("wasm-opt", &opt_args))?;
    let bytes = std::fs::read(&named).map_err(|e| e.to_string())?;
    let parts = crate::wasm_parts::parse(&bytes)?;
    let _ = std::fs::remove_dir_all(&tmp);

    println!("\n== where the bytes of {stem}.wasm go (wasm-opt -Oz with names kept; raw bytes) ==");
    for (name, size) in &parts.sections {
        println!("  {name:<40} {size:>9}");
    }
    println!(
        "\n  code per crate (approximate: generic code counts where it was instantiated from)"
    );
    for (c, size, n) in crate::wasm_parts::by_crate(&parts).iter().take(20) {
        println!("  {c:<40} {size:>9}  ({n} functions)");
    }
    println!("\n  the {top} largest functions");
    for f in parts.functions.iter().take(top) {
        let name: String = f.name.chars().take(110).collect();
        println!("  {:>7}  {name}", f.size);
    }
    Ok(())
}

/// What wasm-opt may use: the features rustc enables for wasm32 and wasm-bindgen's output.
pub const WASM_OPT_FEATURES: [&str; 6] = [
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
];
