//! MathML from the math module, read back into a tree of allow-listed nodes.
//!
//! Formulas come from model output, so the MathML string that pulldown-latex writes for
//! them is never handed to the browser as markup. This reads it as the small XML dialect it
//! is and keeps only MathML presentation elements, their presentational attributes, the
//! `menv-*`/`cell-*` layout classes and four inline style properties with plain values. An
//! element outside the list fails the whole formula, which then shows as its TeX source;
//! an attribute outside the list is dropped. The widget builds the DOM from this tree with
//! `createElementNS`, text nodes and the CSSOM, none of which can run script.

/// One node of a vetted MathML tree.
#[derive(Clone, Debug, PartialEq)]
pub enum MathNode {
    Element(MathElement),
    Text(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct MathElement {
    /// A name from [`ELEMENTS`].
    pub name: &'static str,
    /// Attributes from [`ATTRIBUTES`], plus `class` with only layout classes left in it.
    pub attrs: Vec<(&'static str, String)>,
    /// Style properties from [`STYLE_PROPERTIES`], to set through the CSSOM.
    pub styles: Vec<(&'static str, String)>,
    pub children: Vec<MathNode>,
}

/// Why a MathML string was refused; the formula then shows as source.
#[derive(Clone, Debug, PartialEq)]
pub enum MathmlError {
    /// Not well-formed: an unclosed tag, a stray `<`, a bad entity…
    Syntax(String),
    /// An element that is not presentation MathML (script, a, foreignObject, svg…).
    Element(String),
    /// Nested deeper than [`MAX_DEPTH`] or more than [`MAX_NODES`] nodes.
    TooLarge,
}

impl std::fmt::Display for MathmlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MathmlError::Syntax(why) => write!(f, "malformed MathML: {why}"),
            MathmlError::Element(name) => write!(f, "element <{name}> is not allowed"),
            MathmlError::TooLarge => f.write_str("formula too large"),
        }
    }
}

pub const MAX_DEPTH: usize = 64;
pub const MAX_NODES: usize = 20_000;

/// Elements whose content is text only.
const TOKEN_ELEMENTS: &[&str] = &["mi", "mn", "mo", "ms", "mtext", "annotation"];

/// The presentation elements pulldown-latex writes, and no others: every one is inert.
pub const ELEMENTS: &[&str] = &[
    "math",
    "annotation",
    "merror",
    "mfrac",
    "mi",
    "mn",
    "mo",
    "mover",
    "mroot",
    "mrow",
    "mspace",
    "msqrt",
    "msub",
    "msubsup",
    "msup",
    "mtable",
    "mtd",
    "mtext",
    "mtr",
    "munder",
    "munderover",
    "semantics",
];

/// Presentational attributes: none of them takes a URL or script.
pub const ATTRIBUTES: &[&str] = &[
    "accent",
    "accentunder",
    "columnalign",
    "columnspan",
    "depth",
    "display",
    "displaystyle",
    "encoding",
    "fence",
    "form",
    "height",
    "largeop",
    "linethickness",
    "lspace",
    "mathvariant",
    "maxsize",
    "minsize",
    "movablelimits",
    "notation",
    "rowspan",
    "rspace",
    "scriptlevel",
    "separator",
    "stretchy",
    "symmetric",
    "voffset",
    "width",
];

/// Inline style properties pulldown-latex writes (`\color`, `\colorbox`, `\hspace`, array
/// rules, errors).
pub const STYLE_PROPERTIES: &[&str] = &[
    "background-color",
    "border-color",
    "color",
    "height",
    "margin-left",
];

/// Attributes and style properties that are lengths: bounded, so a formula cannot push its
/// text over the rest of the conversation (`\hspace{-80em}`, `\\[999em]`).
const LENGTHS: &[&str] = &[
    "depth",
    "height",
    "lspace",
    "margin-left",
    "maxsize",
    "minsize",
    "rspace",
    "voffset",
    "width",
];

/// Reads a `<math>…</math>` string into a vetted tree.
pub fn parse_mathml(src: &str) -> Result<MathNode, MathmlError> {
    let mut reader = Reader {
        src,
        pos: 0,
        nodes: 0,
    };
    reader.skip_space();
    let root = reader.element(0)?;
    reader.skip_space();
    if reader.pos != src.len() {
        return Err(MathmlError::Syntax("text after </math>".into()));
    }
    match &root {
        MathNode::Element(e) if e.name == "math" => Ok(root),
        _ => Err(MathmlError::Syntax("the root is not <math>".into())),
    }
}

struct Reader<'a> {
    src: &'a str,
    pos: usize,
    nodes: usize,
}

