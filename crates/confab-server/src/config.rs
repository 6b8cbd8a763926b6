//! Command-line flags (each with an environment variable) and the validated [`Config`].

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use url::Url;

/// Flags of the `confab-server` binary. Every flag can also be set by the environment
/// variable shown in `--help`; a flag given on the command line wins.
#[derive(Debug, Parser)]
#[command(
    name = "confab-server",
    version,
    about = "Serves the Confab widget, answers with an offline demo model, or proxies to an \
             OpenAI-compatible API with the key kept server-side."
)]
pub struct Args {
    /// Address to listen on; port 0 picks a free port (the bound address is printed).
    #[arg(long, env = "CONFAB_LISTEN", default_value = "127.0.0.1:8787")]
    pub listen: String,

    /// Base URL of the OpenAI-compatible API, e.g. https://api.openai.com/v1 or
    /// http://127.0.0.1:11434/v1. Without it the offline demo model answers.
    #[arg(long, env = "CONFAB_UPSTREAM")]
    pub upstream: Option<String>,

    /// Name of the environment variable holding the upstream API key.
    #[arg(long, env = "CONFAB_API_KEY_ENV", default_value = "OPENAI_API_KEY")]
    pub api_key_env: String,

    /// The upstream needs no key (e.g. a local Ollama or llama.cpp server).
    #[arg(long, env = "CONFAB_NO_KEY")]
    pub no_key: bool,

    /// Azure OpenAI: send the key in an `api-key` header and add `api-version` to every
    /// upstream URL. Use the deployment URL as --upstream, e.g.
    /// https://NAME.openai.azure.com/openai/deployments/DEPLOYMENT
    #[arg(long, env = "CONFAB_AZURE")]
    pub azure: bool,

    /// The Azure OpenAI `api-version` query parameter (with --azure).
    #[arg(long, env = "CONFAB_API_VERSION", default_value = "2024-10-21")]
    pub api_version: String,

    /// An origin allowed to call the API from a browser, e.g. https://example.com
    /// (repeatable; the environment variable takes a comma-separated list).
    #[arg(
        long = "allow-origin",
        env = "CONFAB_ALLOW_ORIGINS",
        value_delimiter = ','
    )]
    pub allow_origin: Vec<String>,

    /// Pin the model: every request is sent with this model, whatever it asked for.
    #[arg(long, env = "CONFAB_MODEL")]
    pub model: Option<String>,

    /// Models a request may ask for (repeatable or comma-separated); others get a 400.
    #[arg(
        long = "allowed-models",
        env = "CONFAB_ALLOWED_MODELS",
        value_delimiter = ','
    )]
    pub allowed_models: Vec<String>,

    /// Clamp `max_tokens` / `max_completion_tokens` to this value (and set it when absent).
    #[arg(long, env = "CONFAB_MAX_TOKENS")]
    pub max_tokens: Option<u32>,

    /// Requests per minute allowed per client IP on the API routes (token bucket).
    #[arg(long, env = "CONFAB_RATE_LIMIT")]
    pub rate_limit: Option<u32>,

    /// Largest request body accepted, e.g. 25MB, 512KB or a number of bytes.
    #[arg(long, env = "CONFAB_MAX_BODY", default_value = "25MB")]
    pub max_body: String,

    /// Directory with the built widget (index.html, wasm, js, css).
    #[arg(long, env = "CONFAB_STATIC_DIR", default_value = "dist")]
    pub static_dir: PathBuf,

    /// Pause between two chunks of the demo model, in milliseconds.
    #[arg(long, env = "CONFAB_DEMO_DELAY_MS", default_value_t = 15)]
    pub demo_delay_ms: u64,

    /// Seconds to wait for the upstream's response headers, and for each chunk after.
    #[arg(long, env = "CONFAB_UPSTREAM_TIMEOUT", default_value_t = 120)]
    pub upstream_timeout: u64,

    /// Take the client IP (for rate limiting) from the last X-Forwarded-For entry.
    /// Only set this behind a reverse proxy that overwrites that header.
    #[arg(long, env = "CONFAB_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,

    /// Reach the upstream through HTTP(S)_PROXY from the environment (ignored by default).
    #[arg(long, env = "CONFAB_USE_ENV_PROXY")]
    pub use_env_proxy: bool,
}

