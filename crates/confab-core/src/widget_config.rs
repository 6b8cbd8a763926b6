//! The widget's configuration, read from `data-*` attributes, query parameters or a JSON
//! object. Bad values never stop the widget: each becomes a plain-words warning and the
//! default is kept.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    Light,
    Dark,
    #[default]
    Auto,
}

impl Theme {
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
            Theme::Auto => "auto",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Position {
    #[default]
    BottomRight,
    BottomLeft,
}

/// `auto` follows `navigator.language`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LangChoice {
    En,
    Zh,
    #[default]
    Auto,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WidgetConfig {
    /// Full URL or same-origin path of the chat completions endpoint.
    pub endpoint: String,
    /// Empty: the server decides (confab-server can pin it).
    pub model: String,
    pub title: String,
    /// Empty: the built-in greeting in the UI language.
    pub welcome: String,
    pub system_prompt: String,
    pub lang: LangChoice,
    pub theme: Theme,
    pub position: Position,
    /// A CSS colour for `--cf-accent`; empty keeps the stylesheet's.
    pub accent: String,
    /// Extra request headers (the playground's key, Azure's `api-key`, …).
    pub headers: Vec<(String, String)>,
    pub max_images: usize,
    /// Hosts whose markdown images load without a click.
    pub image_hosts: Vec<String>,
    /// Separates the stored conversations of two widgets on one origin.
    pub storage_key: String,
    /// Re-render the whole streaming answer every frame (`render=naive`): only for the
    /// benchmark that shows what incremental rendering saves.
    pub naive_render: bool,
}

impl Default for WidgetConfig {
    fn default() -> Self {
        WidgetConfig {
            endpoint: "/v1/chat/completions".into(),
            model: String::new(),
            title: "Confab".into(),
            welcome: String::new(),
            system_prompt: String::new(),
            lang: LangChoice::Auto,
            theme: Theme::Auto,
            position: Position::BottomRight,
            accent: String::new(),
            headers: Vec::new(),
            max_images: 4,
            image_hosts: Vec::new(),
            storage_key: "default".into(),
            naive_render: false,
        }
    }
}

/// A configuration value that was ignored, with the reason in plain words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning(pub String);

impl std::fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Confab: {}", self.0)
    }
}

impl WidgetConfig {
    /// Applies `key = value` pairs (attribute names without `data-`, or query parameter
    /// names) over the current values. Unknown keys and bad values become warnings.
    pub fn apply_pairs<'a>(
        &mut self,
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Vec<ConfigWarning> {
        let mut warnings = Vec::new();
        for (key, value) in pairs {
            // ASCII whitespace only: a value framed by other spaces is refused, not reshaped.
            if let Err(w) = self.apply(key, value.trim_ascii()) {
                warnings.push(w);
            }
        }
        warnings
    }

    fn apply(&mut self, key: &str, value: &str) -> Result<(), ConfigWarning> {
        let bad = |expected: &str| {
            ConfigWarning(format!(
                "{key}=\"{value}\" is not valid ({expected}); the default is used."
            ))
        };
        match key {
            "endpoint" => {
                if !is_usable_endpoint(value) {
                    return Err(bad("use an http(s) URL or a path starting with /"));
                }
                self.endpoint = value.to_string();
            }
            "model" => self.model = value.to_string(),
            "title" => self.title = value.to_string(),
            "welcome" => self.welcome = value.to_string(),
            "system" | "system-prompt" => self.system_prompt = value.to_string(),
            "lang" => {
                self.lang = match value.to_ascii_lowercase().as_str() {
                    "en" => LangChoice::En,
                    "zh" | "zh-cn" | "zh-hans" => LangChoice::Zh,
                    "auto" | "" => LangChoice::Auto,
                    _ => return Err(bad("en, zh or auto")),
                }
            }
            "theme" => {
                self.theme = match value {
                    "light" => Theme::Light,
                    "dark" => Theme::Dark,
                    "auto" | "" => Theme::Auto,
                    _ => return Err(bad("light, dark or auto")),
                }
            }
            "position" => {
                self.position = match value {
                    "bottom-right" | "" => Position::BottomRight,
                    "bottom-left" => Position::BottomLeft,
                    _ => return Err(bad("bottom-right or bottom-left")),
                }
            }
            "accent" => {
                if !is_plain_color(value) {
                    return Err(bad("a colour such as #2563eb or rgb(37 99 235)"));
                }
                self.accent = value.to_string();
            }
            "max-images" => match value.parse::<usize>() {
                Ok(n) if (1..=16).contains(&n) => self.max_images = n,
                _ => return Err(bad("a whole number from 1 to 16")),
            },
            "image-hosts" => {
                self.image_hosts = value
                    .split([',', ' '])
                    .filter(|h| !h.is_empty())
                    .map(|h| h.to_ascii_lowercase())
                    .collect()
            }
            "render" => {
                self.naive_render = match value {
                    "naive" => true,
                    "incremental" | "" => false,
                    _ => return Err(bad("incremental or naive")),
                }
            }
            "storage-key" => {
                if value.is_empty() {
                    return Err(bad("a non-empty name"));
                }
                self.storage_key = value.to_string();
            }
            _ => {
                return Err(ConfigWarning(format!(
                    "unknown setting \"{key}\" is ignored."
                )))
            }
        }
        Ok(())
    }
}

