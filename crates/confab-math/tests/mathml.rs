//! pulldown-latex output read back through the widget's allowlist, end to end.

use confab_core::mathml::{parse_mathml, MathElement, MathNode};
use confab_math::to_mathml;

fn names(node: &MathNode, out: &mut Vec<&'static str>) {
    if let MathNode::Element(e) = node {
        out.push(e.name);
        for c in &e.children {
            names(c, out);
        }
    }
}

fn text(node: &MathNode, out: &mut String) {
    match node {
        MathNode::Text(t) => out.push_str(t),
        MathNode::Element(e) => e.children.iter().for_each(|c| text(c, out)),
    }
}

fn vetted(tex: &str, display: bool) -> MathNode {
    let mathml = to_mathml(tex, display).unwrap_or_else(|e| panic!("{tex}: {e}"));
    parse_mathml(&mathml).unwrap_or_else(|e| panic!("{tex}: {e}\n{mathml}"))
}

fn root(node: &MathNode) -> &MathElement {
    match node {
        MathNode::Element(e) => e,
        MathNode::Text(_) => unreachable!(),
    }
}

#[test]
fn formulas_the_demo_model_and_real_models_write_pass_the_allowlist() {
    for tex in [
        r"e^{i\pi} + 1 = 0",
        r"\frac{-b \pm \sqrt{b^2 - 4ac}}{2a}",
        r"\sum_{k=1}^{n} k = \frac{n(n+1)}{2}",
        r"\int_0^\infty e^{-x^2}\,dx = \frac{\sqrt{\pi}}{2}",
        r"\begin{pmatrix} a & b \\ c & d \end{pmatrix}",
        r"\begin{cases} 1 & x > 0 \\ 0 & \text{otherwise} \end{cases}",
        r"\begin{array}{c|l} 1 & 2 \\ \hline 3 & 4 \end{array}",
        r"\left( \frac{a}{b} \right)^{2} \leq \lim_{x \to 0} \frac{\sin x}{x}",
        r"\mathbf{F} = m\mathbf{a}, \quad \color{red}{x} \hspace{1em} \sqrt[3]{8}",
        r"\overbrace{a+b}^{n} \underline{x} \hat{y} \vec{v} \binom{n}{k}",
        r"\alpha < \beta > \gamma \& \text{<script>alert(1)</script>}",
    ] {
        let tree = vetted(tex, true);
        assert_eq!(root(&tree).name, "math");
    }
}

#[test]
fn the_structure_survives_the_round_trip() {
    let tree = vetted(r"\frac{a}{b} + \sqrt{x}", false);
    let mut seen = Vec::new();
    names(&tree, &mut seen);
    assert!(seen.contains(&"mfrac"), "{seen:?}");
    assert!(seen.contains(&"msqrt"), "{seen:?}");
    let mut t = String::new();
    text(&tree, &mut t);
    assert!(t.contains('a') && t.contains('b') && t.contains('+') && t.contains('x'));

    let block = vetted("x", true);
    assert!(root(&block)
        .attrs
        .contains(&("display", "block".to_string())));
}

#[test]
fn spaces_in_text_survive_as_no_break_spaces() {
    let mut t = String::new();
    text(&vetted(r"\prod_{p \text{ prime}} p", false), &mut t);
    assert!(t.contains("\u{a0}prime"), "{t:?}");
    assert!(!t.contains('&'), "no entity left as text: {t:?}");
}

#[test]
fn markup_in_tex_text_stays_text() {
    let tree = vetted(r"\text{<img src=x onerror=alert(1)> & </math>}", false);
    let mut t = String::new();
    text(&tree, &mut t);
    assert!(t.contains("<img src=x onerror=alert(1)>"), "{t}");
    let mut seen = Vec::new();
    names(&tree, &mut seen);
    assert!(!seen.contains(&"img"));
}

#[test]
fn a_broken_formula_is_an_error_with_a_one_line_reason() {
    for tex in [
        r"\frac{a}{",
        r"\frac{1}",
        r"\unknowncommand{x}",
        r"x^^2",
        r"\begin{matrix} a",
    ] {
        let err = to_mathml(tex, false).expect_err(tex);
        assert!(!err.is_empty() && !err.contains('\n'), "{tex}: {err:?}");
    }
}

