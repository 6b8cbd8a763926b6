//! Versioned release files with SRI hashes, written by `cargo xtask dist` into `dist/release/`.
//!
//! The widget's files get names with the version and a content hash; the loader gets a copy
//! whose `const RELEASE = null;` line names those files and their sha384 hashes, so it loads
//! them relative to itself and checks them (`fetch` with `integrity`).

use crate::util::Result;
use base64::Engine as _;
use sha2::{Digest, Sha384};
use std::fmt::Write as _;
use std::path::Path;

/// The line in `public/embed.js` that the versioned copy replaces.
const MARKER: &str = "const RELEASE = null;";

/// Where the embeddable widget's build lives inside dist/ (see `widget.html`).
pub const WIDGET_DIR: &str = "widget";

/// Widget files: (key in the loader's RELEASE object, file in dist/widget/).
/// The lazily loaded modules go by `<name>Js` and `<name>Wasm` (`set_module_loader`).
const WIDGET_FILES: [(&str, &str); 7] = [
    ("js", "confab.js"),
    ("wasm", "confab_bg.wasm"),
    ("css", "confab.css"),
    ("mathJs", "confab-math.js"),
    ("mathWasm", "confab-math_bg.wasm"),
    ("highlightJs", "confab-highlight.js"),
    ("highlightWasm", "confab-highlight_bg.wasm"),
];

pub struct Release {
    /// The loader's file name inside `release/`.
    pub loader: String,
    /// `sha384-…` of the loader, for the `integrity` attribute.
    pub integrity: String,
    /// Every file written, with its integrity value.
    pub files: Vec<(String, String)>,
}

pub fn sri(bytes: &[u8]) -> String {
    let digest = Sha384::digest(bytes);
    format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// `confab.js` → `confab-0.1.0-1a2b3c4d5e6f7081.js`. Sixteen hex digits: confab-server (and
/// any CDN rule of the same kind) serves such names as immutable, so the `import()` after
/// the loader's integrity-checked fetch is answered from the browser's cache.
fn versioned(name: &str, version: &str, bytes: &[u8]) -> String {
    let digest = Sha384::digest(bytes);
    let mut hash = String::new();
    for b in &digest[..8] {
        let _ = write!(hash, "{b:02x}");
    }
    let (stem, ext) = name.split_once('.').unwrap_or((name, ""));
    format!("{stem}-{version}-{hash}.{ext}")
}

fn json_str(s: &str) -> String {
    // File names and base64 only: no quotes or backslashes to escape.
    format!("\"{s}\"")
}

/// Writes `dist/release/` from a finished `dist/` (Trunk's output).
pub fn write_release(dist: &Path, version: &str) -> Result<Release> {
    let out = dist.join("release");
    if out.exists() {
        std::fs::remove_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    }
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(out.join(name), bytes).map_err(|e| format!("{name}: {e}"))
    };

    let widget = dist.join(WIDGET_DIR);
    for glue_file in ["confab.js", "confab-math.js", "confab-highlight.js"] {
        let glue = String::from_utf8_lossy(&read(&widget.join(glue_file))?).into_owned();
        if glue.contains("./snippets/") {
            return Err(format!(
                "{glue_file} imports wasm-bindgen snippets; copy them into release/ too"
            ));
        }
    }

    let mut files = Vec::new();
    let mut fields = Vec::new();
    for (key, file) in WIDGET_FILES {
        let bytes = read(&widget.join(file))?;
        let name = versioned(file, version, &bytes);
        let integrity = sri(&bytes);
        write(&name, &bytes)?;
        fields.push(format!("{key}: {}", json_str(&name)));
        fields.push(format!("{key}I: {}", json_str(&integrity)));
        files.push((name, integrity));
    }

    let loader_src = String::from_utf8_lossy(&read(&dist.join("public/embed.js"))?).into_owned();
    if loader_src.matches(MARKER).count() != 1 {
        return Err(format!(
            "public/embed.js must contain `{MARKER}` exactly once"
        ));
    }
    let release_line = format!("const RELEASE = {{ {} }};", fields.join(", "));
    let loader_bytes = loader_src.replacen(MARKER, &release_line, 1).into_bytes();
    let loader = versioned("confab-embed.js", version, &loader_bytes);
    let integrity = sri(&loader_bytes);
    write(&loader, &loader_bytes)?;
    files.push((loader.clone(), integrity.clone()));

    let release = Release {
        loader,
        integrity,
        files,
    };
    let page = format!(
        "<!doctype html>\n<html lang=\"en\">\n  <head>\n    <meta charset=\"utf-8\" />\n    \
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\" />\n    \
         <title>Confab {version}</title>\n  </head>\n  <body>\n    \
         <p>Confab {version}: the versioned loader with SRI hashes.</p>\n    {}\n  </body>\n</html>\n",
        snippet(&release, &release.loader, "/v1/chat/completions")
    );
    write("index.html", page.as_bytes())?;
    Ok(release)
}