impl<'a> Reader<'a> {
    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
    }

    fn eat(&mut self, s: &str) -> bool {
        let found = self.rest().starts_with(s);
        if found {
            self.pos += s.len();
        }
        found
    }

    fn expect(&mut self, s: &str) -> Result<(), MathmlError> {
        if self.eat(s) {
            Ok(())
        } else {
            Err(MathmlError::Syntax(format!("expected `{s}`")))
        }
    }

    fn name(&mut self) -> Result<&'a str, MathmlError> {
        let rest = self.rest();
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == ':' || c == '_'))
            .unwrap_or(rest.len());
        if len == 0 {
            return Err(MathmlError::Syntax("expected a name".into()));
        }
        self.pos += len;
        Ok(&rest[..len])
    }

    fn count(&mut self) -> Result<(), MathmlError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(MathmlError::TooLarge);
        }
        Ok(())
    }

    /// `<name attrs>children</name>` or `<name attrs/>`, at the reader's position.
    fn element(&mut self, depth: usize) -> Result<MathNode, MathmlError> {
        if depth > MAX_DEPTH {
            return Err(MathmlError::TooLarge);
        }
        self.count()?;
        self.expect("<")?;
        let raw_name = self.name()?;
        let name = *ELEMENTS
            .iter()
            .find(|e| **e == raw_name)
            .ok_or_else(|| MathmlError::Element(raw_name.to_string()))?;
        let mut el = MathElement {
            name,
            attrs: Vec::new(),
            styles: Vec::new(),
            children: Vec::new(),
        };
        loop {
            self.skip_space();
            if self.eat("/>") {
                return Ok(MathNode::Element(el));
            }
            if self.eat(">") {
                break;
            }
            let attr = self.name()?;
            self.skip_space();
            self.expect("=")?;
            self.skip_space();
            let value = self.quoted()?;
            add_attribute(&mut el, attr, value);
        }
        if TOKEN_ELEMENTS.contains(&name) {
            // pulldown-latex writes operator characters unescaped (`<mo><</mo>`, `<mi>&</mi>`),
            // and token elements hold only text: take everything up to the closing tag.
            let close = format!("</{raw_name}>");
            let end = self
                .rest()
                .find(&close)
                .ok_or_else(|| MathmlError::Syntax(format!("<{raw_name}> is not closed")))?;
            let raw = &self.rest()[..end];
            self.pos += end + close.len();
            if !raw.is_empty() {
                self.count()?;
                el.children.push(MathNode::Text(unescape(raw)));
            }
            return Ok(MathNode::Element(el));
        }
        loop {
            if self.eat("</") {
                let closing = self.name()?;
                self.skip_space();
                self.expect(">")?;
                if closing != raw_name {
                    return Err(MathmlError::Syntax(format!(
                        "</{closing}> closes <{raw_name}>"
                    )));
                }
                return Ok(MathNode::Element(el));
            }
            if self.rest().starts_with('<') {
                el.children.push(self.element(depth + 1)?);
                continue;
            }
            if self.rest().is_empty() {
                return Err(MathmlError::Syntax(format!("<{raw_name}> is not closed")));
            }
            let end = self.rest().find('<').unwrap_or(self.rest().len());
            let raw = &self.rest()[..end];
            self.pos += end;
            if !raw.trim().is_empty() {
                return Err(MathmlError::Syntax(format!(
                    "text directly inside <{raw_name}>"
                )));
            }
        }
    }

    fn quoted(&mut self) -> Result<String, MathmlError> {
        let quote = match self.rest().chars().next() {
            Some(q @ ('"' | '\'')) => q,
            _ => return Err(MathmlError::Syntax("expected a quoted value".into())),
        };
        self.pos += 1;
        let end = self
            .rest()
            .find(quote)
            .ok_or_else(|| MathmlError::Syntax("unterminated attribute value".into()))?;
        let raw = &self.rest()[..end];
        if raw.contains('<') {
            return Err(MathmlError::Syntax("`<` in an attribute value".into()));
        }
        self.pos += end + 1;
        Ok(unescape(raw))
    }
}