#[test]
fn oversized_or_deeply_nested_formulas_are_refused_before_parsing() {
    let long = "x+".repeat(confab_math::MAX_TEX_BYTES);
    assert!(to_mathml(&long, false).unwrap_err().contains("longer"));
    let deep = format!("{}x{}", "{".repeat(200), "}".repeat(200));
    assert!(to_mathml(&deep, false).unwrap_err().contains("nested"));
    let ok = format!("{}x{}", "{".repeat(10), "}".repeat(10));
    assert!(to_mathml(&ok, false).is_ok());
}

#[test]
fn markup_in_an_operator_name_is_refused_not_written_as_elements() {
    for tex in [
        r"\operatorname{</mi><mtext>PWN</mtext><mi>}",
        r"\operatorname*{</mi><mtext>PWN</mtext><mi>} x",
        r"\mathop{</mi><mtext>PWN</mtext><mi>}",
        r"\operatorname{a&b}",
        r#"\operatorname{a"b}"#,
    ] {
        let err = to_mathml(tex, false).expect_err(tex);
        assert!(err.contains("operator name"), "{tex}: {err}");
    }
    // Operators and text with the same characters are fine: they are escaped or single.
    for tex in [r"\operatorname{sin} x < y", r"\text{</mi>}", r"a \& b"] {
        let tree = vetted(tex, false);
        let mut t = String::new();
        text(&tree, &mut t);
        assert!(!t.is_empty(), "{tex}");
    }
}

#[test]
fn arrows_are_not_left_and_right_for_the_nesting_cap() {
    let arrows = r"a \leftarrow b \rightarrow c \leftrightarrow d ".repeat(60);
    assert!(to_mathml(&arrows, false).is_ok());
    let hidden = format!(
        "{}x{}",
        r"\left(".repeat(30) + &"{".repeat(30),
        "}".repeat(30) + &r"\right)".repeat(30)
    );
    assert!(to_mathml(&hidden, false).unwrap_err().contains("nested"));
    let escaped = r"\{ \} \\ ".repeat(100);
    assert!(
        to_mathml(&escaped, true).is_ok()
            || !to_mathml(&escaped, true).unwrap_err().contains("nested")
    );
}

#[test]
fn macro_blowup_stops_at_the_event_cap() {
    let mut tex = String::from(r"\def\a{xxxxxxxxxx}");
    for (prev, next) in [("a", "b"), ("b", "c"), ("c", "d"), ("d", "e"), ("e", "f")] {
        tex.push_str(&format!(
            r"\def\{next}{{\{prev}\{prev}\{prev}\{prev}\{prev}\{prev}\{prev}\{prev}\{prev}\{prev}}}"
        ));
    }
    tex.push_str(r"\f");
    // 10^6 symbols: refused (or, if the parser does not expand \def, an error) quickly.
    assert!(to_mathml(&tex, false).is_err());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]

    /// Whatever TeX a model writes: when pulldown-latex renders it, the allowlist reads the
    /// result (so a formula never fails for our reader's sake), and a refusal is a message.
    #[test]
    fn any_rendered_formula_is_readable_by_the_allowlist(
        parts in proptest::collection::vec(proptest::sample::select(vec![
            "x", "2", "+", "<", ">", "&", "=", "'", "\"", "{", "}", "^", "_", " ", "\\\\",
            "\\frac{a}{b}", "\\sqrt", "\\text{<b>&amp;</b>}", "\\alpha", "\\left(", "\\right)",
            "\\begin{pmatrix}", "\\end{pmatrix}", "\\begin{array}{c|l}", "\\end{array}", "&",
            "\\color{red}", "\\hspace{1em}", "\\mathbf{v}", "\\sum_{i}", "\\int", "\\hat",
            "\\operatorname{sin}", "\\mathrm{d}", "\\!", "\\,", "\\quad", "\\hline", "\\{",
            "\\}", "\\lim", "\\to", "\\infty", "\\cdot", "\\le", "\\ne", "é", "中",
            "\\operatorname{</mi><mtext>x</mtext><mi>}", "\\leftarrow", "\\colorbox{red}{x}",
        ]), 0..24),
        display in proptest::bool::ANY,
    ) {
        let tex: String = parts.concat();
        match to_mathml(&tex, display) {
            Ok(mathml) => {
                let read = parse_mathml(&mathml);
                proptest::prop_assert!(read.is_ok(), "{tex:?} -> {mathml}: {read:?}");
            }
            Err(why) => proptest::prop_assert!(!why.is_empty()),
        }
    }
}