/// The upstream API key. Its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }
    /// The key itself, for the one place that puts it into an upstream request header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// How the key is sent upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthStyle {
    /// `Authorization: Bearer KEY` (OpenAI and nearly everyone else).
    Bearer,
    /// `api-key: KEY` and `?api-version=...` on every URL (Azure OpenAI).
    Azure { api_version: String },
}

#[derive(Debug, Clone)]
pub struct Upstream {
    /// Base URL without a trailing slash, e.g. `https://api.openai.com/v1`.
    pub base: Url,
    pub api_key: Option<ApiKey>,
    pub auth: AuthStyle,
}

impl Upstream {
    /// The upstream URL for an API path such as `chat/completions` or `models`.
    pub fn url(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        let joined = format!("{}/{}", url.path().trim_end_matches('/'), path);
        url.set_path(&joined);
        if let AuthStyle::Azure { api_version } = &self.auth {
            url.query_pairs_mut()
                .append_pair("api-version", api_version);
        }
        url
    }

    /// The base URL as it may appear in a log line: no user info, no query.
    pub fn display_base(&self) -> String {
        let mut url = self.base.clone();
        let _ = url.set_username("");
        let _ = url.set_password(None);
        url.set_query(None);
        url.to_string().trim_end_matches('/').to_string()
    }
}

/// Everything the server needs, validated. Build it from [`Args`] with
/// [`Config::from_args`], or directly in tests (`Config::default()` is the demo model).
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// `None`: the demo model answers.
    pub upstream: Option<Upstream>,
    /// Allowed browser origins, serialized as browsers send them (`https://host[:port]`).
    pub allow_origins: Vec<String>,
    pub model: Option<String>,
    pub allowed_models: Vec<String>,
    pub max_tokens: Option<u32>,
    pub rate_limit_per_minute: Option<u32>,
    pub max_body: usize,
    pub static_dir: PathBuf,
    pub demo_delay: Duration,
    pub upstream_timeout: Duration,
    pub trust_forwarded_for: bool,
    pub use_env_proxy: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8787)),
            upstream: None,
            allow_origins: Vec::new(),
            model: None,
            allowed_models: Vec::new(),
            max_tokens: None,
            rate_limit_per_minute: None,
            max_body: 25 * 1024 * 1024,
            static_dir: PathBuf::from("dist"),
            demo_delay: Duration::from_millis(15),
            upstream_timeout: Duration::from_secs(120),
            trust_forwarded_for: false,
            use_env_proxy: false,
        }
    }
}

impl Config {
    pub fn is_demo(&self) -> bool {
        self.upstream.is_none()
    }

