//! Where the playground sends its requests: a server preset, its base URL and the key.
//!
//! The preset and URL are remembered in localStorage; the key and extra headers only in
//! sessionStorage unless the user ticks "remember on this device". Whatever is chosen is
//! written into `chat.config` (endpoint and headers), so the key goes to that endpoint only.

use super::Play;
use gloo_net::http::Request;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    #[default]
    Confab,
    OpenAi,
    Azure,
    Ollama,
    Vllm,
    LlamaCpp,
    LmStudio,
    OpenRouter,
    Custom,
}

impl Preset {
    pub const ALL: [Preset; 9] = [
        Preset::Confab,
        Preset::OpenAi,
        Preset::Azure,
        Preset::Ollama,
        Preset::Vllm,
        Preset::LlamaCpp,
        Preset::LmStudio,
        Preset::OpenRouter,
        Preset::Custom,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Preset::Confab => "confab",
            Preset::OpenAi => "openai",
            Preset::Azure => "azure",
            Preset::Ollama => "ollama",
            Preset::Vllm => "vllm",
            Preset::LlamaCpp => "llama-cpp",
            Preset::LmStudio => "lm-studio",
            Preset::OpenRouter => "openrouter",
            Preset::Custom => "custom",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Preset::Confab => "This Confab server",
            Preset::OpenAi => "OpenAI",
            Preset::Azure => "Azure OpenAI",
            Preset::Ollama => "Ollama",
            Preset::Vllm => "vLLM",
            Preset::LlamaCpp => "llama.cpp server",
            Preset::LmStudio => "LM Studio",
            Preset::OpenRouter => "OpenRouter",
            Preset::Custom => "Custom",
        }
    }

    fn from_str(s: &str) -> Preset {
        Preset::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .unwrap_or_default()
    }

    pub fn default_base(self) -> &'static str {
        match self {
            Preset::Confab => "",
            Preset::OpenAi => "https://api.openai.com/v1",
            Preset::Azure => "https://YOUR-RESOURCE.openai.azure.com",
            Preset::Ollama => "http://localhost:11434/v1",
            Preset::Vllm => "http://localhost:8000/v1",
            Preset::LlamaCpp => "http://localhost:8080/v1",
            Preset::LmStudio => "http://localhost:1234/v1",
            Preset::OpenRouter => "https://openrouter.ai/api/v1",
            Preset::Custom => "http://localhost:8000/v1",
        }
    }
}

/// What is remembered in localStorage: nothing secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Prefs {
    pub preset: Preset,
    pub base_url: String,
    pub deployment: String,
    pub api_version: String,
}

impl Default for Prefs {
    fn default() -> Self {
        Prefs {
            preset: Preset::Confab,
            base_url: String::new(),
            deployment: String::new(),
            api_version: "2024-10-21".into(),
        }
    }
}

/// What is kept per tab unless remembered.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Secrets {
    pub key: String,
    /// `Name: value` lines, custom preset only.
    pub extra_headers: String,
}

const PREFS_KEY: &str = "confab-playground-endpoint";
const SECRETS_KEY: &str = "confab-playground-secrets";
const REMEMBER_KEY: &str = "confab-playground-remember";

fn local() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn session() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

fn read(store: Option<web_sys::Storage>, key: &str) -> Option<String> {
    store?.get_item(key).ok()?
}

pub fn load() -> (Prefs, Secrets, bool) {
    let prefs = read(local(), PREFS_KEY)
        .and_then(|j| serde_json::from_str(&j).ok())
        .unwrap_or_default();
    let remember = read(local(), REMEMBER_KEY).as_deref() == Some("1");
    let store = if remember { local() } else { session() };
    let secrets = read(store, SECRETS_KEY)
        .and_then(|j| serde_json::from_str(&j).ok())
        .unwrap_or_default();
    (prefs, secrets, remember)
}

fn store_prefs(prefs: &Prefs) {
    if let (Some(s), Ok(json)) = (local(), serde_json::to_string(prefs)) {
        let _ = s.set_item(PREFS_KEY, &json);
    }
}

/// Writes the secrets where they belong and removes them from the other storage.
fn store_secrets(secrets: &Secrets, remember: bool) {
    let json = serde_json::to_string(secrets).unwrap_or_default();
    let empty = secrets == &Secrets::default();
    let (keep, clear) = if remember {
        (local(), session())
    } else {
        (session(), local())
    };
    if let Some(s) = clear {
        let _ = s.remove_item(SECRETS_KEY);
    }
    if let Some(s) = keep {
        let _ = if empty {
            s.remove_item(SECRETS_KEY)
        } else {
            s.set_item(SECRETS_KEY, &json)
        };
    }
    if let Some(s) = local() {
        let _ = if remember {
            s.set_item(REMEMBER_KEY, "1")
        } else {
            s.remove_item(REMEMBER_KEY)
        };
    }
}

fn trim_slash(s: &str) -> &str {
    s.trim().trim_end_matches('/')
}