/// The tag a site pastes: `src` is where the release folder is served from.
pub fn snippet(release: &Release, src: &str, endpoint: &str) -> String {
    format!(
        "<script async src=\"{src}\" integrity=\"{}\" crossorigin=\"anonymous\" \
         data-endpoint=\"{endpoint}\"></script>",
        release.integrity
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versioned_files_carry_their_hashes_and_the_loader_names_them() {
        let dir = std::env::temp_dir().join(format!("confab-release-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("public")).unwrap();
        let w = dir.join(WIDGET_DIR);
        std::fs::create_dir_all(&w).unwrap();
        std::fs::write(w.join("confab.js"), b"export default 1;").unwrap();
        std::fs::write(w.join("confab_bg.wasm"), b"\0asm").unwrap();
        std::fs::write(w.join("confab.css"), b".cf-root{}").unwrap();
        std::fs::write(w.join("confab-math.js"), b"export default 2;").unwrap();
        std::fs::write(w.join("confab-math_bg.wasm"), b"\0asm\x01").unwrap();
        std::fs::write(w.join("confab-highlight.js"), b"export default 3;").unwrap();
        std::fs::write(w.join("confab-highlight_bg.wasm"), b"\0asm\x02").unwrap();
        std::fs::write(
            dir.join("public/embed.js"),
            format!("(() => {{\n  {MARKER}\n}})();\n"),
        )
        .unwrap();

        let r = write_release(&dir, "1.2.3").unwrap();
        for (name, _) in &r.files {
            // What confab-server serves as immutable: `-` and 16 hex digits before the dot.
            let hash = name.rsplit_once('-').unwrap().1.split_once('.').unwrap().0;
            assert!(
                hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
                "{name}"
            );
        }
        assert!(r.loader.starts_with("confab-embed-1.2.3-") && r.loader.ends_with(".js"));
        let loader = std::fs::read_to_string(dir.join("release").join(&r.loader)).unwrap();
        assert!(!loader.contains(MARKER));
        assert_eq!(r.integrity, sri(loader.as_bytes()));
        for (name, integrity) in &r.files {
            let bytes = std::fs::read(dir.join("release").join(name)).unwrap();
            assert_eq!(&sri(&bytes), integrity, "{name}");
            if *name != r.loader {
                assert!(loader.contains(name.as_str()), "loader names {name}");
                assert!(loader.contains(integrity.as_str()), "loader checks {name}");
            }
        }
        // The known sha384 of an empty input, as a check of the encoding.
        assert_eq!(
            sri(b""),
            "sha384-OLBgp1GsljhM2TJ+sbHjaiH9txEUvgdDTAzHv2P24donTt6/529l+9Ua0vFImLlb"
        );
        let page = std::fs::read_to_string(dir.join("release/index.html")).unwrap();
        assert!(page.contains(&r.integrity) && page.contains("crossorigin=\"anonymous\""));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_loader_without_the_marker_is_refused() {
        let dir = std::env::temp_dir().join(format!("confab-release-bad-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("public")).unwrap();
        std::fs::create_dir_all(dir.join(WIDGET_DIR)).unwrap();
        for (_, f) in WIDGET_FILES {
            std::fs::write(dir.join(WIDGET_DIR).join(f), b"x").unwrap();
        }
        std::fs::write(dir.join("public/embed.js"), b"(() => {})();").unwrap();
        assert!(write_release(&dir, "1.0.0").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
