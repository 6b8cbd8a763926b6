//! IndexedDB persistence: conversations (JSON), drafts, images (Blobs) and small settings.
//! When IndexedDB is missing, blocked or full, `Storage::open` fails or writes report
//! an error once, and the chat keeps working in memory.

use js_sys::{Array, Promise};
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbRequest, IdbTransactionMode};

const DB_NAME: &str = "confab";
const DB_VERSION: u32 = 1;
pub const CONVERSATIONS: &str = "conversations";
pub const DRAFTS: &str = "drafts";
pub const IMAGES: &str = "images";
pub const META: &str = "meta";

#[derive(Clone)]
pub struct Storage {
    db: IdbDatabase,
    /// Set after the first failed write, so the user is told once.
    failed: Rc<Cell<bool>>,
    on_failure: Rc<dyn Fn()>,
}

/// Resolves with the request's result, rejects with its error.
fn settle(request: &IdbRequest) -> JsFuture {
    let request = request.clone();
    let promise = Promise::new(&mut |resolve, reject| {
        let ok = request.clone();
        let on_success = Closure::once_into_js(move |_: web_sys::Event| {
            let _ = resolve.call1(&JsValue::NULL, &ok.result().unwrap_or(JsValue::UNDEFINED));
        });
        let bad = request.clone();
        let on_error = Closure::once_into_js(move |_: web_sys::Event| {
            let err = bad
                .error()
                .ok()
                .flatten()
                .map(JsValue::from)
                .unwrap_or_else(|| JsValue::from_str("IndexedDB request failed"));
            let _ = reject.call1(&JsValue::NULL, &err);
        });
        request.set_onsuccess(Some(on_success.unchecked_ref()));
        request.set_onerror(Some(on_error.unchecked_ref()));
    });
    JsFuture::from(promise)
}

impl Storage {
    pub async fn open(on_failure: impl Fn() + 'static) -> Result<Storage, JsValue> {
        let factory = web_sys::window()
            .ok_or("no window")?
            .indexed_db()?
            .ok_or("IndexedDB is not available")?;
        let open = factory.open_with_u32(DB_NAME, DB_VERSION)?;
        let upgrade = Closure::<dyn FnMut(web_sys::IdbVersionChangeEvent)>::new(
            move |e: web_sys::IdbVersionChangeEvent| {
                let Some(req) = e
                    .target()
                    .and_then(|t| t.dyn_into::<web_sys::IdbOpenDbRequest>().ok())
                else {
                    return;
                };
                let Ok(db) = req.result().and_then(|r| r.dyn_into::<IdbDatabase>()) else {
                    return;
                };
                let existing = db.object_store_names();
                for store in [CONVERSATIONS, DRAFTS, IMAGES, META] {
                    if !existing.contains(store) {
                        let _ = db.create_object_store(store);
                    }
                }
            },
        );
        open.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
        let db = settle(&open).await?;
        drop(upgrade);
        Ok(Storage {
            db: db.dyn_into()?,
            failed: Rc::new(Cell::new(false)),
            on_failure: Rc::new(on_failure),
        })
    }

    async fn put(&self, store: &str, key: &str, value: &JsValue) -> Result<(), JsValue> {
        let tx = self
            .db
            .transaction_with_str_and_mode(store, IdbTransactionMode::Readwrite)?;
        let req = tx.object_store(store)?.put_with_key(value, &key.into())?;
        settle(&req).await.map(|_| ())
    }

    async fn get(&self, store: &str, key: &str) -> Result<JsValue, JsValue> {
        let tx = self.db.transaction_with_str(store)?;
        let req = tx.object_store(store)?.get(&key.into())?;
        settle(&req).await
    }

    async fn delete(&self, store: &str, key: &str) -> Result<(), JsValue> {
        let tx = self
            .db
            .transaction_with_str_and_mode(store, IdbTransactionMode::Readwrite)?;
        let req = tx.object_store(store)?.delete(&key.into())?;
        settle(&req).await.map(|_| ())
    }

    async fn all_values(&self, store: &str) -> Result<Array, JsValue> {
        let tx = self.db.transaction_with_str(store)?;
        let req = tx.object_store(store)?.get_all()?;
        Ok(settle(&req).await?.unchecked_into())
    }

    fn report(&self, result: Result<(), JsValue>) {
        if let Err(e) = result {
            web_sys::console::warn_2(&"Confab: could not save".into(), &e);
            if !self.failed.replace(true) {
                (self.on_failure)();
            }
        }
    }

    pub async fn save_conversation(&self, conv: &confab_core::conversation::Conversation) {
        let json = conv.to_json();
        let result = self.put(CONVERSATIONS, &conv.id, &json.into()).await;
        self.report(result);
    }

    pub async fn delete_conversation(&self, id: &str) {
        let result = self.delete(CONVERSATIONS, id).await;
        self.report(result);
        let _ = self.delete(DRAFTS, id).await;
    }

    /// Every stored conversation; unreadable ones are skipped with a console warning.
    pub async fn load_conversations(&self) -> Vec<confab_core::conversation::Conversation> {
        let Ok(values) = self.all_values(CONVERSATIONS).await else {
            return Vec::new();
        };
        values
            .iter()
            .filter_map(|v| v.as_string())
            .filter_map(
                |json| match confab_core::conversation::Conversation::from_json(&json) {
                    Ok(c) => Some(c),
                    Err(e) => {
                        web_sys::console::warn_1(
                            &format!("Confab: a stored conversation could not be read: {e}").into(),
                        );
                        None
                    }
                },
            )
            .collect()
    }

    pub async fn load_conversation(
        &self,
        id: &str,
    ) -> Option<confab_core::conversation::Conversation> {
        let json = self.get(CONVERSATIONS, id).await.ok()?.as_string()?;
        confab_core::conversation::Conversation::from_json(&json).ok()
    }

    pub async fn save_draft(&self, conv_id: &str, text: &str) {
        let result = if text.is_empty() {
            self.delete(DRAFTS, conv_id).await
        } else {
            self.put(DRAFTS, conv_id, &text.into()).await
        };
        self.report(result);
    }

    pub async fn load_draft(&self, conv_id: &str) -> String {
        self.get(DRAFTS, conv_id)
            .await
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    }

    pub async fn save_meta(&self, key: &str, value: &str) {
        let result = self.put(META, key, &value.into()).await;
        self.report(result);
    }

    pub async fn load_meta(&self, key: &str) -> Option<String> {
        self.get(META, key).await.ok().and_then(|v| v.as_string())
    }

    pub async fn save_image(&self, id: &str, blob: &web_sys::Blob) {
        let result = self.put(IMAGES, id, blob).await;
        self.report(result);
    }

    pub async fn load_image(&self, id: &str) -> Option<web_sys::Blob> {
        self.get(IMAGES, id).await.ok()?.dyn_into().ok()
    }
}