/// The chat completions URL. `confab_endpoint` is the page's configured endpoint.
pub fn chat_url(prefs: &Prefs, confab_endpoint: &str) -> String {
    let base = trim_slash(&prefs.base_url);
    match prefs.preset {
        Preset::Confab => confab_endpoint.to_owned(),
        Preset::Azure => format!(
            "{base}/openai/deployments/{}/chat/completions?api-version={}",
            prefs.deployment.trim(),
            prefs.api_version.trim()
        ),
        _ => format!("{base}/chat/completions"),
    }
}

/// Where `GET /models` lives, when the server kind offers it.
pub fn models_url(prefs: &Prefs, confab_endpoint: &str) -> Option<String> {
    match prefs.preset {
        Preset::Azure => None,
        Preset::Confab => Some(match confab_endpoint.strip_suffix("/chat/completions") {
            Some(base) => format!("{base}/models"),
            None => return None,
        }),
        _ => Some(format!("{}/models", trim_slash(&prefs.base_url))),
    }
}

pub fn headers(prefs: &Prefs, secrets: &Secrets) -> Vec<(String, String)> {
    let key = secrets.key.trim();
    let mut out = Vec::new();
    match prefs.preset {
        Preset::Confab => return out,
        Preset::Azure if !key.is_empty() => out.push(("api-key".into(), key.into())),
        _ if !key.is_empty() => out.push(("Authorization".into(), format!("Bearer {key}"))),
        _ => {}
    }
    if prefs.preset == Preset::Custom {
        for line in secrets.extra_headers.lines() {
            if let Some((k, v)) = line.split_once(':') {
                let k = k.trim();
                let valid = !k.is_empty()
                    && k.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_!#$%&'*+.^`|~".contains(&b));
                if valid {
                    out.push((k.to_owned(), v.trim().to_owned()));
                }
            }
        }
    }
    out
}

/// Whether `url` is plain http to a host other than this machine.
pub fn is_insecure_remote(url: &str) -> bool {
    let Some(rest) = url
        .get(..7)
        .filter(|s| s.eq_ignore_ascii_case("http://"))
        .map(|_| &url[7..])
    else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        host_port.split(':').next().unwrap_or("")
    }
    .to_ascii_lowercase();
    let local = host == "localhost"
        || host.ends_with(".localhost")
        || host.starts_with("127.")
        || host == "::1"
        || host == "0.0.0.0";
    !local
}

/// The endpoint state of the page. `Copy`: signals only.
#[derive(Clone, Copy)]
pub struct Endpoint {
    pub prefs: RwSignal<Prefs>,
    pub secrets: RwSignal<Secrets>,
    pub remember: RwSignal<bool>,
    pub models: RwSignal<Vec<String>>,
    /// The page's own endpoint (from `data-endpoint` or `?endpoint=`).
    pub confab_endpoint: StoredValue<String>,
}

impl Endpoint {
    /// `from_link`: `confab_endpoint` came from the page's `?endpoint=`; the page then uses
    /// it whatever server was chosen before (that choice stays stored for the next visit).
    pub fn new(confab_endpoint: String, from_link: bool) -> Self {
        let (mut prefs, secrets, remember) = load();
        if from_link {
            prefs.preset = Preset::Confab;
        }
        Endpoint {
            prefs: RwSignal::new(prefs),
            secrets: RwSignal::new(secrets),
            remember: RwSignal::new(remember),
            models: RwSignal::new(Vec::new()),
            confab_endpoint: StoredValue::new(confab_endpoint),
        }
    }

    pub fn url(&self) -> String {
        self.prefs
            .with(|p| chat_url(p, &self.confab_endpoint.get_value()))
    }

    pub fn url_untracked(&self) -> String {
        self.prefs
            .with_untracked(|p| chat_url(p, &self.confab_endpoint.get_value()))
    }

    /// The chat URL, absolute: what the bar shows and conversations are bound to.
    pub fn resolved(&self) -> String {
        crate::endpoint_url::resolve(&self.url())
    }

    /// Keeps `chat.config`, storage and the model list in step with the form. A new URL
    /// chosen in the form is the user's deliberate act: the conversation shown goes there
    /// from now on. The first run only reads: what a link chose is not stored.
    pub fn connect(self, play: Play) {
        Effect::new(move |last: Option<String>| {
            let prefs = self.prefs.get();
            let secrets = self.secrets.get();
            let remember = self.remember.get();
            if last.is_some() {
                store_prefs(&prefs);
                store_secrets(&secrets, remember);
            }
            let url = chat_url(&prefs, &self.confab_endpoint.get_value());
            let hdrs = headers(&prefs, &secrets);
            let moved = last.as_ref().is_some_and(|l| *l != url);
            play.chat.update_config(
                |c| {
                    c.endpoint = url.clone();
                    c.headers = hdrs;
                },
                moved,
            );
            if moved {
                play.chat.remember_active();
            }
            url
        });
        // The model list: asked again only when the URL or the headers change.
        let target = Memo::new(move |_| {
            let prefs = self.prefs.get();
            let secrets = self.secrets.get();
            (
                models_url(&prefs, &self.confab_endpoint.get_value()),
                headers(&prefs, &secrets),
            )
        });
        let generation = StoredValue::new(0u32);
        Effect::new(move |_| {
            let (url, hdrs) = target.get();
            generation.update_value(|g| *g += 1);
            let mine = generation.get_value();
            self.models.set(Vec::new());
            let Some(url) = url else { return };
            spawn_local(async move {
                let list = fetch_models(&url, &hdrs).await;
                if generation.get_value() == mine {
                    self.models.set(list);
                }
            });
        });
    }
}

