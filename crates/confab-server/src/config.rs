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

    /// Request body bytes held at most at once, over all requests, e.g. 256MB (at least
    /// --max-body). A body that finds no room within 2 s gets 503 + Retry-After.
    #[arg(long, env = "CONFAB_MAX_BODY_MEMORY", default_value = "256MB")]
    pub max_body_memory: String,

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

    /// Proxy in public (a non-loopback --listen, a non-loopback --public-host, or
    /// --trust-forwarded-for) without --rate-limit, --max-tokens and a model rule: accept
    /// the risk of an open proxy for the key (refused otherwise).
    #[arg(long, env = "CONFAB_OPEN_PROXY")]
    pub open_proxy: bool,

    /// A request field forwarded although it is not in the documented set, e.g. `store`
    /// or `metadata` (repeatable or comma-separated). Other unknown fields are dropped.
    #[arg(
        long = "allow-field",
        env = "CONFAB_ALLOW_FIELDS",
        value_delimiter = ','
    )]
    pub allow_field: Vec<String>,

    /// Hosts whose http(s) image URLs may be forwarded (repeatable or comma-separated);
    /// otherwise images must be sent by value, as data: URLs.
    #[arg(
        long = "image-hosts",
        env = "CONFAB_IMAGE_HOSTS",
        value_delimiter = ','
    )]
    pub image_hosts: Vec<String>,

    /// Largest image accepted in a data: URL (decoded bytes), e.g. 20MB.
    #[arg(long, env = "CONFAB_MAX_IMAGE_SIZE", default_value = "20MB")]
    pub max_image_size: String,

    /// A system prompt put first in every chat request, as text or @FILE.
    #[arg(long, env = "CONFAB_SYSTEM_PROMPT")]
    pub system_prompt: Option<String>,

    /// An endpoint that public/embed.html may be pointed at with `?endpoint=`
    /// (repeatable; the environment variable takes a comma-separated list).
    #[arg(
        long = "embed-endpoint",
        env = "CONFAB_EMBED_ENDPOINTS",
        value_delimiter = ','
    )]
    pub embed_endpoint: Vec<String>,

    /// The public HOST[:PORT] this server is reached at (behind a reverse proxy):
    /// requests with another Host header get 421, and pages from it may call the API.
    #[arg(long, env = "CONFAB_PUBLIC_HOST")]
    pub public_host: Option<String>,

    /// Open connections at most; further clients wait in the listen backlog.
    #[arg(long, env = "CONFAB_MAX_CONNECTIONS", default_value_t = 4096)]
    pub max_connections: usize,

    /// Open connections at most per client (IPv4 address or IPv6 /64 of the socket peer);
    /// beyond it a client's new connection is closed at once. Off with
    /// --trust-forwarded-for (the peers are then reverse proxies).
    #[arg(long, env = "CONFAB_MAX_CONNECTIONS_PER_CLIENT", default_value_t = 64)]
    pub max_connections_per_client: usize,

    /// Seconds a connection may take to send a request's headers; also how long an idle
    /// keep-alive connection stays open.
    #[arg(long, env = "CONFAB_HEADER_TIMEOUT", default_value_t = 30)]
    pub header_timeout: u64,

    /// Seconds a client may take to send a request body.
    #[arg(long, env = "CONFAB_BODY_TIMEOUT", default_value_t = 60)]
    pub body_timeout: u64,

    /// Chat completions in flight at most, over all clients; then 503 + Retry-After.
    #[arg(long, env = "CONFAB_MAX_STREAMS", default_value_t = 1000)]
    pub max_streams: usize,

    /// Chat completions in flight at most per client (IPv4 address or IPv6 /64).
    #[arg(long, env = "CONFAB_MAX_STREAMS_PER_CLIENT", default_value_t = 20)]
    pub max_streams_per_client: usize,

    /// Share rate limits, per-client stream counts and token budgets between instances
    /// through this Redis, e.g. redis://127.0.0.1:6379 or rediss://user:pass@host/0.
    #[arg(long, env = "CONFAB_REDIS_URL")]
    pub redis: Option<String>,

    /// Namespace of this deployment's Redis keys: they are `confab:PREFIX:…`.
    #[arg(long, env = "CONFAB_REDIS_PREFIX", default_value = "")]
    pub redis_prefix: String,

    /// When Redis cannot be reached: `closed` answers 503, `open` falls back to this
    /// instance's own limits. Default: closed on a non-loopback --listen, open on loopback.
    #[arg(long, env = "CONFAB_REDIS_FAILURE")]
    pub redis_failure: Option<String>,

    /// Tokens (prompt + completion) a client may use per UTC day; then 429 until midnight.
    #[arg(long, env = "CONFAB_BUDGET_TOKENS_PER_DAY")]
    pub budget_tokens_per_day: Option<u64>,

    /// Tokens all clients together may use per UTC day; then 429 until midnight.
    #[arg(long, env = "CONFAB_BUDGET_TOKENS_PER_DAY_GLOBAL")]
    pub budget_tokens_per_day_global: Option<u64>,

    /// A request header holding an authenticated user id (set by the operator's reverse
    /// proxy or auth layer): budgets count per user instead of per IP when it is present.
    #[arg(long, env = "CONFAB_BUDGET_USER_HEADER")]
    pub budget_user_header: Option<String>,

    /// Serve Prometheus metrics at GET /metrics on this address (not the public listener).
    #[arg(long, env = "CONFAB_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,
}

