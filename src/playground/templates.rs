//! Prompt templates: the starters and the user's own (kept in localStorage). A template
//! with `{{variables}}` opens a small form; the filled text goes into the message box.

use super::Play;
use confab_core::templates::{fill, parse_saved, saved_to_json, starters, variables, Template};
use leptos::prelude::*;

const SAVED_KEY: &str = "confab-playground-templates";

fn load_saved() -> Vec<Template> {
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item(SAVED_KEY).ok().flatten())
        .map(|j| parse_saved(&j))
        .unwrap_or_default()
}

fn store_saved(list: &[Template]) {
    if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = s.set_item(SAVED_KEY, &saved_to_json(list));
    }
}

#[component]
pub fn Templates() -> impl IntoView {
    let play = expect_context::<Play>();
    let s = play.s;
    let saved = RwSignal::new(load_saved());
    let chosen = RwSignal::new(None::<Template>);
    let new_name = RwSignal::new(String::new());

    let save_current = move |_| {
        let text = play.draft.get_untracked();
        let name = new_name.get_untracked().trim().to_owned();
        if text.trim().is_empty() || name.is_empty() {
            return;
        }
        saved.update(|l| {
            l.retain(|t| t.name != name);
            l.push(Template::new(name, text));
        });
        saved.with_untracked(|l| store_saved(l));
        new_name.set(String::new());
    };
    let use_template = move |t: Template| {
        if variables(&t.text).is_empty() {
            play.draft.set(t.text);
            chosen.set(None);
        } else {
            chosen.set(Some(t));
        }
    };
    let item = move |t: Template, own: bool| {
        let name = t.name.clone();
        let for_use = t.clone();
        view! {
            <li class="cf-pg-template">
                <span class="cf-pg-template-name">{t.name.clone()}</span>
                <button type="button" class="cf-pg-btn" aria-label=format!("{} {}", s.use_template, name)
                    on:click=move |_| use_template(for_use.clone())>{s.use_template}</button>
                {own.then(|| {
                    let name = name.clone();
                    view! {
                        <button type="button" class="cf-pg-icon-btn" aria-label=format!("{} {}", s.delete, name)
                            on:click=move |_| {
                                saved.update(|l| l.retain(|x| x.name != name));
                                saved.with_untracked(|l| store_saved(l));
                            }>"×"</button>
                    }
                })}
            </li>
        }
    };

    view! {
        <section class="cf-pg-section" aria-labelledby="cf-pg-templates-h">
            <h3 id="cf-pg-templates-h" class="cf-pg-h">{s.templates}</h3>
            {move || chosen.get().map(|t| view! { <FillForm template=t chosen=chosen /> })}
            <h4 class="cf-pg-h4">{s.starters}</h4>
            <ul class="cf-pg-templates">
                {starters().into_iter().map(|t| item(t, false)).collect_view()}
            </ul>
            <h4 class="cf-pg-h4">{s.my_templates}</h4>
            <ul class="cf-pg-templates">
                {move || saved.get().into_iter().map(|t| item(t, true)).collect_view()}
            </ul>
            <div class="cf-pg-row">
                <input class="cf-pg-input" aria-label=s.template_name placeholder=s.template_name
                    prop:value=move || new_name.get() on:input=move |ev| new_name.set(event_target_value(&ev)) />
                <button type="button" class="cf-pg-btn" on:click=save_current>{s.save_as_template}</button>
            </div>
        </section>
    }
}

/// One field per variable; "Insert" puts the filled text into the message box.
#[component]
fn FillForm(template: Template, chosen: RwSignal<Option<Template>>) -> impl IntoView {
    let play = expect_context::<Play>();
    let s = play.s;
    let names = variables(&template.text);
    let values: Vec<RwSignal<String>> =
        names.iter().map(|_| RwSignal::new(String::new())).collect();
    let pairs = StoredValue::new(
        names
            .clone()
            .into_iter()
            .zip(values.clone())
            .collect::<Vec<_>>(),
    );
    let text = template.text.clone();
    let insert = move |ev: web_sys::SubmitEvent| {
        ev.prevent_default();
        let filled: Vec<(String, String)> = pairs
            .get_value()
            .into_iter()
            .map(|(k, v)| (k, v.get_untracked()))
            .collect();
        play.draft.set(fill(&text, &filled));
        chosen.set(None);
    };
    view! {
        <form class="cf-pg-fill" on:submit=insert aria-label=s.fill_variables>
            <p class="cf-pg-fill-title">{format!("{} — {}", template.name, s.fill_variables)}</p>
            {names.into_iter().zip(values).map(|(name, value)| view! {
                <label class="cf-pg-field">
                    <span>{name.clone()}</span>
                    <textarea class="cf-pg-input" rows="2" name=name.clone()
                        on:input=move |ev| value.set(event_target_value(&ev))></textarea>
                </label>
            }).collect_view()}
            <div class="cf-pg-row">
                <button type="submit" class="cf-pg-btn cf-pg-primary">{s.insert}</button>
                <button type="button" class="cf-pg-btn" on:click=move |_| chosen.set(None)>{s.cancel}</button>
            </div>
        </form>
    }
}