    /// Validates the flags. `env` looks up environment variables (the key), so tests
    /// need not touch the process environment. The error is one line for the user.
    pub fn from_args(args: Args, env: impl Fn(&str) -> Option<String>) -> Result<Config, String> {
        let listen: SocketAddr = args.listen.parse().map_err(|_| {
            format!(
                "--listen {:?} is not an address like 127.0.0.1:8787 or [::1]:0",
                args.listen
            )
        })?;

        let upstream = match &args.upstream {
            None => {
                if args.azure {
                    return Err("--azure needs --upstream (the Azure deployment URL)".into());
                }
                None
            }
            Some(raw) => Some(parse_upstream(raw, &args, &env)?),
        };

        let mut allow_origins = Vec::new();
        for o in args
            .allow_origin
            .iter()
            .map(|o| o.trim())
            .filter(|o| !o.is_empty())
        {
            allow_origins.push(normalize_origin(o).ok_or_else(|| {
                format!("--allow-origin {o:?} is not an origin like https://example.com or http://localhost:3000")
            })?);
        }

        let model = args
            .model
            .map(|m| m.trim().to_string())
            .filter(|m| !m.is_empty());
        let allowed_models: Vec<String> = args
            .allowed_models
            .iter()
            .map(|m| m.trim().to_string())
            .filter(|m| !m.is_empty())
            .collect();
        if let Some(m) = &model {
            if !allowed_models.is_empty() && !allowed_models.contains(m) {
                return Err(format!("--model {m:?} is not among --allowed-models"));
            }
        }
        if args.max_tokens == Some(0) {
            return Err("--max-tokens must be at least 1".into());
        }
        if args.rate_limit == Some(0) {
            return Err("--rate-limit must be at least 1 request per minute".into());
        }
        let max_body = parse_size(&args.max_body).ok_or_else(|| {
            format!(
                "--max-body {:?} is not a size like 25MB, 512KB or 1048576",
                args.max_body
            )
        })?;
        if args.upstream_timeout == 0 {
            return Err("--upstream-timeout must be at least 1 second".into());
        }

        Ok(Config {
            listen,
            upstream,
            allow_origins,
            model,
            allowed_models,
            max_tokens: args.max_tokens,
            rate_limit_per_minute: args.rate_limit,
            max_body,
            static_dir: args.static_dir,
            demo_delay: Duration::from_millis(args.demo_delay_ms),
            upstream_timeout: Duration::from_secs(args.upstream_timeout),
            trust_forwarded_for: args.trust_forwarded_for,
            use_env_proxy: args.use_env_proxy,
        })
    }
}

fn parse_upstream(
    raw: &str,
    args: &Args,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Upstream, String> {
    let base = Url::parse(raw.trim()).map_err(|e| {
        format!("--upstream {raw:?} is not a URL ({e}); expected e.g. https://api.openai.com/v1")
    })?;
    if base.scheme() != "http" && base.scheme() != "https" {
        return Err(format!(
            "--upstream {raw:?} must start with http:// or https://"
        ));
    }
    if base.host_str().is_none_or(str::is_empty) {
        return Err(format!("--upstream {raw:?} has no host"));
    }
    if base.query().is_some() || base.fragment().is_some() {
        return Err(format!(
            "--upstream {raw:?} must not have a query or fragment (use --api-version for Azure)"
        ));
    }
    if !base.username().is_empty() || base.password().is_some() {
        return Err(
            "--upstream must not contain a user or password; put the key in the environment".into(),
        );
    }
    let api_key = if args.no_key {
        None
    } else {
        let name = args.api_key_env.trim();
        if name.is_empty() {
            return Err("--api-key-env is empty; name the variable holding the key".into());
        }
        match env(name).map(|k| k.trim().to_string()) {
            Some(k) if !k.is_empty() => Some(ApiKey::new(k)),
            _ => {
                return Err(format!(
                    "--upstream is set but the environment variable {name} is empty or unset: \
                     export the API key in {name} (or name another variable with --api-key-env, \
                     or pass --no-key for an upstream that needs none)"
                ))
            }
        }
    };
    let auth = if args.azure {
        let v = args.api_version.trim();
        if v.is_empty() {
            return Err("--azure needs --api-version, e.g. 2024-10-21".into());
        }
        AuthStyle::Azure {
            api_version: v.to_string(),
        }
    } else {
        AuthStyle::Bearer
    };
    Ok(Upstream {
        base,
        api_key,
        auth,
    })
}

/// `https://Example.com:443/` -> `https://example.com`; `None` for anything that is not an
/// http(s) origin (a path, a query, `null`, `*`).
pub fn normalize_origin(raw: &str) -> Option<String> {
    let url = Url::parse(raw.trim()).ok()?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return None;
    }
    if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
        return None;
    }
    if !url.username().is_empty() || url.password().is_some() {
        return None;
    }
    url.host_str()?;
    Some(url.origin().ascii_serialization())
}