/// What to do when Redis cannot be reached (`--redis-failure`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedisFailure {
    /// Answer 503: no request passes unchecked.
    Closed,
    /// Fall back to this instance's own limits until Redis is back.
    Open,
}

/// The Redis URL. Its `Debug` shows no password.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl(String);

impl RedisUrl {
    pub fn new(url: impl Into<String>) -> Self {
        RedisUrl(url.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// `redis://host:port/db` without user or password, for log lines.
    pub fn display(&self) -> String {
        match Url::parse(&self.0) {
            Ok(mut u) => {
                let _ = u.set_username("");
                let _ = u.set_password(None);
                u.to_string()
            }
            Err(_) => "redis".into(),
        }
    }
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedisUrl({})", self.display())
    }
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
    pub max_body_memory: usize,
    pub static_dir: PathBuf,
    pub demo_delay: Duration,
    pub upstream_timeout: Duration,
    pub trust_forwarded_for: bool,
    pub use_env_proxy: bool,
    /// Top-level request fields forwarded beyond the typed ones (`--allow-field`).
    pub allow_fields: Vec<String>,
    /// Lower-case hosts whose http(s) image URLs are forwarded (`--image-hosts`).
    pub image_hosts: Vec<String>,
    pub max_image_bytes: usize,
    /// Put first in every chat request as `{"role":"system","content":…}`.
    pub system_prompt: Option<String>,
    /// Absolute http(s) URLs written into public/embed.html's `confab-endpoints` meta tag.
    pub embed_endpoints: Vec<String>,
    /// `host` or `host:port`, lower case (`--public-host`).
    pub public_host: Option<String>,
    pub max_connections: usize,
    pub max_connections_per_client: usize,
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub max_streams: usize,
    pub max_streams_per_client: usize,
    pub redis: Option<RedisUrl>,
    /// Every Redis key starts with this (`confab:` or `confab:PREFIX:`).
    pub redis_namespace: String,
    pub redis_failure: RedisFailure,
    pub budget_tokens_per_day: Option<u64>,
    pub budget_tokens_per_day_global: Option<u64>,
    pub budget_user_header: Option<axum::http::HeaderName>,
    pub metrics_listen: Option<SocketAddr>,
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
            max_body_memory: 256 * 1024 * 1024,
            static_dir: PathBuf::from("dist"),
            demo_delay: Duration::from_millis(15),
            upstream_timeout: Duration::from_secs(120),
            trust_forwarded_for: false,
            use_env_proxy: false,
            allow_fields: Vec::new(),
            image_hosts: Vec::new(),
            max_image_bytes: 20 * 1024 * 1024,
            system_prompt: None,
            embed_endpoints: Vec::new(),
            public_host: None,
            max_connections: 4096,
            max_connections_per_client: 64,
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(60),
            max_streams: 1000,
            max_streams_per_client: 20,
            redis: None,
            redis_namespace: "confab:".into(),
            redis_failure: RedisFailure::Open,
            budget_tokens_per_day: None,
            budget_tokens_per_day_global: None,
            budget_user_header: None,
            metrics_listen: None,
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

        let shared = parse_shared(&args, listen)?;
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
        let max_body_memory = parse_size(&args.max_body_memory)
            .filter(|&m| m >= max_body && m <= u32::MAX as usize)
            .ok_or_else(|| {
                format!(
                    "--max-body-memory {:?} must be a size like 256MB, at least --max-body and \
                     below 4GB",
                    args.max_body_memory
                )
            })?;
        if args.upstream_timeout == 0 {
            return Err("--upstream-timeout must be at least 1 second".into());
        }
        let allow_fields = parse_allow_fields(&args.allow_field)?;
        let image_hosts = parse_image_hosts(&args.image_hosts)?;
        let max_image_bytes = parse_size(&args.max_image_size).ok_or_else(|| {
            format!(
                "--max-image-size {:?} is not a size like 20MB or 512KB",
                args.max_image_size
            )
        })?;
        let system_prompt = match args.system_prompt.as_deref() {
            None => None,
            Some(raw) => read_system_prompt(raw)?,
        };
        let embed_endpoints = args
            .embed_endpoint
            .iter()
            .map(|e| e.trim())
            .filter(|e| !e.is_empty())
            .map(parse_embed_endpoint)
            .collect::<Result<Vec<_>, _>>()?;
        let public_host = args
            .public_host
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(parse_public_host)
            .transpose()?;
        if let Some(why) = upstream
            .as_ref()
            .filter(|_| !args.open_proxy)
            .and_then(|_| public_reason(listen, public_host.as_deref(), args.trust_forwarded_for))
        {
            refuse_open_proxy(
                &why,
                args.rate_limit.is_some(),
                args.max_tokens.is_some(),
                model.is_some() || !allowed_models.is_empty(),
            )?;
        }
        for (flag, n) in [
            ("--max-connections", args.max_connections),
            (
                "--max-connections-per-client",
                args.max_connections_per_client,
            ),
            ("--max-streams", args.max_streams),
            ("--max-streams-per-client", args.max_streams_per_client),
        ] {
            if n == 0 || n > 1_000_000 {
                return Err(format!("{flag} must be between 1 and 1000000"));
            }
        }
        if args.header_timeout == 0 || args.body_timeout == 0 {
            return Err("--header-timeout and --body-timeout must be at least 1 second".into());
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
            max_body_memory,
            static_dir: args.static_dir,
            demo_delay: Duration::from_millis(args.demo_delay_ms),
            upstream_timeout: Duration::from_secs(args.upstream_timeout),
            trust_forwarded_for: args.trust_forwarded_for,
            use_env_proxy: args.use_env_proxy,
            allow_fields,
            image_hosts,
            max_image_bytes,
            system_prompt,
            embed_endpoints,
            public_host,
            max_connections: args.max_connections,
            max_connections_per_client: args.max_connections_per_client,
            header_timeout: Duration::from_secs(args.header_timeout),
            body_timeout: Duration::from_secs(args.body_timeout),
            max_streams: args.max_streams,
            max_streams_per_client: args.max_streams_per_client,
            redis: shared.redis,
            redis_namespace: shared.redis_namespace,
            redis_failure: shared.redis_failure,
            budget_tokens_per_day: args.budget_tokens_per_day,
            budget_tokens_per_day_global: args.budget_tokens_per_day_global,
            budget_user_header: shared.budget_user_header,
            metrics_listen: shared.metrics_listen,
        })
    }

    /// Token budgets are on: usage is counted from every proxied answer.
    pub fn has_budgets(&self) -> bool {
        self.budget_tokens_per_day.is_some() || self.budget_tokens_per_day_global.is_some()
    }

    /// Answers are read for their token usage and time to first token (budgets, metrics).
    pub fn counts_usage(&self) -> bool {
        self.has_budgets() || self.metrics_listen.is_some()
    }
}

