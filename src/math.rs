//! Formulas as MathML. TeX goes to the math module (`confab-math`, a second wasm the page's
//! loader fetches when the first formula appears, see `lazy_module`); its MathML string is
//! read back through `confab_core::mathml`'s allowlist and built with `createElementNS`,
//! text nodes and the CSSOM: never parsed as markup. Until it is ready, and when a formula fails, the TeX
//! source shows as text.

use crate::lazy_module::{self, describe};
use confab_core::mathml::{parse_mathml, MathNode};
use js_sys::Function;
use leptos::prelude::*;
use std::cell::RefCell;
use std::collections::HashMap;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

const MATHML_NS: &str = "http://www.w3.org/1998/Math/MathML";
/// Rendered formulas kept for re-renders (the streaming tail, a re-opened conversation).
const CACHE_LIMIT: usize = 512;
/// The lazily loaded module (`confab-math`), see `lazy_module`.
const MODULE: &str = "math";

type Rendered = Result<MathNode, String>;

thread_local! {
    static CACHE: RefCell<HashMap<(String, bool), Rendered>> = RefCell::new(HashMap::new());
}

fn cached(tex: &str, display: bool) -> Option<Rendered> {
    CACHE.with_borrow(|c| c.get(&(tex.to_string(), display)).cloned())
}

async fn render(tex: &str, display: bool) -> Rendered {
    if let Some(hit) = cached(tex, display) {
        return hit;
    }
    let module = lazy_module::load(MODULE).await?;
    // Other copies of this formula (the streaming tail) may have rendered it meanwhile.
    if let Some(hit) = cached(tex, display) {
        return hit;
    }
    let render_math: Function = lazy_module::export(&module, "render_math")?;
    let (tex_js, display_js) = (JsValue::from_str(tex), JsValue::from_bool(display));
    let result = match render_math.call2(&JsValue::NULL, &tex_js, &display_js) {
        Ok(s) => s
            .as_string()
            .ok_or_else(|| "no MathML".to_string())
            .and_then(|mathml| parse_mathml(&mathml).map_err(|e| e.to_string())),
        // A refusal is thrown as a string; anything else is a trap (a panic in the module),
        // after which its instance is not used again.
        Err(e) if e.is_string() => Err(describe(e)),
        Err(e) => {
            let why = format!("math rendering stopped: {}", describe(e));
            lazy_module::mark_broken(MODULE, &why);
            return Err(why);
        }
    };
    CACHE.with_borrow_mut(|c| {
        if c.len() >= CACHE_LIMIT {
            c.clear();
        }
        c.insert((tex.to_string(), display), result.clone());
    });
    result
}

/// The DOM of a vetted tree: namespaced elements, allow-listed attributes, CSSOM styles.
fn build(doc: &web_sys::Document, node: &MathNode) -> Result<web_sys::Node, JsValue> {
    match node {
        MathNode::Text(text) => Ok(doc.create_text_node(text).into()),
        MathNode::Element(e) => {
            let el = doc.create_element_ns(Some(MATHML_NS), e.name)?;
            for (name, value) in &e.attrs {
                el.set_attribute(name, value)?;
            }
            if !e.styles.is_empty() {
                let style = el.unchecked_ref::<web_sys::MathMlElement>().style();
                for (prop, value) in &e.styles {
                    style.set_property(prop, value)?;
                }
            }
            for child in &e.children {
                el.append_child(&build(doc, child)?)?;
            }
            Ok(el.into())
        }
    }
}

/// One formula: its TeX source at first, then the MathML; a formula that fails keeps its
/// source, marked, with the reason as a tooltip.
#[component]
pub fn Formula(tex: String, display: bool) -> impl IntoView {
    let host = NodeRef::<leptos::html::Span>::new();
    let error = RwSignal::new(None::<String>);
    let rendered = RwSignal::new(false);
    let show = move |el: &web_sys::HtmlElement, result: Rendered| {
        let built = result.and_then(|tree| {
            el.owner_document()
                .ok_or_else(|| "no document".to_string())
                .and_then(|d| build(&d, &tree).map_err(describe))
        });
        match built {
            Ok(math) => {
                el.replace_children_with_node_1(&math);
                rendered.set(true);
            }
            Err(why) => error.set(Some(why)),
        }
    };
    let source = tex.clone();
    Effect::new(move |_| {
        let Some(el) = host.get() else { return };
        let el: web_sys::HtmlElement = el.into();
        // Known formulas (the streaming tail re-renders) swap in the same frame.
        match cached(&tex, display) {
            Some(hit) => show(&el, hit),
            None => {
                let tex = tex.clone();
                leptos::task::spawn_local(async move {
                    let result = render(&tex, display).await;
                    show(&el, result);
                });
            }
        }
    });
    view! {
        <span
            class="cf-math"
            class:cf-math-display=display
            class:cf-math-rendered=move || rendered.get()
            class:cf-math-error=move || error.with(Option::is_some)
            title=move || error.get()
            data-tex=source.clone()
            node_ref=host
        >
            <code>{source.clone()}</code>
        </span>
    }
}
