//! The conversation list: new, switch, search, rename, delete with undo. Conversations
//! live in IndexedDB; the list keeps a small summary of each for showing and searching.

use super::{Notice, Play};
use confab_core::conversation::Conversation;
use confab_core::search::{next_after_delete, shown as shown_in, upsert, Summary};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// Keeps the shown conversation's summary fresh: it follows every save.
pub fn connect(play: Play) {
    let chat = play.chat;
    Effect::new(move |_| {
        let summary = chat.with_conv_saved(Summary::of);
        play.list.update(|l| upsert(l, summary));
    });
}

/// Puts a deleted conversation back.
pub fn restore(play: Play, conv: Conversation) {
    play.list.update(|l| upsert(l, Summary::of(&conv)));
    if let Some(storage) = play.storage.get_value() {
        spawn_local(async move { storage.save_conversation(&conv).await });
    }
}

fn delete(play: Play, id: String) {
    let Some(storage) = play.storage.get_value() else {
        return;
    };
    play.list.update(|l| l.retain(|x| x.id != id));
    let current = play.chat.with_conv(|c| c.id == id);
    let s = play.s;
    spawn_local(async move {
        let conv = if current {
            Some(play.chat.with_conv(Conversation::clone))
        } else {
            storage.load_conversation(&id).await
        };
        storage.delete_conversation(&id).await;
        if current {
            let next = play
                .list
                .with_untracked(|l| next_after_delete(l).map(|x| x.id.clone()));
            match next {
                Some(next) => play.open(next),
                None => play.new_conversation(),
            }
        }
        play.notice.set(Some(Notice {
            text: s.deleted.to_owned(),
            error: false,
            undo: conv,
        }));
    });
}

fn rename(play: Play, id: String, title: String) {
    let title = title.trim().to_owned();
    if play.chat.with_conv(|c| c.id == id) {
        play.chat.rename(&title);
        return;
    }
    let Some(storage) = play.storage.get_value() else {
        return;
    };
    spawn_local(async move {
        if let Some(mut conv) = storage.load_conversation(&id).await {
            conv.title = title;
            storage.save_conversation(&conv).await;
            play.list.update(|l| upsert(l, Summary::of(&conv)));
        }
    });
}

#[component]
pub fn Sidebar() -> impl IntoView {
    let play = expect_context::<Play>();
    let s = play.s;
    let query = RwSignal::new(String::new());
    let editing = RwSignal::new(None::<String>);
    let shown = move || {
        let current = play.conv_id.get();
        let q = query.get();
        play.list.with(|l| {
            shown_in(l, &current, &q)
                .into_iter()
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    view! {
        <div class="cf-pg-sidebar-head">
            <button type="button" class="cf-pg-btn cf-pg-primary" on:click=move |_| play.new_conversation()>
                {s.new_conversation}
            </button>
            <input class="cf-pg-input" type="search" aria-label=s.search placeholder=s.search
                prop:value=move || query.get() on:input=move |ev| query.set(event_target_value(&ev)) />
        </div>
        <ul class="cf-pg-convs">
            <For each=shown key=|x| (x.id.clone(), x.title.clone(), x.updated_ms as u64) let:item>
                <ConvItem item=item editing=editing />
            </For>
        </ul>
        <Show when=move || shown().is_empty()>
            <p class="cf-pg-hint">{s.no_matches}</p>
        </Show>
    }
}

#[component]
fn ConvItem(item: Summary, editing: RwSignal<Option<String>>) -> impl IntoView {
    let play = expect_context::<Play>();
    let s = play.s;
    let id = StoredValue::new(item.id.clone());
    let is_current = move || play.conv_id.get() == id.get_value();
    let is_editing = move || editing.with(|e| e.as_deref() == Some(id.get_value().as_str()));
    let title = item.title.clone();
    let commit = move |value: String| {
        editing.set(None);
        rename(play, id.get_value(), value);
    };
    view! {
        <li class="cf-pg-conv" class:cf-pg-current=is_current data-id=item.id.clone()>
            <Show when=is_editing fallback=move || {
                let title = title.clone();
                view! {
                    <button type="button" class="cf-pg-conv-open" aria-current=move || is_current().then_some("true")
                        on:click=move |_| play.open(id.get_value())>{title}</button>
                    <button type="button" class="cf-pg-icon-btn" aria-label=s.rename title=s.rename
                        on:click=move |_| editing.set(Some(id.get_value()))>"✎"</button>
                    <button type="button" class="cf-pg-icon-btn" aria-label=s.delete title=s.delete
                        on:click=move |_| delete(play, id.get_value())>"×"</button>
                }
            }>
                <input class="cf-pg-input cf-pg-rename" aria-label=s.rename value=item.title.clone() autofocus
                    on:keydown=move |ev: web_sys::KeyboardEvent| {
                        if ev.key() == "Enter" { commit(event_target_value(&ev)); }
                        if ev.key() == "Escape" { editing.set(None); }
                    }
                    on:blur=move |ev| if is_editing() { commit(event_target_value(&ev)) } />
            </Show>
        </li>
    }
}