fn add_attribute(el: &mut MathElement, attr: &str, value: String) {
    match attr {
        "class" => {
            let kept: Vec<&str> = value
                .split_ascii_whitespace()
                .filter(|c| is_layout_class(c))
                .collect();
            if !kept.is_empty() {
                el.attrs.push(("class", kept.join(" ")));
            }
        }
        "style" => {
            for decl in value.split(';') {
                let Some((prop, val)) = decl.split_once(':') else {
                    continue;
                };
                let (prop, val) = (prop.trim(), val.trim());
                if let Some(p) = STYLE_PROPERTIES.iter().find(|p| **p == prop) {
                    if is_plain_style_value(val) && is_acceptable(p, val) {
                        el.styles.push((p, val.to_string()));
                    }
                }
            }
        }
        _ => {
            if let Some(a) = ATTRIBUTES.iter().find(|a| **a == attr) {
                if is_acceptable(a, &value) {
                    el.attrs.push((a, value));
                }
            }
        }
    }
}

/// Per-name value checks: bounded lengths, a small `scriptlevel`.
fn is_acceptable(name: &str, value: &str) -> bool {
    if LENGTHS.contains(&name) {
        return is_bounded_length(value);
    }
    match name {
        "scriptlevel" => matches!(value.trim(), "0" | "1" | "2" | "+1" | "-1"),
        _ => true,
    }
}

/// A number with an optional unit, at most 20em (or 320px/pt, or 400%) either way; also the
/// MathML keywords `infinity` (for `maxsize`) and named spaces.
fn is_bounded_length(value: &str) -> bool {
    let v = value.trim();
    if v == "infinity" || v.ends_with("mathspace") {
        return true;
    }
    let unsigned = v.strip_prefix(['-', '+']).unwrap_or(v);
    let number_end = unsigned
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(unsigned.len());
    let (number, unit) = unsigned.split_at(number_end);
    // Whole units are enough to compare; no float parsing (it costs the wasm ~10 KB).
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() || fraction.contains('.') {
        return false;
    }
    let Ok(whole) = (if whole.is_empty() {
        Ok(0)
    } else {
        whole.parse::<u32>()
    }) else {
        return false;
    };
    let limit = match unit {
        "" | "em" | "ex" => 20,
        "mu" => 360,
        "px" | "pt" => 320,
        "%" => 400,
        _ => return false,
    };
    whole < limit || whole == limit && fraction.bytes().all(|b| b == b'0')
}

fn is_layout_class(class: &str) -> bool {
    (class.starts_with("menv-") || class.starts_with("cell-"))
        && class
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Lengths, `#rgb`, names and `rgb(r g b)`: no `url(`, no escapes, no other functions.
fn is_plain_style_value(value: &str) -> bool {
    let inner = match value.strip_prefix("rgb(") {
        Some(rest) => match rest.strip_suffix(')') {
            Some(args) => args,
            None => return false,
        },
        None => value,
    };
    !inner.is_empty()
        && inner
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'#' | b'.' | b'-' | b' ' | b'%'))
}

