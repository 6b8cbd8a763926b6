//! Export (JSON with images as data URLs, or Markdown) and import (JSON) of conversations.
//! The file formats and their checks are `confab_core::export`; this file moves the bytes.
//! Imports are capped at `export::MAX_IMPORT_BYTES` (50 MB), checked on the file's size
//! before it is read.

use super::strings::PlayStrings;
use super::Play;
use crate::chat::new_id;
use confab_core::conversation::Conversation;
use confab_core::export::{self, BadImage, Refusal};
use confab_core::search::Summary;
use confab_core::templates;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::collections::BTreeMap;
use wasm_bindgen::JsCast;

/// Offers `text` as a file download.
fn download(name: &str, mime: &str, text: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let parts = js_sys::Array::of1(&text.into());
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    if let Ok(a) = document
        .create_element("a")
        .map(|e| e.unchecked_into::<web_sys::HtmlAnchorElement>())
    {
        a.set_href(&url);
        a.set_download(name);
        a.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}

/// A file name from a title: letters, digits and dashes.
fn file_stem(title: &str) -> String {
    let stem: String = title
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let stem: String = stem.chars().take(48).collect();
    if stem.is_empty() {
        "conversation".into()
    } else {
        stem
    }
}

/// Data URLs of the images used by `convs`, from memory or IndexedDB.
async fn image_data(play: Play, convs: &[Conversation]) -> BTreeMap<String, String> {
    let ids = export::image_ids(convs);
    if let Some(storage) = play.storage.get_value() {
        crate::images::load(&storage, &ids).await;
    }
    ids.into_iter()
        .filter_map(|id| crate::images::data_url_for(&id).map(|u| (id, u)))
        .collect()
}

async fn conversations(play: Play, all: bool) -> Vec<Conversation> {
    let current = play.chat.with_conv(Conversation::clone);
    if !all {
        return vec![current];
    }
    let mut convs = match play.storage.get_value() {
        Some(storage) => storage.load_conversations().await,
        None => Vec::new(),
    };
    convs.retain(|c| c.id != current.id && !c.nodes.is_empty());
    if !current.nodes.is_empty() {
        convs.push(current);
    }
    convs.sort_by(|a, b| a.created_ms.total_cmp(&b.created_ms));
    convs
}

fn export(play: Play, all: bool, markdown: bool) {
    spawn_local(async move {
        let convs = conversations(play, all).await;
        let images = image_data(play, &convs).await;
        let stem = if all {
            "confab-conversations".to_owned()
        } else {
            file_stem(&convs[0].title_or_default())
        };
        if markdown {
            download(
                &format!("{stem}.md"),
                "text/markdown",
                &export::all_to_markdown(&convs, &images),
            );
        } else {
            download(
                &format!("{stem}.json"),
                "application/json",
                &export::to_json(&convs, &images),
            );
        }
    });
}

/// Turns a checked `data:image/…;base64,…` URL back into a Blob.
fn blob_of(data_url: &str) -> Option<web_sys::Blob> {
    let (meta, b64) = data_url.strip_prefix("data:")?.split_once(',')?;
    let mime = meta.strip_suffix(";base64")?;
    let bin = web_sys::window()?.atob(b64).ok()?;
    let bytes: Vec<u8> = bin.chars().map(|c| c as u32 as u8).collect();
    let arr = js_sys::Uint8Array::from(bytes.as_slice());
    let parts = js_sys::Array::of1(&arr);
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &opts).ok()
}

/// The status line for a refused import, in the page's language.
fn refusal_message(s: &PlayStrings, refusal: &Refusal) -> String {
    let fill = |template: &str, values: &[(&str, String)]| {
        let values: Vec<(String, String)> = values
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        templates::fill(template, &values)
    };
    let reason = match refusal {
        Refusal::TooLarge { bytes } => fill(
            s.import_too_large,
            &[
                ("size", format!("{:.1}", *bytes as f64 / 1_048_576.0)),
                ("max", (export::MAX_IMPORT_BYTES / 1_048_576).to_string()),
            ],
        ),
        Refusal::Image {
            conversation,
            image,
            problem,
        } => {
            let template = match problem {
                BadImage::Svg => s.import_svg,
                BadImage::NotRaster => s.import_not_image,
            };
            let values = [
                ("image", image.clone()),
                ("conversation", conversation.clone()),
            ];
            fill(template, &values)
        }
        Refusal::Unreadable(reason) => reason.clone(),
    };
    format!("{}: {reason}", s.import_failed)
}

