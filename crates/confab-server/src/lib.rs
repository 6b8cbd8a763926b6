//! confab-server: serves the built Confab widget, answers with an offline demo model, or
//! proxies to an OpenAI-compatible API with the key kept server-side.
//!
//! The binary is a thin wrapper: tests start the same [`app`] in-process with [`serve`].

pub mod body_memory;
pub mod budget;
pub mod client_key;
pub mod config;
pub mod connections;
pub mod demo;
pub mod error;
pub mod guard;
pub mod headers;
pub mod image_policy;
pub mod images;
pub mod limits;
pub mod metrics;
pub mod policy;
pub mod proxy;
pub mod request;
pub mod shared_limits;
pub mod static_files;
pub mod usage;

use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use tokio::net::TcpListener;

pub use config::{Args, Config};

/// Shared by all handlers. Nothing in it outlives a request except the demo model's
/// "last request" (a test aid), the metrics and, without `--redis`, the limiters' counts,
/// so instances stay interchangeable behind a load balancer.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    http: Option<reqwest::Client>,
    limits: shared_limits::SharedLimits,
    metrics: Arc<metrics::Metrics>,
    host_rule: headers::HostRule,
    /// `--max-body-memory`, shared by every request body being read.
    body_memory: body_memory::BodyMemory,
    last_request: Mutex<Option<Bytes>>,
    /// Conversations that already misbehaved once (`/demo error once`), so Retry succeeds.
    demo_seen: Mutex<std::collections::HashSet<u64>>,
}

impl AppState {
    pub fn new(config: Config) -> Self {
        let http = config.upstream.as_ref().map(|_| proxy::client(&config));
        let metrics = Arc::new(metrics::Metrics::default());
        let limits = shared_limits::SharedLimits::new(&config, metrics.clone());
        let host_rule = headers::HostRule::of(&config);
        let body_memory = body_memory::BodyMemory::new(config.max_body_memory);
        AppState {
            inner: Arc::new(Inner {
                config,
                http,
                limits,
                metrics,
                host_rule,
                body_memory,
                last_request: Mutex::new(None),
                demo_seen: Mutex::new(std::collections::HashSet::new()),
            }),
        }
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub fn limits(&self) -> &shared_limits::SharedLimits {
        &self.inner.limits
    }

    pub fn metrics(&self) -> &metrics::Metrics {
        &self.inner.metrics
    }

    /// Chat completions in flight on this instance.
    pub fn streams_in_flight(&self) -> usize {
        self.inner.limits.streams_in_flight()
    }

    /// True the first time `key` is offered; false afterwards (demo "once" scenarios).
    fn first_time(&self, key: u64) -> bool {
        let mut seen = self
            .inner
            .demo_seen
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if seen.len() > 10_000 {
            seen.clear(); // a demo aid, not worth unbounded memory
        }
        seen.insert(key)
    }
}

/// The whole application: API routes, demo model or proxy, and the static widget.
pub fn app(config: Config) -> Router {
    app_with_state(AppState::new(config))
}

fn app_with_state(state: AppState) -> Router {
    let api = Router::new()
        .route("/v1/chat/completions", post(chat_completions))
        .route("/v1/models", get(models))
        .route("/v1/demo/last-request", get(demo::last_request))
        .route("/v1/{*rest}", axum::routing::any(api_not_found))
        .route("/v1", axum::routing::any(api_not_found))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::api_guard,
        ));

    Router::new()
        .route("/healthz", get(healthz))
        .merge(api)
        .fallback_service(static_files::service(static_files::StaticConfig::of(
            state.config(),
        )))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            headers::check_host,
        ))
        .layer(headers::everywhere())
        .layer(middleware::from_fn_with_state(state.clone(), log_requests))
        .with_state(state)
}

async fn healthz(State(st): State<AppState>) -> Response {
    let mode = if st.config().is_demo() {
        "demo"
    } else {
        "proxy"
    };
    let mut res = Json(json!({"status": "ok", "mode": mode})).into_response();
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    res
}

async fn api_not_found(req: Request) -> Response {
    error::openai_error(
        StatusCode::NOT_FOUND,
        format!(
            "{} {} is not served here: only POST /v1/chat/completions and GET /v1/models are",
            req.method(),
            req.uri().path()
        ),
        "invalid_request_error",
        Some("unknown_url"),
    )
}

