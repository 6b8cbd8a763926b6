//! Images waiting in the composer: picked, dropped or pasted; each with a thumbnail, a
//! detail choice, its estimated tokens and a remove button. Refused files get a message and
//! change nothing else.

use crate::chat::Chat;
use crate::image_prep::{prepare, Prepared};
use confab_core::conversation::ImageRef;
use confab_core::estimate::image_tokens;
use confab_core::protocol::ImageDetail;
use leptos::html::Input;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

/// Long side of prepared images (OpenAI's high-detail limit).
pub const MAX_LONG_SIDE: u32 = 2048;
/// Long side for `low` detail: the model sees no more than 512 × 512, so nothing larger is sent.
pub const LOW_DETAIL_LONG_SIDE: u32 = 512;

#[derive(Clone)]
pub struct Attachment {
    pub key: u64,
    /// The file as picked, kept to prepare a smaller copy when `low` detail is chosen.
    pub file: web_sys::File,
    pub image: Prepared,
    /// The copy at most 512 px long, made when `low` detail is first chosen.
    pub low: RwSignal<Option<Prepared>, LocalStorage>,
    /// Whether that copy was asked for (it may still be in preparation).
    pub low_started: StoredValue<bool>,
    pub detail: RwSignal<ImageDetail>,
    pub thumb: String,
}

impl Attachment {
    /// What is sent: the low-detail copy when `low` is chosen and it is ready.
    fn to_send(&self) -> Prepared {
        match self.detail.get_untracked() {
            ImageDetail::Low => self
                .low
                .get_untracked()
                .unwrap_or_else(|| self.image.clone()),
            _ => self.image.clone(),
        }
    }
}

/// The composer's images and the messages about refused files; provided by the panel.
#[derive(Clone, Copy)]
pub struct Attachments {
    pub items: RwSignal<Vec<Attachment>, LocalStorage>,
    pub notices: RwSignal<Vec<String>>,
    /// Files being prepared right now (Send waits for them).
    pub pending: RwSignal<usize>,
    next_key: StoredValue<u64>,
}

impl Attachments {
    pub fn new() -> Self {
        Attachments {
            items: RwSignal::new_local(Vec::new()),
            notices: RwSignal::new(Vec::new()),
            pending: RwSignal::new(0),
            next_key: StoredValue::new(0),
        }
    }

    /// Prepares files one after another; each refusal becomes a notice.
    pub fn add_files(&self, files: Vec<web_sys::File>, max_images: usize) {
        if files.is_empty() {
            return;
        }
        let this = *self;
        this.notices.set(Vec::new());
        this.pending.update(|p| *p += files.len());
        spawn_local(async move {
            for file in files {
                let attached = this.items.with_untracked(Vec::len);
                match prepare(&file, attached, max_images, MAX_LONG_SIDE).await {
                    Ok(image) => {
                        if let Some(note) = &image.note {
                            this.notices.update(|n| n.push(note.clone()));
                        }
                        let key = this.next_key.get_value();
                        this.next_key.set_value(key + 1);
                        let thumb = web_sys::Url::create_object_url_with_blob(&image.blob)
                            .unwrap_or_default();
                        this.items.update(|items| {
                            items.push(Attachment {
                                key,
                                file,
                                image,
                                low: RwSignal::new_local(None),
                                low_started: StoredValue::new(false),
                                detail: RwSignal::new(ImageDetail::Auto),
                                thumb,
                            })
                        });
                    }
                    Err(message) => this.notices.update(|n| n.push(message)),
                }
                this.pending.update(|p| *p = p.saturating_sub(1));
            }
        });
    }

    /// Sets an image's detail; `low` on an image over 512 px prepares a smaller copy once
    /// (Send waits for it, like any image being prepared).
    pub fn set_detail(&self, item: &Attachment, detail: ImageDetail) {
        item.detail.set(detail);
        let large = item.image.width.max(item.image.height) > LOW_DETAIL_LONG_SIDE;
        if detail != ImageDetail::Low || !large || item.low_started.get_value() {
            return;
        }
        item.low_started.set_value(true);
        let (this, file, low) = (*self, item.file.clone(), item.low);
        this.pending.update(|p| *p += 1);
        spawn_local(async move {
            // Already checked when attached: no count limit applies to a second copy.
            match prepare(&file, 0, usize::MAX, LOW_DETAIL_LONG_SIDE).await {
                Ok(small) => low.set(Some(small)),
                Err(message) => this.notices.update(|n| n.push(message)),
            }
            this.pending.update(|p| *p = p.saturating_sub(1));
        });
    }

    pub fn remove(&self, key: u64) {
        self.items.update(|items| items.retain(|a| a.key != key));
    }

