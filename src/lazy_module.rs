//! Wasm modules the widget loads only when first needed: `math` (TeX to MathML) with the
//! first formula, `highlight` (code tokens) with the first fenced code block. The page's
//! loader (boot.js, embed.js) hands over one function, `load(name)` → promise of the module
//! (`confab-<name>.js` and its wasm, SRI-checked in a release), and nothing is fetched
//! until a module is asked for.

use js_sys::{Function, Promise, Reflect};
use std::cell::RefCell;
use std::collections::HashMap;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// After a failed load, callers get the failure for this long before a new attempt, so a
/// stream re-rendering its tail every frame does not refetch every frame.
const RETRY_AFTER_MS: f64 = 10_000.0;

#[derive(Default)]
struct Module {
    /// The load in flight or done.
    pending: Option<Promise>,
    /// The module once loaded, for callers that cannot wait (a re-render).
    ready: Option<JsValue>,
    /// The last load failure and when it happened.
    failed: Option<(String, f64)>,
    /// Set when the module trapped (a panic): its instance is not used again.
    broken: Option<String>,
}

struct Modules {
    /// Resolves to the loader function once the page's loader has handed it over.
    loader: Promise,
    resolve_loader: Option<Function>,
    modules: HashMap<&'static str, Module>,
}

thread_local! {
    static MODULES: RefCell<Modules> = RefCell::new({
        let mut resolve_loader = None;
        let loader = Promise::new(&mut |resolve, _| resolve_loader = Some(resolve));
        Modules { loader, resolve_loader, modules: HashMap::new() }
    });
}

/// Called by the page's loader right after the widget starts: `load(name)` returns a promise
/// of the module `confab-<name>`.
#[wasm_bindgen]
pub fn set_module_loader(load: Function) {
    MODULES.with_borrow_mut(|m| {
        if let Some(resolve) = m.resolve_loader.take() {
            let _ = resolve.call1(&JsValue::NULL, &load);
        }
    });
}

/// The module if it has loaded (and is not broken): for rendering in the same frame.
pub fn ready(name: &'static str) -> Option<JsValue> {
    MODULES.with_borrow(|m| {
        m.modules
            .get(name)
            .filter(|module| module.broken.is_none())
            .and_then(|module| module.ready.clone())
    })
}

/// The module, loading it on first use; an error says why it is not available.
pub async fn load(name: &'static str) -> Result<JsValue, String> {
    let loader = MODULES.with_borrow(|m| m.loader.clone());
    let load: Function = JsFuture::from(loader)
        .await
        .map_err(describe)?
        .unchecked_into();
    let pending = MODULES.with_borrow_mut(|m| {
        let module = m.modules.entry(name).or_default();
        if let Some(why) = &module.broken {
            return Err(why.clone());
        }
        if let Some((why, at)) = &module.failed {
            if js_sys::Date::now() - at < RETRY_AFTER_MS {
                return Err(why.clone());
            }
        }
        Ok(module
            .pending
            .get_or_insert_with(|| match load.call1(&JsValue::NULL, &name.into()) {
                Ok(p) => Promise::resolve(&p),
                Err(e) => Promise::reject(&e),
            })
            .clone())
    })?;
    let result = JsFuture::from(pending.clone()).await;
    MODULES.with_borrow_mut(|m| {
        let module = m.modules.entry(name).or_default();
        // Only the newest attempt counts.
        if !module
            .pending
            .as_ref()
            .is_some_and(|p| js_sys::Object::is(p, &pending))
        {
            return result
                .map_err(|e| format!("the {name} module could not load: {}", describe(e)));
        }
        match result {
            Ok(value) => {
                module.ready = Some(value.clone());
                Ok(value)
            }
            Err(e) => {
                // A failed load (offline, blocked) may succeed later: forget this attempt
                // and wait a little before the next.
                let why = format!("the {name} module could not load: {}", describe(e));
                module.pending = None;
                module.failed = Some((why.clone(), js_sys::Date::now()));
                Err(why)
            }
        }
    })
}

/// An exported function of a loaded module.
pub fn export(module: &JsValue, function: &str) -> Result<Function, String> {
    Reflect::get(module, &JsValue::from_str(function))
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(|| format!("the module has no {function}"))
}

/// After a trap (a panic inside the module) its instance is not used again.
pub fn mark_broken(name: &'static str, why: &str) {
    MODULES.with_borrow_mut(|m| m.modules.entry(name).or_default().broken = Some(why.into()));
}

pub fn describe(e: JsValue) -> String {
    e.as_string()
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| "unknown error".into())
}
