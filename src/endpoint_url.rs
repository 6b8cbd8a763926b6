//! The configured endpoint as the browser sees it: resolved against the page, and its
//! origin. Conversations are bound to the resolved URL (`Conversation::endpoint`), and the
//! key that remembers the last conversation names the origin (`widget_config::active_key`),
//! so a relative `/v1/chat/completions` on two sites is never taken for the same endpoint.

use confab_core::widget_config::WidgetConfig;

fn location() -> Option<web_sys::Location> {
    web_sys::window().map(|w| w.location())
}

fn parse(endpoint: &str) -> Option<web_sys::Url> {
    let base = location()?.href().ok()?;
    web_sys::Url::new_with_base(endpoint.trim(), &base).ok()
}

/// `endpoint` as an absolute URL; as given (trimmed) when it cannot be parsed.
pub fn resolve(endpoint: &str) -> String {
    parse(endpoint).map_or_else(|| endpoint.trim().to_owned(), |u| u.href())
}

/// The origin of `endpoint` (`scheme://host[:port]`), resolved against the page.
pub fn origin(endpoint: &str) -> String {
    parse(endpoint).map(|u| u.origin()).unwrap_or_default()
}

pub fn page_origin() -> String {
    location().and_then(|l| l.origin().ok()).unwrap_or_default()
}

/// The storage key of the conversation this widget showed last (see
/// `confab_core::widget_config::active_key`).
pub fn active_key(config: &WidgetConfig) -> String {
    confab_core::widget_config::active_key(
        &config.storage_key,
        &origin(&config.endpoint),
        &page_origin(),
    )
}