/// XML character references and the five predefined entities. An `&` that starts none of
/// them is a literal `&` (pulldown-latex leaves operator characters unescaped).
fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let named = after.find(';').filter(|&i| i <= 10).and_then(|semi| {
            let entity = &after[..semi];
            let ch = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                // The one HTML entity pulldown-latex writes (spaces in `\text{…}`).
                "nbsp" => Some('\u{a0}'),
                _ => {
                    let code = if let Some(hex) = entity.strip_prefix("#x") {
                        u32::from_str_radix(hex, 16).ok()
                    } else {
                        entity.strip_prefix('#').and_then(|d| d.parse().ok())
                    };
                    code.and_then(char::from_u32).filter(|c| *c != '\0')
                }
            };
            ch.map(|c| (c, semi))
        });
        match named {
            Some((c, semi)) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn el(node: &MathNode) -> &MathElement {
        match node {
            MathNode::Element(e) => e,
            MathNode::Text(t) => panic!("expected an element, got text {t:?}"),
        }
    }

    #[test]
    fn reads_a_fraction_with_text_and_attributes() {
        let tree = parse_mathml(
            r#"<math display="block"><mfrac><mi>a</mi><mn>2</mn></mfrac><mo stretchy="false">)</mo></math>"#,
        )
        .unwrap();
        let math = el(&tree);
        assert_eq!(math.attrs, vec![("display", "block".to_string())]);
        let frac = el(&math.children[0]);
        assert_eq!(frac.name, "mfrac");
        assert_eq!(
            el(&frac.children[0]).children,
            vec![MathNode::Text("a".into())]
        );
        assert_eq!(
            el(&math.children[1]).attrs,
            vec![("stretchy", "false".to_string())]
        );
    }

    #[test]
    fn entities_become_the_characters_they_name() {
        let tree = parse_mathml("<math><mo>&lt;</mo><mi>&#x3b1;&amp;&#946;</mi></math>").unwrap();
        let math = el(&tree);
        assert_eq!(
            el(&math.children[0]).children[0],
            MathNode::Text("<".into())
        );
        assert_eq!(
            el(&math.children[1]).children[0],
            MathNode::Text("α&β".into())
        );
        let text_of = |src: &str| {
            let tree = parse_mathml(src).unwrap();
            el(&el(&tree).children[0]).children[0].clone()
        };
        assert_eq!(
            text_of("<math><mi>a&nbsp;b</mi></math>"),
            MathNode::Text("a\u{a0}b".into())
        );
        assert_eq!(
            text_of("<math><mi>&copy;</mi></math>"),
            MathNode::Text("&copy;".into())
        );
        assert_eq!(
            text_of("<math><mi>&#0;</mi></math>"),
            MathNode::Text("&#0;".into())
        );
        assert_eq!(
            text_of("<math><mi>a & b</mi></math>"),
            MathNode::Text("a & b".into())
        );
    }

    #[test]
    fn elements_that_are_not_presentation_mathml_refuse_the_formula() {
        for bad in [
            "<math><script>alert(1)</script></math>",
            "<math><a href=\"javascript:alert(1)\">x</a></math>",
            "<math><maction actiontype=\"statusline\"><mi>x</mi></maction></math>",
            "<math><semantics><annotation-xml encoding=\"text/html\"><b>x</b></annotation-xml></semantics></math>",
            "<math><svg><foreignObject/></svg></math>",
            "<math><style>*{}</style></math>",
            "<math><mpadded voffset=\"-40em\"><mi>x</mi></mpadded></math>",
            "<math><mstyle mathsize=\"90\"><mi>x</mi></mstyle></math>",
        ] {
            assert!(
                matches!(parse_mathml(bad), Err(MathmlError::Element(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            parse_mathml("<div><mi>x</mi></div>"),
            Err(MathmlError::Element(_))
        ));
        assert!(
            parse_mathml("<mrow><mi>x</mi></mrow>").is_err(),
            "root must be math"
        );
    }

    #[test]
    fn dangerous_attributes_are_dropped() {
        let tree = parse_mathml(
            r#"<math onload="alert(1)" href="javascript:alert(1)" xlink:href="x" src="x" xmlns="http://www.w3.org/1998/Math/MathML"><mi mathvariant="bold" onclick='x' id="a">x</mi></math>"#,
        )
        .unwrap();
        let math = el(&tree);
        assert!(math.attrs.is_empty(), "{:?}", math.attrs);
        assert_eq!(
            el(&math.children[0]).attrs,
            vec![("mathvariant", "bold".to_string())]
        );
    }

    #[test]
    fn only_layout_classes_and_plain_style_values_survive() {
        let tree = parse_mathml(
            r#"<math><mtable class="menv-arraylike evil cell-left x:y"><mtr><mtd style="color: rgb(255 0 0); background: url(https://evil/x); margin-left: 1em; height: url(x); border-color: #b22222"><mn>1</mn></mtd></mtr></mtable></math>"#,
        )
        .unwrap();
        let table = el(&el(&tree).children[0]);
        assert_eq!(
            table.attrs,
            vec![("class", "menv-arraylike cell-left".to_string())]
        );
        let cell = el(&el(&table.children[0]).children[0]);
        assert_eq!(
            cell.styles,
            vec![
                ("color", "rgb(255 0 0)".to_string()),
                ("margin-left", "1em".to_string()),
                ("border-color", "#b22222".to_string()),
            ]
        );
        assert!(!is_plain_style_value("rgb(1 2 3) url(x)"));
        assert!(!is_plain_style_value("\\75rl(x)"));
        assert!(!is_plain_style_value("expression(alert(1))"));
    }

    #[test]
    fn token_elements_hold_raw_operator_characters_as_text() {
        let tree =
            parse_mathml("<math><mo><</mo><mi>&</mi><mo>></mo><mtext>&lt;b&gt;</mtext></math>")
                .unwrap();
        let texts: Vec<MathNode> = el(&tree)
            .children
            .iter()
            .map(|c| el(c).children[0].clone())
            .collect();
        assert_eq!(
            texts,
            ["<", "&", ">", "<b>"]
                .map(|t| MathNode::Text(t.into()))
                .to_vec()
        );
        // Markup-looking text inside a token is text, never an element.
        let tree =
            parse_mathml("<math><mtext><img src=x onerror=alert(1)></mtext></math>").unwrap();
        assert_eq!(
            el(&el(&tree).children[0]).children,
            vec![MathNode::Text("<img src=x onerror=alert(1)>".into())]
        );
    }

    #[test]
    fn lengths_are_bounded_so_a_formula_stays_in_its_place() {
        let tree = parse_mathml(
            r#"<math><mspace width="-80em" /><mspace width="1em" /><mspace width="0.1667em" /><mo lspace="999px" rspace="2pt" maxsize="infinity">(</mo><mtd style="height: 999em; margin-left: -3em; background-color: rgb(255 0 0)"><mn>1</mn></mtd><mstyle/></math>"#,
        );
        assert!(tree.is_err(), "mstyle is not written by pulldown-latex");
        let tree = parse_mathml(
            r#"<math><mspace width="-80em" /><mspace width="1em" /><mspace width="0.1667em" /><mo lspace="999px" rspace="2pt" maxsize="infinity" scriptlevel="-50">(</mo><mtd style="height: 999em; margin-left: -3em; background-color: rgb(255 0 0)"><mn>1</mn></mtd></math>"#,
        )
        .unwrap();
        let kids = &el(&tree).children;
        assert!(el(&kids[0]).attrs.is_empty(), "-80em dropped");
        assert_eq!(el(&kids[1]).attrs, vec![("width", "1em".to_string())]);
        assert_eq!(el(&kids[2]).attrs, vec![("width", "0.1667em".to_string())]);
        assert_eq!(
            el(&kids[3]).attrs,
            vec![
                ("rspace", "2pt".to_string()),
                ("maxsize", "infinity".to_string())
            ]
        );
        assert_eq!(
            el(&kids[4]).styles,
            vec![
                ("margin-left", "-3em".to_string()),
                ("background-color", "rgb(255 0 0)".to_string())
            ]
        );
        assert!(!is_bounded_length("1e9em"));
        assert!(!is_bounded_length("NaNem"));
        assert!(!is_bounded_length("3vw"));
        assert!(!is_bounded_length("20.5em"));
        assert!(!is_bounded_length("99999999999em"));
        assert!(!is_bounded_length("1.2.3em"));
        assert!(!is_bounded_length("--1em"));
        assert!(!is_bounded_length("em"));
        assert!(is_bounded_length("20em") && is_bounded_length("-20.0em"));
        assert!(is_bounded_length(".5ex") && is_bounded_length("+3mu") && is_bounded_length("0"));
    }

    #[test]
    fn malformed_input_is_an_error_not_a_guess() {
        for bad in [
            "",
            "<math>",
            "<math><mi>x</mo></math>",
            "<math><mi>x</mi>",
            "<math></math>trailing",
            "<math><mi title=\"a<b\">x</mi></math>",
            "<math><mi title=noquote>x</mi></math>",
            "<math><mi>x</mi></math><math></math>",
            "<math><!-- c --></math>",
            "<math><mrow>loose text</mrow></math>",
        ] {
            assert!(parse_mathml(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn depth_and_size_are_capped() {
        let deep = format!(
            "<math>{}{}</math>",
            "<mrow>".repeat(MAX_DEPTH + 1),
            "</mrow>".repeat(MAX_DEPTH + 1)
        );
        assert_eq!(parse_mathml(&deep), Err(MathmlError::TooLarge));
        let ok = format!(
            "<math>{}{}</math>",
            "<mrow>".repeat(MAX_DEPTH - 1),
            "</mrow>".repeat(MAX_DEPTH - 1)
        );
        assert!(parse_mathml(&ok).is_ok());
        let wide = format!("<math>{}</math>", "<mi>x</mi>".repeat(MAX_NODES));
        assert_eq!(parse_mathml(&wide), Err(MathmlError::TooLarge));
    }

    #[test]
    fn self_closing_elements_and_whitespace_between_attributes() {
        let tree = parse_mathml("<math>\n <mspace  width = '1em' />\n</math>").unwrap();
        let math = el(&tree);
        let space = math
            .children
            .iter()
            .find_map(|c| match c {
                MathNode::Element(e) => Some(e),
                _ => None,
            })
            .unwrap();
        assert_eq!(space.name, "mspace");
        assert_eq!(space.attrs, vec![("width", "1em".to_string())]);
    }
}