struct Shared {
    redis: Option<RedisUrl>,
    redis_namespace: String,
    redis_failure: RedisFailure,
    budget_user_header: Option<axum::http::HeaderName>,
    metrics_listen: Option<SocketAddr>,
}

/// The Redis, budget and metrics flags.
fn parse_shared(args: &Args, listen: SocketAddr) -> Result<Shared, String> {
    let redis = match args
        .redis
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        None => None,
        Some(raw) => {
            if redis::Client::open(raw).is_err() {
                return Err(
                    "--redis is not a URL like redis://127.0.0.1:6379 or rediss://host/0".into(),
                );
            }
            Some(RedisUrl::new(raw))
        }
    };
    let prefix = args.redis_prefix.trim();
    if prefix.len() > 64
        || !prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        return Err(format!(
            "--redis-prefix {prefix:?} must be at most 64 letters, digits, '-', '_' or '.'"
        ));
    }
    let redis_namespace = if prefix.is_empty() {
        "confab:".to_string()
    } else {
        format!("confab:{prefix}:")
    };
    let redis_failure = match args.redis_failure.as_deref().map(str::trim) {
        None | Some("") if listen.ip().is_loopback() => RedisFailure::Open,
        None | Some("") => RedisFailure::Closed,
        Some("open") => RedisFailure::Open,
        Some("closed") => RedisFailure::Closed,
        Some(other) => {
            return Err(format!(
                "--redis-failure {other:?} must be `open` or `closed`"
            ));
        }
    };
    for (flag, n) in [
        ("--budget-tokens-per-day", args.budget_tokens_per_day),
        (
            "--budget-tokens-per-day-global",
            args.budget_tokens_per_day_global,
        ),
    ] {
        if n == Some(0) {
            return Err(format!("{flag} must be at least 1"));
        }
    }
    let budget_user_header = match args
        .budget_user_header
        .as_deref()
        .map(str::trim)
        .filter(|h| !h.is_empty())
    {
        None => None,
        Some(name) => Some(
            axum::http::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("--budget-user-header {name:?} is not a header name"))?,
        ),
    };
    let metrics_listen = match args
        .metrics_listen
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
    {
        None => None,
        Some(raw) => {
            let addr: SocketAddr = raw.parse().map_err(|_| {
                format!("--metrics-listen {raw:?} is not an address like 127.0.0.1:9090")
            })?;
            if addr.port() == listen.port() && addr.port() != 0 {
                return Err(
                    "--metrics-listen must differ from --listen: metrics are not for the public"
                        .into(),
                );
            }
            Some(addr)
        }
    };
    Ok(Shared {
        redis,
        redis_namespace,
        redis_failure,
        budget_user_header,
        metrics_listen,
    })
}