/// A conversation id used neither in the list nor by the conversation shown.
fn free_conversation_id(play: Play) -> String {
    loop {
        let id = new_id();
        let taken = play.list.with_untracked(|l| l.iter().any(|x| x.id == id))
            || play.chat.with_conv(|c| c.id == id);
        if !taken {
            return id;
        }
    }
}

/// An image id not used by an image in memory.
fn free_image_id() -> String {
    loop {
        let id = crate::images::new_id();
        if crate::images::data_url_for(&id).is_none() {
            return id;
        }
    }
}

/// Reads an export file and, unless it is refused, stores what it could read under fresh
/// ids (nothing stored is overwritten). Shows the first imported conversation and reports
/// what was skipped. A refused file changes nothing: every check runs before any write.
pub async fn import_text(play: Play, text: String) {
    let s = play.s;
    let got = match export::from_json(&text) {
        Ok(got) => got.with_fresh_ids(|| free_conversation_id(play), free_image_id),
        Err(refusal) => {
            play.say(refusal_message(s, &refusal), true);
            return;
        }
    };
    let storage = play.storage.get_value();
    for (id, url) in &got.images {
        if let Some(blob) = blob_of(url) {
            crate::images::remember(id, &blob, url.clone());
            if let Some(storage) = &storage {
                storage.save_image(id, &blob).await;
            }
        }
    }
    let mut first = None;
    let count = got.conversations.len();
    for conv in got.conversations {
        if let Some(storage) = &storage {
            storage.save_conversation(&conv).await;
        }
        play.list.update(|l| l.push(Summary::of(&conv)));
        first.get_or_insert(conv);
    }
    let mut message = format!("{}: {count}.", s.imported);
    for p in &got.problems {
        message.push(' ');
        message.push_str(p);
    }
    if let Some(conv) = first {
        play.show(conv);
    }
    play.say(message, !got.problems.is_empty());
}

#[component]
pub fn ExportImport() -> impl IntoView {
    let play = expect_context::<Play>();
    let s = play.s;
    let on_file = move |ev: web_sys::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        input.set_value("");
        if let Err(refusal) = export::check_size(file.size() as u64) {
            play.say(refusal_message(s, &refusal), true);
            return;
        }
        spawn_local(async move {
            match wasm_bindgen_futures::JsFuture::from(file.text()).await {
                Ok(text) => import_text(play, text.as_string().unwrap_or_default()).await,
                Err(_) => play.say(
                    format!("{}: the file could not be read.", s.import_failed),
                    true,
                ),
            }
        });
    };
    view! {
        <section class="cf-pg-section" aria-labelledby="cf-pg-io-h">
            <h3 id="cf-pg-io-h" class="cf-pg-h">{s.export_import}</h3>
            <div class="cf-pg-buttons">
                <button type="button" class="cf-pg-btn" on:click=move |_| export(play, false, false)>{s.export_json}</button>
                <button type="button" class="cf-pg-btn" on:click=move |_| export(play, false, true)>{s.export_markdown}</button>
                <button type="button" class="cf-pg-btn" on:click=move |_| export(play, true, false)>{s.export_all_json}</button>
                <button type="button" class="cf-pg-btn" on:click=move |_| export(play, true, true)>{s.export_all_markdown}</button>
                <label class="cf-pg-btn cf-pg-file">
                    {s.import}
                    <input type="file" accept="application/json,.json" class="cf-pg-file-input"
                        name="import" on:change=on_file />
                </label>
            </div>
        </section>
    }
}