/// The storage key that remembers which conversation a widget showed last.
///
/// It includes the endpoint's origin, so a widget pointed at another server (a link, a
/// second widget on the page) never picks up a conversation made with this one. An
/// endpoint on the page's own origin keeps the key Confab used before (`active:{storage_key}`),
/// so existing users find their conversation again; any other origin gets
/// `active:{storage_key}@{origin}`. Origins are compared without regard to ASCII case;
/// the widget gives both as the browser serialises them (`scheme://host[:port]`).
pub fn active_key(storage_key: &str, endpoint_origin: &str, page_origin: &str) -> String {
    if endpoint_origin.eq_ignore_ascii_case(page_origin) {
        format!("active:{storage_key}")
    } else {
        format!("active:{storage_key}@{endpoint_origin}")
    }
}

/// An absolute http(s) URL or a same-origin path. No backslash, whitespace or control
/// character anywhere: browsers read `/\host` as `//host` (another origin) and drop some
/// whitespace while parsing, so such values could point elsewhere than they seem.
fn is_usable_endpoint(value: &str) -> bool {
    if value
        .chars()
        .any(|c| c == '\\' || c.is_whitespace() || c.is_control())
    {
        return false;
    }
    let lower = value.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")) && value.len() > 8
        || (value.starts_with('/') && !value.starts_with("//"))
}

/// Accepts hex colours and simple functional notations; anything that could escape a
/// CSS declaration (`;`, braces, quotes, `url(`) is refused.
fn is_plain_color(value: &str) -> bool {
    if value.is_empty() || value.len() > 64 {
        return false;
    }
    if let Some(hex) = value.strip_prefix('#') {
        return matches!(hex.len(), 3 | 4 | 6 | 8) && hex.chars().all(|c| c.is_ascii_hexdigit());
    }
    let lower = value.to_ascii_lowercase();
    if lower.contains("url") || lower.contains("expression") {
        return false;
    }
    value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || " ().,%/-".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_attributes_set_the_config() {
        let mut c = WidgetConfig::default();
        let w = c.apply_pairs([
            ("endpoint", "https://example.com/v1/chat/completions"),
            ("theme", "dark"),
            ("lang", "zh"),
            ("position", "bottom-left"),
            ("accent", "#0a7"),
            ("max-images", "2"),
        ]);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(c.theme, Theme::Dark);
        assert_eq!(c.lang, LangChoice::Zh);
        assert_eq!(c.position, Position::BottomLeft);
        assert_eq!(c.max_images, 2);
        assert_eq!(c.endpoint, "https://example.com/v1/chat/completions");
    }

    #[test]
    fn bad_values_warn_once_each_and_keep_defaults() {
        let mut c = WidgetConfig::default();
        let w = c.apply_pairs([
            ("endpoint", "javascript:alert(1)"),
            ("theme", "purple"),
            ("accent", "red;background:url(x)"),
            ("colour", "red"),
        ]);
        assert_eq!(w.len(), 4);
        assert_eq!(c, WidgetConfig::default());
        assert!(w[1].to_string().contains("light, dark or auto"));
        assert!(w[3].to_string().contains("unknown setting \"colour\""));
    }

    #[test]
    fn the_active_key_keeps_the_old_name_on_the_pages_origin_and_names_any_other() {
        let page = "http://127.0.0.1:8797";
        assert_eq!(active_key("default", page, page), "active:default");
        assert_eq!(
            active_key("default", "HTTP://127.0.0.1:8797", page),
            "active:default"
        );
        assert_eq!(
            active_key("default", "http://127.0.0.1:9001", page),
            "active:default@http://127.0.0.1:9001"
        );
        assert_eq!(
            active_key("shop", "https://elsewhere.example", page),
            "active:shop@https://elsewhere.example"
        );
        assert_eq!(
            active_key("default", "https://127.0.0.1:8797", page),
            "active:default@https://127.0.0.1:8797",
            "another scheme is another origin"
        );
    }

    #[test]
    fn protocol_relative_endpoints_are_refused() {
        let mut c = WidgetConfig::default();
        assert_eq!(c.apply_pairs([("endpoint", "//evil.example/x")]).len(), 1);
        assert!(c.apply_pairs([("endpoint", "/api/chat")]).is_empty());
        assert_eq!(c.endpoint, "/api/chat");
    }

    #[test]
    fn endpoints_that_a_browser_would_read_as_another_host_are_refused() {
        for bad in [
            "/\\evil.example/v1/chat/completions",
            "\u{a0}/\\evil.example/v1",
            "\u{3000}//evil.example/v1",
            "/v1/chat\u{2028}/completions",
            "https://ok.example\\@evil.example/v1",
            "/v1/\tchat",
        ] {
            let mut c = WidgetConfig::default();
            assert_eq!(c.apply_pairs([("endpoint", bad)]).len(), 1, "{bad:?}");
            assert_eq!(
                c.endpoint, "/v1/chat/completions",
                "{bad:?} kept the default"
            );
        }
        let mut c = WidgetConfig::default();
        assert!(c
            .apply_pairs([("endpoint", "  /v1/chat/completions\n")])
            .is_empty());
        assert_eq!(
            c.endpoint, "/v1/chat/completions",
            "ASCII space around is trimmed"
        );
    }
}