/// Why this server is reachable by the public, if it is: a non-loopback listener, or the
/// flags that only a server behind a public reverse proxy needs (the README's own
/// deployment listens on 127.0.0.1 behind Caddy or nginx).
fn public_reason(
    listen: SocketAddr,
    public_host: Option<&str>,
    trust_forwarded_for: bool,
) -> Option<String> {
    if !listen.ip().is_loopback() {
        return Some(format!("--listen {listen} is not a loopback address"));
    }
    if let Some(host) = public_host {
        let name = crate::headers::split_host(host).map_or_else(|| host.to_string(), |(h, _)| h);
        if !crate::headers::is_loopback_host(&name) {
            return Some(format!(
                "--public-host {host} says this server is public behind a reverse proxy"
            ));
        }
    }
    trust_forwarded_for.then(|| {
        "--trust-forwarded-for says this server is behind a public reverse proxy".to_string()
    })
}

/// A public proxy with no rate limit, token cap or model rule spends the key for anyone
/// who finds it: refuse, naming every missing flag in one line.
fn refuse_open_proxy(
    why: &str,
    has_rate_limit: bool,
    has_token_cap: bool,
    has_model_rule: bool,
) -> Result<(), String> {
    let mut missing = Vec::new();
    if !has_rate_limit {
        missing.push("--rate-limit N");
    }
    if !has_token_cap {
        missing.push("--max-tokens N");
    }
    if !has_model_rule {
        missing.push("--model M (or --allowed-models A,B)");
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{why}, so anyone who reaches it can spend the upstream key: add {}, or pass \
         --open-proxy to accept the risk",
        missing.join(", ")
    ))
}

fn parse_allow_fields(raw: &[String]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for name in raw.iter().map(|f| f.trim()).filter(|f| !f.is_empty()) {
        if name == "n" || crate::request::TYPED_FIELDS.contains(&name) {
            return Err(format!(
                "--allow-field {name}: this field is always checked by the server \
                 (forwarded after its checks; `n` must be 1)"
            ));
        }
        if name.len() > 64 || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(format!("--allow-field {name:?} is not a field name"));
        }
        if !out.iter().any(|f| f == name) {
            out.push(name.to_string());
        }
    }
    Ok(out)
}

fn parse_image_hosts(raw: &[String]) -> Result<Vec<String>, String> {
    raw.iter()
        .map(|h| h.trim())
        .filter(|h| !h.is_empty())
        .map(|h| match Url::parse(&format!("https://{h}/")) {
            Ok(u) if u.host_str() == Some(&h.to_ascii_lowercase()) && u.port().is_none() => {
                Ok(h.to_ascii_lowercase())
            }
            _ => Err(format!(
                "--image-hosts {h:?} is not a host name like images.example.com"
            )),
        })
        .collect()
}

/// `TEXT`, or `@FILE` read now (a missing file stops the server).
fn read_system_prompt(raw: &str) -> Result<Option<String>, String> {
    let text = match raw.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path.trim()).map_err(|e| {
            format!(
                "--system-prompt @{}: cannot read the file ({e})",
                path.trim()
            )
        })?,
        None => raw.to_string(),
    };
    Ok(Some(text).filter(|t| !t.trim().is_empty()))
}

