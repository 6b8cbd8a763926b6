//! Where the bytes of a wasm module go: section sizes, the largest functions and the code
//! per crate, read from the module's `name` section. A small reader of the binary format
//! (what `twiggy top` does for this purpose) so `cargo xtask sizes` needs no extra tool.

use crate::util::Result;
use std::collections::HashMap;

/// One function body: its name (demangled as far as the name section allows) and size.
pub struct Function {
    pub name: String,
    pub size: usize,
}

#[derive(Default)]
pub struct Parts {
    /// (section, bytes), in module order; custom sections by their name.
    pub sections: Vec<(String, usize)>,
    pub functions: Vec<Function>,
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8> {
        let b = *self.bytes.get(self.at).ok_or("wasm: unexpected end")?;
        self.at += 1;
        Ok(b)
    }

    fn leb(&mut self) -> Result<u64> {
        let (mut value, mut shift) = (0u64, 0);
        loop {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
            shift += 7;
            if shift > 63 {
                return Err("wasm: LEB128 too long".into());
            }
        }
    }

    fn len(&mut self) -> Result<usize> {
        usize::try_from(self.leb()?).map_err(|e| e.to_string())
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.at.checked_add(n).ok_or("wasm: overflow")?;
        let s = self.bytes.get(self.at..end).ok_or("wasm: unexpected end")?;
        self.at = end;
        Ok(s)
    }

    fn name(&mut self) -> Result<String> {
        let n = self.len()?;
        Ok(String::from_utf8_lossy(self.take(n)?).into_owned())
    }

    fn done(&self) -> bool {
        self.at >= self.bytes.len()
    }
}

/// Counts imported functions (they take the first function indices).
fn imported_functions(body: &[u8]) -> Result<usize> {
    let mut r = Reader { bytes: body, at: 0 };
    let mut functions = 0;
    for _ in 0..r.len()? {
        r.name()?;
        r.name()?;
        match r.byte()? {
            0x00 => {
                r.leb()?;
                functions += 1;
            }
            // table: reftype + limits
            0x01 => {
                r.byte()?;
                limits(&mut r)?;
            }
            0x02 => limits(&mut r)?,
            // global: valtype + mutability
            0x03 => {
                r.byte()?;
                r.byte()?;
            }
            // tag
            0x04 => {
                r.byte()?;
                r.leb()?;
            }
            k => return Err(format!("wasm: unknown import kind {k}")),
        }
    }
    Ok(functions)
}

fn limits(r: &mut Reader) -> Result<()> {
    let flags = r.byte()?;
    r.leb()?;
    if flags & 1 != 0 {
        r.leb()?;
    }
    Ok(())
}

pub fn parse(bytes: &[u8]) -> Result<Parts> {
    if bytes.get(..4) != Some(b"\0asm") {
        return Err("not a wasm module".into());
    }
    let mut r = Reader { bytes, at: 8 };
    let mut parts = Parts::default();
    let mut imports = 0;
    let mut bodies: Vec<usize> = Vec::new();
    let mut names: HashMap<usize, String> = HashMap::new();
    while !r.done() {
        let id = r.byte()?;
        let size = r.len()?;
        let start = r.at;
        let body = r.take(size)?;
        let label = match id {
            0 => {
                let mut c = Reader { bytes: body, at: 0 };
                let name = c.name()?;
                if name == "name" {
                    read_names(&body[c.at..], &mut names)?;
                }
                format!("custom \"{name}\"")
            }
            1 => "type".into(),
            2 => {
                imports = imported_functions(body)?;
                "import".into()
            }
            3 => "function".into(),
            4 => "table".into(),
            5 => "memory".into(),
            6 => "global".into(),
            7 => "export".into(),
            8 => "start".into(),
            9 => "element".into(),
            10 => {
                let mut c = Reader { bytes: body, at: 0 };
                for _ in 0..c.len()? {
                    let n = c.len()?;
                    c.take(n)?;
                    bodies.push(n);
                }
                "code".into()
            }
            11 => "data (strings, tables, constants)".into(),
            12 => "data count".into(),
            13 => "tag".into(),
            _ => format!("section {id}"),
        };
        parts.sections.push((label, r.at - start + 1));
    }
    parts.functions = bodies
        .into_iter()
        .enumerate()
        .map(|(i, size)| Function {
            name: names
                .remove(&(i + imports))
                .map(|n| demangle(&n))
                .unwrap_or_else(|| format!("func[{}]", i + imports)),
            size,
        })
        .collect();
    parts.functions.sort_by_key(|f| std::cmp::Reverse(f.size));
    Ok(parts)
}

fn read_names(body: &[u8], names: &mut HashMap<usize, String>) -> Result<()> {
    let mut r = Reader { bytes: body, at: 0 };
    while !r.done() {
        let kind = r.byte()?;
        let size = r.len()?;
        let sub = r.take(size)?;
        if kind == 1 {
            let mut s = Reader { bytes: sub, at: 0 };
            for _ in 0..s.len()? {
                let index = s.len()?;
                names.insert(index, s.name()?);
            }
        }
    }
    Ok(())
}

