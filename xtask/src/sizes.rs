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