/// `25MB`, `25 MiB`, `512kb`, `1048576` -> bytes. K/M/G are binary (1024-based).
pub fn parse_size(raw: &str) -> Option<usize> {
    let s = raw.trim().to_ascii_lowercase();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: usize = num.parse().ok()?;
    let mult = match unit.trim() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1024,
        "m" | "mb" | "mib" => 1024 * 1024,
        "g" | "gb" | "gib" => 1024 * 1024 * 1024,
        _ => return None,
    };
    n.checked_mul(mult).filter(|&b| b > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Args {
        let mut v = vec!["confab-server"];
        v.extend_from_slice(list);
        Args::try_parse_from(v).unwrap()
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn defaults_are_the_demo_model_on_port_8787() {
        let c = Config::from_args(args(&[]), no_env).unwrap();
        assert!(c.is_demo());
        assert_eq!(c.listen.to_string(), "127.0.0.1:8787");
        assert_eq!(c.max_body, 25 * 1024 * 1024);
        assert_eq!(c.demo_delay, Duration::from_millis(15));
        assert_eq!(c.static_dir, PathBuf::from("dist"));
    }

    #[test]
    fn an_upstream_without_a_key_is_refused_with_the_variable_named() {
        let err = Config::from_args(args(&["--upstream", "https://api.openai.com/v1"]), no_env)
            .unwrap_err();
        assert!(err.contains("OPENAI_API_KEY"), "{err}");
        assert!(!err.contains('\n'));
        let err = Config::from_args(
            args(&["--upstream", "https://x/v1", "--api-key-env", "MY_KEY"]),
            |n| (n == "MY_KEY").then(|| "  ".to_string()),
        )
        .unwrap_err();
        assert!(err.contains("MY_KEY"), "{err}");
    }

    #[test]
    fn bad_values_are_refused_in_one_line() {
        for bad in [
            &["--upstream", "api.openai.com/v1"][..],
            &["--upstream", "ftp://x/v1"],
            &["--upstream", "https://x/v1?key=1"],
            &["--listen", "localhost"],
            &["--allow-origin", "*"],
            &["--allow-origin", "https://x.com/path"],
            &["--max-body", "lots"],
            &["--rate-limit", "0"],
            &["--azure"],
        ] {
            let err = Config::from_args(args(bad), |_| Some("k".into())).unwrap_err();
            assert!(!err.is_empty() && !err.contains('\n'), "{bad:?}: {err}");
        }
    }

    #[test]
    fn key_and_azure_are_resolved() {
        let c = Config::from_args(
            args(&[
                "--upstream",
                "https://r.openai.azure.com/openai/deployments/d/",
                "--azure",
                "--api-version",
                "2024-06-01",
            ]),
            |n| (n == "OPENAI_API_KEY").then(|| "sk-secret".to_string()),
        )
        .unwrap();
        let up = c.upstream.as_ref().unwrap();
        assert_eq!(up.api_key.as_ref().unwrap().expose(), "sk-secret");
        assert_eq!(
            up.url("chat/completions").as_str(),
            "https://r.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-06-01"
        );
        assert!(!format!("{c:?}").contains("sk-secret"));
    }

    #[test]
    fn origins_and_sizes_are_normalized() {
        assert_eq!(
            normalize_origin("HTTPS://Example.COM:443/").as_deref(),
            Some("https://example.com")
        );
        assert_eq!(
            normalize_origin("http://localhost:3000").as_deref(),
            Some("http://localhost:3000")
        );
        assert_eq!(normalize_origin("null"), None);
        assert_eq!(parse_size("25MB"), Some(25 * 1024 * 1024));
        assert_eq!(parse_size("512 KiB"), Some(512 * 1024));
        assert_eq!(parse_size("100"), Some(100));
        assert_eq!(parse_size("0"), None);
    }
}
