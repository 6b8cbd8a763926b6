//! TeX to MathML for the widget, built as its own small wasm module: pulldown-latex costs
//! about 48 KB brotli, so the page loads it only when the first formula appears.
//!
//! The MathML string this returns is not trusted as markup by the widget either: it is
//! read back through `confab_core::mathml`'s allowlist before any DOM node is made.

use pulldown_latex::config::DisplayMode;
use pulldown_latex::event::{Content, Event};
use pulldown_latex::{push_mathml, Parser, RenderConfig, Storage};
use wasm_bindgen::prelude::*;

/// Longer formulas show as source: a model can write anything, the page must stay quick.
pub const MAX_TEX_BYTES: usize = 8 * 1024;
/// Macro expansion (`\def`) can multiply events; past this many the formula is refused.
pub const MAX_EVENTS: usize = 20_000;
/// Group nesting (`{`, `\left`, environments) deeper than this is refused before parsing.
pub const MAX_NESTING: usize = 48;

/// The MathML of one formula, or why it shows as source instead.
pub fn to_mathml(tex: &str, display: bool) -> Result<String, String> {
    if tex.len() > MAX_TEX_BYTES {
        return Err(format!("formula longer than {MAX_TEX_BYTES} bytes"));
    }
    if nesting(tex) > MAX_NESTING {
        return Err(format!("formula nested deeper than {MAX_NESTING} levels"));
    }
    let storage = Storage::new();
    let mut events = Vec::new();
    for event in Parser::new(tex, &storage) {
        if events.len() == MAX_EVENTS {
            return Err("formula too large".into());
        }
        // Render nothing half-right: the first error shows the source with its message.
        let event = event.map_err(|e| first_line(&e.to_string()))?;
        // pulldown-latex writes operator names (`\operatorname{…}`, `\mathop{…}`) and
        // numbers into the MathML unescaped: markup characters there would become elements.
        if let Event::Content(Content::Function(s) | Content::Number(s)) = &event {
            if s.contains(['<', '>', '&', '"']) {
                return Err("an operator name may not contain <, >, & or \"".into());
            }
        }
        events.push(event);
    }
    let config = RenderConfig {
        display_mode: if display {
            DisplayMode::Block
        } else {
            DisplayMode::Inline
        },
        ..RenderConfig::default()
    };
    let mut out = String::new();
    push_mathml(
        &mut out,
        events.into_iter().map(Ok::<_, std::convert::Infallible>),
        config,
    )
    .map_err(|e| e.to_string())?;
    Ok(out)
}

/// The widest depth of `{…}`, `\left…\right` and `\begin…\end`, counted on the source.
fn nesting(tex: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    let mut rest = tex;
    while let Some(c) = rest.chars().next() {
        let mut step = c.len_utf8();
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            '\\' => {
                // A whole control word: `\leftarrow` is not `\left`.
                let word_len = rest[1..]
                    .find(|ch: char| !ch.is_ascii_alphabetic())
                    .unwrap_or(rest.len() - 1);
                match &rest[1..1 + word_len] {
                    "left" | "begin" => depth += 1,
                    "right" | "end" => depth = depth.saturating_sub(1),
                    // `\{`, `\}`, `\\`: an escaped character, not a group.
                    "" => step += rest[1..].chars().next().map_or(0, char::len_utf8),
                    _ => {}
                }
                step += word_len;
            }
            _ => {}
        }
        max = max.max(depth);
        rest = &rest[step..];
    }
    max
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).trim().to_string()
}

/// The module's one export: `render_math(tex, display)` → MathML string, or throws the
/// reason as a string.
#[wasm_bindgen]
pub fn render_math(tex: &str, display: bool) -> Result<String, JsValue> {
    to_mathml(tex, display).map_err(|e| JsValue::from_str(&e))
}
