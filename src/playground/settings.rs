//! The conversation's parameters (`Conversation.settings`), saved with it; the request body
//! holds exactly what these fields show. An empty field leaves the parameter out.

use super::Play;
use confab_core::conversation::Settings;
use confab_core::totals::UsageTotals;
use leptos::prelude::*;

type GetFn = fn(&Settings) -> String;
/// Parses the field's text into the settings; `Err` keeps the old value.
type SetFn = fn(&mut Settings, &str) -> Result<(), ()>;

fn opt<T: std::str::FromStr>(s: &str) -> Result<Option<T>, ()> {
    let s = s.trim();
    if s.is_empty() {
        Ok(None)
    } else {
        s.parse().map(Some).map_err(|_| ())
    }
}

fn show<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

#[component]
fn NumField(
    label: &'static str,
    name: &'static str,
    #[prop(optional)] min: Option<&'static str>,
    #[prop(optional)] max: Option<&'static str>,
    step: &'static str,
    get: GetFn,
    set: SetFn,
) -> impl IntoView {
    let play = expect_context::<Play>();
    let invalid = RwSignal::new(false);
    view! {
        <label class="cf-pg-field cf-pg-num">
            <span>{label}</span>
            <input class="cf-pg-input" type="number" name=name min=min max=max step=step
                placeholder=play.s.unset
                aria-invalid=move || invalid.get().then_some("true")
                prop:value=move || play.chat.setting(get)
                on:input=move |ev| {
                    let v = event_target_value(&ev);
                    let mut ok = true;
                    play.chat.update_settings(|s| ok = set(s, &v).is_ok());
                    invalid.set(!ok);
                } />
        </label>
    }
}

#[component]
pub fn SettingsForm() -> impl IntoView {
    let play = expect_context::<Play>();
    let s = play.s;
    let placeholder = move || {
        let m = play.chat.with_config(|c| c.model.clone());
        if m.is_empty() {
            s.server_default.to_owned()
        } else {
            m
        }
    };
    view! {
        <section class="cf-pg-section" aria-labelledby="cf-pg-params-h">
            <h3 id="cf-pg-params-h" class="cf-pg-h">{s.parameters}</h3>
            <label class="cf-pg-field">
                <span>{s.model}</span>
                <input class="cf-pg-input" name="model" list="cf-pg-models" spellcheck="false" autocomplete="off"
                    placeholder=placeholder
                    prop:value=move || play.chat.setting(|x| x.model.clone())
                    on:input=move |ev| { let v = event_target_value(&ev); play.chat.update_settings(|x| x.model = v) } />
                <datalist id="cf-pg-models">
                    <For each=move || play.endpoint.models.get() key=|m| m.clone() let:m>
                        <option value=m></option>
                    </For>
                </datalist>
            </label>
            <Show when=move || play.endpoint.models.with(|m| !m.is_empty())>
                <p class="cf-pg-hint">{move || format!("{} {}", play.endpoint.models.with(Vec::len), s.models_loaded)}</p>
            </Show>
            <label class="cf-pg-field">
                <span>{s.system_prompt}</span>
                <textarea class="cf-pg-input" name="system_prompt" rows="4"
                    prop:value=move || play.chat.setting(|x| x.system_prompt.clone())
                    on:input=move |ev| { let v = event_target_value(&ev); play.chat.update_settings(|x| x.system_prompt = v) }></textarea>
            </label>
            <div class="cf-pg-grid">
                <NumField label=s.temperature name="temperature" min="0" max="2" step="0.1"
                    get=|x| show(x.temperature) set=|x, v| { x.temperature = opt(v)?; Ok(()) } />
                <NumField label=s.top_p name="top_p" min="0" max="1" step="0.05"
                    get=|x| show(x.top_p) set=|x, v| { x.top_p = opt(v)?; Ok(()) } />
                <NumField label=s.max_tokens name="max_tokens" min="1" step="1"
                    get=|x| show(x.max_tokens) set=|x, v| { x.max_tokens = opt(v)?; Ok(()) } />
                <NumField label=s.seed name="seed" step="1"
                    get=|x| show(x.seed) set=|x, v| { x.seed = opt(v)?; Ok(()) } />
                <NumField label=s.presence_penalty name="presence_penalty" min="-2" max="2" step="0.1"
                    get=|x| show(x.presence_penalty) set=|x, v| { x.presence_penalty = opt(v)?; Ok(()) } />
                <NumField label=s.frequency_penalty name="frequency_penalty" min="-2" max="2" step="0.1"
                    get=|x| show(x.frequency_penalty) set=|x, v| { x.frequency_penalty = opt(v)?; Ok(()) } />
            </div>
            <label class="cf-pg-field">
                <span>{s.stop}</span>
                <textarea class="cf-pg-input cf-pg-mono" name="stop" rows="2" placeholder=s.stop_hint
                    prop:value=move || play.chat.setting(|x| x.stop.join("\n"))
                    on:input=move |ev| {
                        let v = event_target_value(&ev);
                        play.chat.update_settings(|x| x.stop = v.lines().filter(|l| !l.is_empty()).map(str::to_owned).collect())
                    }></textarea>
            </label>
            <label class="cf-pg-check">
                <input type="checkbox" name="json_mode" prop:checked=move || play.chat.setting(|x| x.json_mode)
                    on:change=move |ev| { let on = event_target_checked(&ev); play.chat.update_settings(|x| x.json_mode = on) } />
                <span>{s.json_mode}</span>
            </label>
        </section>
    }
}

/// Tokens of the conversation: the sum of the usage the server reported for each answer
/// (every branch, since each one was paid for).
#[component]
pub fn UsageSummary() -> impl IntoView {
    let play = expect_context::<Play>();
    let s = play.s;
    let totals = move || play.chat.with_conv_saved(UsageTotals::of);
    view! {
        <section class="cf-pg-section" aria-labelledby="cf-pg-usage-h">
            <h3 id="cf-pg-usage-h" class="cf-pg-h">{s.usage}</h3>
            <p class="cf-pg-usage" data-testid="conversation-usage">{move || {
                let UsageTotals { answers: n, prompt: p, completion: c, total: t } = totals();
                if n == 0 {
                    s.usage_none.to_owned()
                } else {
                    format!("{}: {n} · {p} + {c} = {t} {}", s.answers, s.tokens)
                }
            }}</p>
        </section>
    }
}