/// An absolute http(s) URL, in its normalized form (what `new URL(…).href` gives).
fn parse_embed_endpoint(raw: &str) -> Result<String, String> {
    match Url::parse(raw) {
        Ok(u)
            if matches!(u.scheme(), "http" | "https")
                && u.host_str().is_some_and(|h| !h.is_empty())
                && u.username().is_empty()
                && u.password().is_none()
                && u.fragment().is_none() =>
        {
            Ok(u.to_string())
        }
        _ => Err(format!(
            "--embed-endpoint {raw:?} is not an absolute http(s) URL like \
             https://chat.example.com/v1/chat/completions"
        )),
    }
}

/// `chat.example.com` or `chat.example.com:8443`, lower case.
fn parse_public_host(raw: &str) -> Result<String, String> {
    let bad = || format!("--public-host {raw:?} is not a HOST or HOST:PORT like chat.example.com");
    let url = Url::parse(&format!("http://{raw}/")).map_err(|_| bad())?;
    let host = url.host_str().ok_or_else(bad)?;
    let port = raw
        .rsplit_once(':')
        .filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()));
    let expected = match port {
        Some((_, p)) if !raw.ends_with(']') => format!("{host}:{p}"),
        _ => host.to_string(),
    };
    if expected != raw.to_ascii_lowercase() || !url.username().is_empty() {
        return Err(bad());
    }
    Ok(expected)
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
    fn new_flags_are_validated() {
        let c = Config::from_args(
            args(&[
                "--public-host",
                "Chat.Example.com:8443",
                "--embed-endpoint",
                "HTTPS://Chat.Example.com/v1/chat/completions",
                "--allow-field",
                "store,metadata",
                "--system-prompt",
                "Be kind.",
            ]),
            no_env,
        )
        .unwrap();
        assert_eq!(c.public_host.as_deref(), Some("chat.example.com:8443"));
        assert_eq!(
            c.embed_endpoints,
            vec!["https://chat.example.com/v1/chat/completions"]
        );
        assert_eq!(c.allow_fields, vec!["store", "metadata"]);
        assert_eq!(c.system_prompt.as_deref(), Some("Be kind."));
        for bad in [
            &["--allow-field", "messages"][..],
            &["--allow-field", "n"],
            &["--public-host", "https://chat.example.com"],
            &["--public-host", "chat.example.com/x"],
            &["--embed-endpoint", "javascript:alert(1)"],
            &["--image-hosts", "https://x.example/"],
            &["--max-streams", "0"],
        ] {
            let err = Config::from_args(args(bad), no_env).unwrap_err();
            assert!(!err.contains('\n'), "{bad:?}: {err}");
        }
    }

    #[test]
    fn redis_budget_and_metrics_flags() {
        let c = Config::from_args(
            args(&[
                "--redis",
                "redis://user:hunter2@10.0.0.5:6379/1",
                "--redis-prefix",
                "site-a",
                "--budget-tokens-per-day",
                "50000",
                "--budget-user-header",
                "X-User-Id",
                "--metrics-listen",
                "127.0.0.1:9090",
            ]),
            no_env,
        )
        .unwrap();
        assert_eq!(c.redis_namespace, "confab:site-a:");
        assert_eq!(
            c.redis_failure,
            RedisFailure::Open,
            "loopback listener: open"
        );
        assert_eq!(c.budget_tokens_per_day, Some(50_000));
        assert_eq!(c.budget_user_header.as_ref().unwrap(), "x-user-id");
        assert_eq!(c.metrics_listen, Some("127.0.0.1:9090".parse().unwrap()));
        assert!(!format!("{c:?}").contains("hunter2"));
        let public = Config::from_args(
            args(&["--listen", "0.0.0.0:8080", "--redis", "redis://r"]),
            no_env,
        )
        .unwrap();
        assert_eq!(
            public.redis_failure,
            RedisFailure::Closed,
            "public listener: closed"
        );
        assert_eq!(public.redis_namespace, "confab:");
        let open = Config::from_args(
            args(&["--listen", "0.0.0.0:8080", "--redis-failure", "open"]),
            no_env,
        )
        .unwrap();
        assert_eq!(open.redis_failure, RedisFailure::Open);
        for bad in [
            &["--redis", "http://x"][..],
            &["--redis-prefix", "a:b"],
            &["--redis-failure", "maybe"],
            &["--budget-tokens-per-day", "0"],
            &["--budget-user-header", "bad header"],
            &["--metrics-listen", "9090"],
            &["--metrics-listen", "127.0.0.1:8787"],
        ] {
            let err = Config::from_args(args(bad), no_env).unwrap_err();
            assert!(!err.contains('\n'), "{bad:?}: {err}");
        }
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
