//! Formulas as MathML. TeX goes to the math module (`confab-math`, a second wasm the page's
//! loader fetches when the first formula appears); its MathML string is read back through
//! `confab_core::mathml`'s allowlist and built with `createElementNS`, text nodes and the
//! CSSOM: never parsed as markup. Until it is ready, and when a formula fails, the TeX
//! source shows as text.

use confab_core::mathml::{parse_mathml, MathNode};
use js_sys::{Function, Promise, Reflect};
use leptos::prelude::*;
use std::cell::RefCell;
use std::collections::HashMap;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

const MATHML_NS: &str = "http://www.w3.org/1998/Math/MathML";
/// Rendered formulas kept for re-renders (the streaming tail, a re-opened conversation).
const CACHE_LIMIT: usize = 512;

type Rendered = Result<MathNode, String>;

/// After a failed load, formulas show their source for this long before a new attempt, so a
/// stream re-rendering its tail every frame does not refetch every frame.
const RETRY_AFTER_MS: f64 = 10_000.0;

struct MathModule {
    /// Resolves to the loader function once the page's loader has handed it over.
    loader: Promise,
    resolve_loader: Option<Function>,
    /// The loaded module, once the first formula asked for it.
    module: Option<Promise>,
    /// The last load failure and when it happened.
    failed: Option<(String, f64)>,
    /// Set when the module trapped (a panic): its instance is not used again.
    broken: Option<String>,
    cache: HashMap<(String, bool), Rendered>,
}

thread_local! {
    static MATH: RefCell<MathModule> = RefCell::new({
        let mut resolve_loader = None;
        let loader = Promise::new(&mut |resolve, _| resolve_loader = Some(resolve));
        MathModule {
            loader,
            resolve_loader,
            module: None,
            failed: None,
            broken: None,
            cache: HashMap::new(),
        }
    });
}

/// Called by the page's loader (boot.js, embed.js) right after the widget starts: `load`
/// returns a promise of the math module. Nothing is fetched until a formula needs it.
#[wasm_bindgen]
pub fn set_math_loader(load: Function) {
    MATH.with_borrow_mut(|m| {
        if let Some(resolve) = m.resolve_loader.take() {
            let _ = resolve.call1(&JsValue::NULL, &load);
        }
    });
}

async fn module() -> Result<JsValue, String> {
    let loader = MATH.with_borrow(|m| m.loader.clone());
    let load: Function = JsFuture::from(loader)
        .await
        .map_err(describe)?
        .unchecked_into();
    let pending = MATH.with_borrow_mut(|m| {
        if let Some(why) = &m.broken {
            return Err(why.clone());
        }
        if let Some((why, at)) = &m.failed {
            if js_sys::Date::now() - at < RETRY_AFTER_MS {
                return Err(why.clone());
            }
        }
        Ok(m.module
            .get_or_insert_with(|| match load.call0(&JsValue::NULL) {
                Ok(p) => Promise::resolve(&p),
                Err(e) => Promise::reject(&e),
            })
            .clone())
    })?;
    JsFuture::from(pending.clone()).await.map_err(|e| {
        let why = format!("the math module could not load: {}", describe(e));
        // A failed load (offline, blocked) may succeed later: forget this attempt (unless a
        // newer one replaced it) and wait a little before the next.
        MATH.with_borrow_mut(|m| {
            if m.module
                .as_ref()
                .is_some_and(|p| js_sys::Object::is(p, &pending))
            {
                m.module = None;
                m.failed = Some((why.clone(), js_sys::Date::now()));
            }
        });
        why
    })
}

fn describe(e: JsValue) -> String {
    e.as_string()
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| "unknown error".into())
}

fn cached(tex: &str, display: bool) -> Option<Rendered> {
    MATH.with_borrow(|m| m.cache.get(&(tex.to_string(), display)).cloned())
}

async fn render(tex: &str, display: bool) -> Rendered {
    if let Some(hit) = cached(tex, display) {
        return hit;
    }
    let module = module().await?;
    // Other copies of this formula (the streaming tail) may have rendered it meanwhile.
    if let Some(hit) = cached(tex, display) {
        return hit;
    }
    let render_math: Function = Reflect::get(&module, &JsValue::from_str("render_math"))
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or("the math module has no render_math")?;
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
            MATH.with_borrow_mut(|m| m.broken = Some(why.clone()));
            return Err(why);
        }
    };
    MATH.with_borrow_mut(|m| {
        if m.cache.len() >= CACHE_LIMIT {
            m.cache.clear();
        }
        m.cache.insert((tex.to_string(), display), result.clone());
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