    /// Estimated tokens of all waiting images.
    pub fn total_tokens(&self) -> u32 {
        self.items.with(|items| {
            items
                .iter()
                .map(|a| image_tokens(a.image.width, a.image.height, a.detail.get()))
                .sum()
        })
    }

    /// Hands the images over for sending: kept in memory and stored as Blobs.
    pub fn take_for_send(&self, chat: &Chat) -> Vec<ImageRef> {
        let items = self.items.get_untracked();
        items
            .iter()
            .map(|a| {
                let image = a.to_send();
                let id = crate::images::new_id();
                crate::images::remember(&id, &image.blob, image.data_url.clone());
                if let Some(storage) = chat.storage() {
                    let (id, blob) = (id.clone(), image.blob.clone());
                    spawn_local(async move { storage.save_image(&id, &blob).await });
                }
                ImageRef {
                    id,
                    mime: image.mime,
                    width: image.width,
                    height: image.height,
                    bytes: image.bytes,
                    detail: a.detail.get_untracked(),
                    name: image.name,
                }
            })
            .collect()
    }

    pub fn clear(&self) {
        self.items.set(Vec::new());
        self.notices.set(Vec::new());
    }
}

impl Default for Attachments {
    fn default() -> Self {
        Self::new()
    }
}

/// Files of a FileList as a Vec.
pub fn files_of(list: Option<web_sys::FileList>) -> Vec<web_sys::File> {
    list.map(|l| (0..l.length()).filter_map(|i| l.item(i)).collect())
        .unwrap_or_default()
}

#[component]
pub fn AttachButton() -> impl IntoView {
    let chat = expect_context::<Chat>();
    let attachments = expect_context::<Attachments>();
    let t = chat.lang.t();
    let input = NodeRef::<Input>::new();
    let on_change = move |ev: web_sys::Event| {
        let Some(el) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        attachments.add_files(files_of(el.files()), chat.with_config(|c| c.max_images));
        el.set_value("");
    };
    view! {
        <input type="file" accept="image/*" multiple class="cf-file-input" node_ref=input
            aria-label=t.attach_image tabindex="-1" on:change=on_change />
        <button type="button" class="cf-attach" aria-label=t.attach_image title=t.attach_image
            on:click=move |_| { if let Some(el) = input.get_untracked() { el.click(); } }>
            <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
                <path d="M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5"
                    fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" />
            </svg>
        </button>
    }
}

#[component]
pub fn AttachmentTray() -> impl IntoView {
    let chat = expect_context::<Chat>();
    let attachments = expect_context::<Attachments>();
    let t = chat.lang.t();
    view! {
        <div class="cf-attachments-notices">
            <For each=move || attachments.notices.get() key=|n| n.clone() let:notice>
                <p class="cf-error cf-attach-error" role="alert">{notice}</p>
            </For>
        </div>
        <Show when=move || { !attachments.items.with(Vec::is_empty) || attachments.pending.get() > 0 }>
            <div class="cf-tray" part="attachments">
                <For each=move || attachments.items.get() key=|a| a.key let:item>
                    <AttachmentCard item=item />
                </For>
                <Show when=move || { attachments.pending.get() > 0 }>
                    <span class="cf-preparing">{t.preparing_image}</span>
                </Show>
                <span class="cf-tray-total">
                    {move || format!("≈ {} {}", attachments.total_tokens(), t.tokens)}
                </span>
            </div>
        </Show>
    }
}

#[component]
fn AttachmentCard(item: Attachment) -> impl IntoView {
    let chat = expect_context::<Chat>();
    let attachments = expect_context::<Attachments>();
    let t = chat.lang.t();
    let key = item.key;
    let detail = item.detail;
    let (w, h) = (item.image.width, item.image.height);
    let label = format!("{} ({w}×{h})", item.image.name);
    let card = item.clone();
    view! {
        <figure class="cf-thumb" data-name=item.image.name.clone() data-bytes=item.image.bytes>
            <img src=item.thumb alt=label.clone() title=label />
            <figcaption>
                <select aria-label=t.detail class="cf-detail"
                    on:change=move |ev| attachments.set_detail(&card, match event_target_value(&ev).as_str() {
                        "low" => ImageDetail::Low,
                        "high" => ImageDetail::High,
                        _ => ImageDetail::Auto,
                    })>
                    <option value="auto">"auto"</option>
                    <option value="low">"low"</option>
                    <option value="high">"high"</option>
                </select>
                <span class="cf-thumb-tokens">{move || format!("{} {}", image_tokens(w, h, detail.get()), t.tokens)}</span>
            </figcaption>
            <button type="button" class="cf-thumb-remove" aria-label=t.remove_image
                on:click=move |_| attachments.remove(key)>"×"</button>
        </figure>
    }
}