/// Legacy Rust mangling (`_ZN4core3fmt5write17h0123456789abcdefE`) to `core::fmt::write`;
/// other names as they are, less the trailing `::h<hash>`.
pub fn demangle(name: &str) -> String {
    let mut out = String::new();
    if let Some(mut rest) = name.strip_prefix("_ZN") {
        while let Some(digits) = rest.find(|c: char| !c.is_ascii_digit()).filter(|&d| d > 0) {
            let Ok(n) = rest[..digits].parse::<usize>() else {
                break;
            };
            let Some(segment) = rest.get(digits..digits + n) else {
                break;
            };
            if !out.is_empty() {
                out.push_str("::");
            }
            out.push_str(&unescape(segment));
            rest = &rest[digits + n..];
        }
    } else {
        out = name.to_string();
    }
    match out.rfind("::h") {
        Some(at) if out.len() - at == 19 => out.truncate(at),
        _ => {}
    }
    out
}

fn unescape(segment: &str) -> String {
    let mut s = segment
        .strip_prefix("_$")
        .map_or(segment.to_string(), |r| format!("${r}"));
    for (from, to) in [
        ("$LT$", "<"),
        ("$GT$", ">"),
        ("$RF$", "&"),
        ("$BP$", "*"),
        ("$LP$", "("),
        ("$RP$", ")"),
        ("$C$", ","),
        ("$u20$", " "),
        ("$u27$", "'"),
        ("$u5b$", "["),
        ("$u5d$", "]"),
        ("$u7b$", "{"),
        ("$u7d$", "}"),
        ("$u7e$", "~"),
        ("..", "::"),
    ] {
        s = s.replace(from, to);
    }
    s
}

/// The crate a function belongs to: the first path segment, looking through `<T as Trait>`,
/// references and pointers to the type's crate.
pub fn crate_of(name: &str) -> &str {
    let mut s = name;
    loop {
        let before = s;
        for p in ["<", "&", "mut ", "*const ", "*mut ", "[", "(", "dyn "] {
            s = s.strip_prefix(p).unwrap_or(s);
        }
        if s == before {
            break;
        }
    }
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    match &s[..end] {
        "" => "(other)",
        c => c,
    }
}

/// Code bytes per crate, largest first.
pub fn by_crate(parts: &Parts) -> Vec<(String, usize, usize)> {
    let mut totals: HashMap<&str, (usize, usize)> = HashMap::new();
    for f in &parts.functions {
        let t = totals.entry(crate_of(&f.name)).or_default();
        t.0 += f.size;
        t.1 += 1;
    }
    let mut rows: Vec<_> = totals
        .into_iter()
        .map(|(c, (size, n))| (c.to_string(), size, n))
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.1));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_names_are_demangled_and_attributed() {
        assert_eq!(
            demangle("_ZN4core3fmt5write17h0123456789abcdefE"),
            "core::fmt::write"
        );
        assert_eq!(
            demangle("_ZN61_$LT$tachys..html..element..HtmlElement$u20$as$u20$Render$GT$5build17h0123456789abcdefE"),
            "<tachys::html::element::HtmlElement as Render>::build"
        );
        assert_eq!(crate_of("<tachys::html::X as Render>::build"), "tachys");
        assert_eq!(crate_of("<&mut serde_json::de::X as Y>::z"), "serde_json");
        assert_eq!(
            crate_of("dlmalloc::dlmalloc::Dlmalloc<A>::malloc"),
            "dlmalloc"
        );
    }

    #[test]
    fn a_module_is_read_into_sections_and_functions() {
        // (module (import "a" "b" (func)) (func $f nop) (func $g nop nop)) with a name section.
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        m.extend([1, 4, 1, 0x60, 0, 0]); // type: () -> ()
        m.extend([2, 7, 1, 1, b'a', 1, b'b', 0, 0]); // import func type 0
        m.extend([3, 3, 2, 0, 0]); // two functions of type 0
        m.extend([10, 9, 2, 3, 0, 1, 0x0b, 3, 0, 1, 0x0b]); // code (sizes 3, 3)
        let mut names = vec![1, 7, 2, 1, 1, b'f', 2, 1, b'g'];
        let mut name = vec![4, b'n', b'a', b'm', b'e'];
        name.append(&mut names);
        m.push(0);
        m.push(name.len() as u8);
        m.extend(name);
        let parts = parse(&m).unwrap();
        let names: Vec<_> = parts.functions.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names.len(), 2);
        assert!(names.contains(&"f") && names.contains(&"g"));
        assert!(parts.sections.iter().any(|(s, _)| s == "code"));
    }
}