async fn chat_completions(State(st): State<AppState>, req: Request) -> Response {
    let key = req
        .extensions()
        .get::<client_key::ClientKey>()
        .copied()
        .unwrap_or(client_key::ClientKey::V4(std::net::Ipv4Addr::UNSPECIFIED));
    let config = st.config();
    let who = (!config.is_demo() && config.has_budgets())
        .then(|| budget::BudgetKey::of(config, req.headers(), key));
    if let Some(who) = &who {
        if let Err(spent) = st.limits().check_budget(config, who).await {
            return spent;
        }
    }
    // Taken before the body is read: a slow upload counts as a request in flight.
    let slot = match st.limits().acquire_stream(key).await {
        Ok(s) => s,
        Err(busy) => return busy,
    };
    let headers = req.headers().clone();
    let memory = &st.inner.body_memory;
    let (body, held) =
        match guard::read_body(req, config.max_body, config.body_timeout, memory).await {
            Ok(b) => b,
            Err(res) => return res,
        };
    let res = if config.is_demo() {
        demo::chat(st.clone(), body).await
    } else {
        proxy::chat(st.clone(), &headers, body, who).await
    };
    // The body has been checked and sent on: its bytes are free again.
    drop(held);
    limits::hold_until_body_ends(res, slot)
}

async fn models(State(st): State<AppState>) -> Response {
    if st.config().is_demo() {
        demo::models(&st)
    } else {
        proxy::models(st).await
    }
}

/// One log line per request: method, path (without query), status, time, client; and
/// the request counted in the metrics. Headers and bodies are never logged, so neither is
/// any key.
async fn log_requests(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let client = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "-".into());
    let res = next.run(req).await;
    st.metrics()
        .request(metrics::Route::of(&path), res.status().as_u16());
    tracing::info!(
        target: "confab_server::access",
        %method,
        path,
        status = res.status().as_u16(),
        ms = start.elapsed().as_millis() as u64,
        client,
        "request"
    );
    res
}

/// Serves `config` on an already bound listener until `shutdown` resolves, then lets the
/// requests in flight (streams included) finish.
pub async fn serve(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = connections::ConnectionLimits {
        max_connections: config.max_connections,
        // Behind a reverse proxy every peer is the proxy: count clients by connection there
        // and the proxy would be capped, not them.
        max_per_client: (!config.trust_forwarded_for).then_some(config.max_connections_per_client),
        header_timeout: config.header_timeout,
    };
    let metrics_listen = config.metrics_listen;
    let state = AppState::new(config);
    if let Some(limiter) = state.limits().local_rate_limiter() {
        guard::spawn_sweeper(limiter);
    }
    // The metrics listener stops with the public one.
    let (stop_metrics, metrics_stopped) = tokio::sync::oneshot::channel::<()>();
    if let Some(addr) = metrics_listen {
        let metrics_listener = TcpListener::bind(addr).await.map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("cannot listen on {addr} for metrics: {e}"),
            )
        })?;
        tracing::info!(addr = %metrics_listener.local_addr()?, "metrics at /metrics");
        tokio::spawn(metrics::serve(metrics_listener, state.clone(), async {
            let _ = metrics_stopped.await;
        }));
    }
    let served = connections::serve(listener, app_with_state(state), limits, shutdown).await;
    let _ = stop_metrics.send(());
    served
}

/// Starts the app on a free loopback port in a background task (for tests and benches).
/// Returns the bound address; the server stops when `shutdown` resolves.
pub async fn spawn(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<std::io::Result<()>>)> {
    let listener = TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let handle = tokio::spawn(serve(listener, config, shutdown));
    Ok((addr, handle))
}

/// What the binary runs: bind, print `listening on http://ADDR` as the first stdout line,
/// serve until ctrl-c or SIGTERM, then finish the streams in flight.
pub async fn run(config: Config) -> Result<(), String> {
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on http://{addr}");
        let _ = out.flush();
    }
    match &config.upstream {
        None => tracing::info!(
            "no --upstream: answering with the offline demo model (send `/demo` to list its scenarios)"
        ),
        Some(up) => tracing::info!(
            upstream = %up.display_base(),
            auth = match up.auth { config::AuthStyle::Bearer => "bearer", config::AuthStyle::Azure { .. } => "azure api-key" },
            key = if up.api_key.is_some() { "set" } else { "none" },
            "proxying chat completions"
        ),
    }
    if let Some(redis) = &config.redis {
        tracing::info!(
            redis = %redis.display(),
            keys = %format!("{}*", config.redis_namespace),
            on_failure = match config.redis_failure {
                config::RedisFailure::Closed => "closed (503)",
                config::RedisFailure::Open => "open (own limits)",
            },
            "sharing limits and budgets through Redis"
        );
    }
    if !config.static_dir.join("index.html").is_file() {
        tracing::warn!(
            dir = %config.static_dir.display(),
            "no index.html in the static dir: the widget is not built (run `cargo xtask serve`)"
        );
    } else {
        tracing::info!(dir = %config.static_dir.display(), "serving the widget");
    }
    serve(listener, config, shutdown_signal())
        .await
        .map_err(|e| format!("server error: {e}"))?;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on ctrl-c or SIGTERM. A second signal during the graceful shutdown exits at once.
async fn shutdown_signal() {
    wait_for_signal().await;
    tracing::info!("shutting down: finishing the requests in flight (signal again to stop now)");
    tokio::spawn(async {
        wait_for_signal().await;
        tracing::warn!("second signal: stopping now");
        std::process::exit(130);
    });
}

async fn wait_for_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
