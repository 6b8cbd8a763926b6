//! An answer's body. A settled answer is parsed once; the answer being written is drawn
//! from its `LiveDoc`: each frozen block appended once as a keyed child, only the open tail
//! drawn again per published frame, and nothing drawn anew when it settles.

use crate::chat::{Chat, LiveDoc};
use crate::components::message::Reasoning;
use crate::markdown_view::{block_view, blocks_view, MessageBody};
use confab_core::controller::RunId;
use confab_core::conversation::NodeId;
use confab_core::markdown::parse;
use leptos::prelude::*;

#[component]
pub fn AnswerBody(id: NodeId) -> impl IntoView {
    let chat = expect_context::<Chat>();
    // The last run that wrote into this answer: it stays after the run settles, so the
    // body is only built again when the answer is continued.
    let run = Memo::new(move |prev: Option<&Option<RunId>>| {
        chat.live_run(id).or(prev.copied().flatten())
    });
    move || match run.get().and_then(|_| chat.live_doc(id)) {
        Some(live) => view! {
            <Reasoning text=RwSignal::from(live.reasoning.clone()).into() />
            <LiveBody live=live />
        }
        .into_any(),
        None => view! {
            <Reasoning text=Signal::stored(chat.reasoning_of(id)) />
            <MessageBody text=Signal::stored(chat.text_of(id)) streaming=false />
        }
        .into_any(),
    }
}

#[component]
fn LiveBody(live: LiveDoc) -> impl IntoView {
    let chat = expect_context::<Chat>();
    let LiveDoc {
        doc, frame, done, ..
    } = live;
    // Copy handles for the closures below, owned by this view.
    let doc = StoredValue::from(doc);
    let frame = RwSignal::from(frame);
    if chat.with_config(|c| c.naive_render) {
        // The benchmark's baseline: the whole answer parsed and drawn on every frame.
        let all = move || {
            frame.track();
            doc.with_value(|d| blocks_view(&parse(d.text())))
        };
        return view! { <div class="cf-markdown" dir="auto">{all}</div> }.into_any();
    }
    let frozen = Memo::new(move |_| {
        frame.track();
        doc.with_value(|d| d.frozen_len())
    });
    // Reference links are settled by one full parse at the end, only when there are any.
    let reparsed = RwSignal::new(false);
    let done = RwSignal::from(done);
    Effect::new(move |_| {
        if done.get() && doc.try_update_value(|d| d.settle()) == Some(true) {
            reparsed.set(true);
        }
    });
    let blocks = move || {
        if reparsed.get() {
            return doc.with_value(|d| blocks_view(d.frozen()));
        }
        let tail = move || {
            frame.track();
            doc.with_value(|d| blocks_view(d.tail()))
        };
        view! {
            <For each=move || 0..frozen.get() key=|i| *i let:i>
                {doc.with_value(|d| d.frozen().get(i).map(block_view))}
            </For>
            {tail}
        }
        .into_any()
    };
    view! { <div class="cf-markdown" dir="auto">{blocks}</div> }.into_any()
}
