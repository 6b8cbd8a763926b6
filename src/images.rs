//! Images attached to messages. Their bytes live as Blobs in IndexedDB; in memory we keep,
//! per image id, the data URL a request needs and an object URL for thumbnails.

use crate::storage::Storage;
use std::cell::RefCell;
use std::collections::HashMap;

#[derive(Clone, Default)]
struct Loaded {
    data_url: Option<String>,
    object_url: Option<String>,
}

thread_local! {
    static LOADED: RefCell<HashMap<String, Loaded>> = RefCell::new(HashMap::new());
}

/// The data URL of an image that is in memory.
pub fn data_url_for(id: &str) -> Option<String> {
    LOADED.with(|m| m.borrow().get(id).and_then(|l| l.data_url.clone()))
}

/// An object URL for showing the image (no network: it points at our own Blob).
pub fn object_url_for(id: &str) -> Option<String> {
    LOADED.with(|m| m.borrow().get(id).and_then(|l| l.object_url.clone()))
}

/// Keeps a prepared image in memory.
pub fn remember(id: &str, blob: &web_sys::Blob, data_url: String) {
    let object_url = web_sys::Url::create_object_url_with_blob(blob).ok();
    LOADED.with(|m| {
        m.borrow_mut().insert(
            id.to_string(),
            Loaded {
                data_url: Some(data_url),
                object_url,
            },
        )
    });
}

/// Brings stored images back into memory (after a reload). Missing ones stay missing.
pub async fn load(storage: &Storage, ids: &[String]) {
    for id in ids {
        if data_url_for(id).is_some() {
            continue;
        }
        if let Some(blob) = storage.load_image(id).await {
            if let Ok(url) = crate::image_prep::data_url(&blob).await {
                remember(id, &blob, url);
            }
        }
    }
}

/// A new random image id.
pub fn new_id() -> String {
    format!(
        "img{:x}{:x}",
        js_sys::Date::now() as u64,
        (js_sys::Math::random() * 4_294_967_296.0) as u64
    )
}
