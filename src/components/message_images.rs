//! The images of a sent message: thumbnails that open large on click. They come from our
//! own Blobs (object URLs), loaded back from storage after a reload.

use crate::chat::Chat;
use confab_core::conversation::ImageRef;
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn MessageImages(images: Vec<ImageRef>) -> impl IntoView {
    let chat = expect_context::<Chat>();
    let t = chat.lang.t();
    let ids: Vec<String> = images.iter().map(|i| i.id.clone()).collect();
    // Bumped when stored images have been read back into memory.
    let loaded = RwSignal::new(0u32);
    if ids
        .iter()
        .any(|id| crate::images::object_url_for(id).is_none())
    {
        if let Some(storage) = chat.storage() {
            spawn_local(async move {
                crate::images::load(&storage, &ids).await;
                loaded.try_update(|n| *n += 1);
            });
        }
    }
    let large = RwSignal::new(None::<String>);
    let thumbs = images
        .into_iter()
        .map(|img| {
            let id = img.id.clone();
            let alt = format!("{} ({}×{})", img.name, img.width, img.height);
            let src = {
                let id = id.clone();
                move || {
                    loaded.track();
                    crate::images::object_url_for(&id)
                }
            };
            let open = move |_| {
                loaded.track();
                large.set(crate::images::object_url_for(&id))
            };
            view! {
                <button type="button" class="cf-image-thumb" aria-label=t.view_image on:click=open>
                    <img src=src alt=alt.clone() title=alt data-detail=img.detail.as_str() />
                </button>
            }
        })
        .collect_view();
    view! {
        <div class="cf-message-images">{thumbs}</div>
        <Show when=move || large.with(Option::is_some)>
            <button type="button" class="cf-lightbox" aria-label=t.close on:click=move |_| large.set(None)>
                <img src=move || large.get() alt="" />
            </button>
        </Show>
    }
}