/// Model ids from `GET {base}/models`; nothing when the server does not offer the list.
async fn fetch_models(url: &str, headers: &[(String, String)]) -> Vec<String> {
    let mut req = Request::get(url);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let Ok(resp) = req.send().await else {
        return Vec::new();
    };
    if !resp.ok() {
        return Vec::new();
    }
    let Ok(text) = resp.text().await else {
        return Vec::new();
    };
    let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Vec::new();
    };
    let mut ids: Vec<String> = value
        .get("data")
        .and_then(|d| d.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|m| m.get("id").and_then(|i| i.as_str()).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids.dedup();
    ids
}

#[component]
pub fn EndpointForm() -> impl IntoView {
    let play = expect_context::<Play>();
    let s = play.s;
    let ep = play.endpoint;
    let preset = move || ep.prefs.with(|p| p.preset);
    let on_preset = move |ev: web_sys::Event| {
        let chosen = Preset::from_str(&event_target_value(&ev));
        ep.prefs.update(|p| {
            p.preset = chosen;
            p.base_url = chosen.default_base().to_owned();
        });
    };
    let warn = move || {
        let has_key = ep.secrets.with(|s| !s.key.trim().is_empty())
            || !headers(&ep.prefs.get(), &ep.secrets.get()).is_empty();
        has_key && is_insecure_remote(&ep.url())
    };
    view! {
        <section class="cf-pg-section" aria-labelledby="cf-pg-endpoint-h">
            <h3 id="cf-pg-endpoint-h" class="cf-pg-h">{s.endpoint}</h3>
            <label class="cf-pg-field">
                <span>{s.preset}</span>
                <select class="cf-pg-input" name="preset" on:change=on_preset
                    prop:value=move || preset().as_str()>
                    {Preset::ALL.into_iter().map(|p| view! {
                        <option value=p.as_str() selected=move || preset() == p>{p.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <Show when=move || preset() != Preset::Confab>
                <label class="cf-pg-field">
                    <span>{s.base_url}</span>
                    <input class="cf-pg-input" name="base_url" type="url" spellcheck="false"
                        prop:value=move || ep.prefs.with(|p| p.base_url.clone())
                        on:change=move |ev| { let v = event_target_value(&ev); ep.prefs.update(|p| p.base_url = v) } />
                </label>
                <Show when=move || preset() == Preset::Azure>
                    <label class="cf-pg-field">
                        <span>{s.deployment}</span>
                        <input class="cf-pg-input" name="deployment" spellcheck="false"
                            prop:value=move || ep.prefs.with(|p| p.deployment.clone())
                            on:change=move |ev| { let v = event_target_value(&ev); ep.prefs.update(|p| p.deployment = v) } />
                    </label>
                    <label class="cf-pg-field">
                        <span>{s.api_version}</span>
                        <input class="cf-pg-input" name="api_version" spellcheck="false"
                            prop:value=move || ep.prefs.with(|p| p.api_version.clone())
                            on:change=move |ev| { let v = event_target_value(&ev); ep.prefs.update(|p| p.api_version = v) } />
                    </label>
                </Show>
                <label class="cf-pg-field">
                    <span>{s.api_key}</span>
                    <input class="cf-pg-input" name="api_key" type="password" autocomplete="off" spellcheck="false"
                        prop:value=move || ep.secrets.with(|x| x.key.clone())
                        on:input=move |ev| { let v = event_target_value(&ev); ep.secrets.update(|x| x.key = v) } />
                </label>
                <label class="cf-pg-check">
                    <input type="checkbox" name="remember_key" prop:checked=move || ep.remember.get()
                        on:change=move |ev| ep.remember.set(event_target_checked(&ev)) />
                    <span>{s.remember_key}</span>
                </label>
                <p class="cf-pg-hint">{s.key_note}</p>
                <Show when=move || preset() == Preset::Custom>
                    <label class="cf-pg-field">
                        <span>{s.extra_headers}</span>
                        <textarea class="cf-pg-input cf-pg-mono" name="extra_headers" rows="2" spellcheck="false"
                            placeholder=s.extra_headers_hint
                            prop:value=move || ep.secrets.with(|x| x.extra_headers.clone())
                            on:change=move |ev| { let v = event_target_value(&ev); ep.secrets.update(|x| x.extra_headers = v) }></textarea>
                    </label>
                </Show>
            </Show>
            <Show when=warn>
                <p class="cf-pg-warning" role="alert">{s.insecure_key}</p>
            </Show>
            <p class="cf-pg-url cf-pg-mono" data-testid="endpoint-url">{move || ep.url()}</p>
        </section>
    }
}
