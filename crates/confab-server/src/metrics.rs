//! Counters and histograms in the Prometheus text format (version 0.0.4), served at
//! `GET /metrics` on `--metrics-listen` only, never on the public listener. Plain atomics:
//! recording costs a few nanoseconds and no lock.

use std::fmt::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::AppState;

/// Which API route a request went to (the label `route`).
#[derive(Debug, Clone, Copy)]
pub enum Route {
    ChatCompletions = 0,
    Models = 1,
    Other = 2,
}

const ROUTES: [&str; 3] = ["chat_completions", "models", "other"];

impl Route {
    pub fn of(path: &str) -> Route {
        match path {
            "/v1/chat/completions" => Route::ChatCompletions,
            "/v1/models" => Route::Models,
            _ => Route::Other,
        }
    }
}

/// Why a limiter refused a request (the label `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    RateLimit = 0,
    TooManyStreams = 1,
    BudgetClient = 2,
    BudgetGlobal = 3,
    LimiterUnavailable = 4,
}

const REASONS: [&str; 5] = [
    "rate_limit",
    "too_many_streams",
    "budget_client",
    "budget_global",
    "limiter_unavailable",
];

/// Upper bounds (seconds) of the latency buckets.
const BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

pub struct Histogram {
    /// Per bucket, not cumulative; the last one is +Inf.
    counts: [AtomicU64; BUCKETS.len() + 1],
    sum_micros: AtomicU64,
}

impl Histogram {
    fn new() -> Self {
        Histogram {
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_micros: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        let i = BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(BUCKETS.len());
        self.counts[i].fetch_add(1, Relaxed);
        self.sum_micros.fetch_add(d.as_micros() as u64, Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (i, c) in self.counts.iter().enumerate() {
            cumulative += c.load(Relaxed);
            match BUCKETS.get(i) {
                Some(le) => {
                    let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
                }
                None => {
                    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {cumulative}");
                }
            }
        }
        let sum = self.sum_micros.load(Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {cumulative}");
    }
}

pub struct Metrics {
    /// `[route][status]`, status 100..=599 at index status - 100.
    requests: Vec<AtomicU64>,
    rejections: [AtomicU64; REASONS.len()],
    pub upstream_latency: Histogram,
    pub time_to_first_token: Histogram,
    tokens_in: AtomicU64,
    tokens_out: AtomicU64,
    estimated_answers: AtomicU64,
}

const STATUSES: usize = 500;

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            requests: (0..ROUTES.len() * STATUSES)
                .map(|_| AtomicU64::new(0))
                .collect(),
            rejections: std::array::from_fn(|_| AtomicU64::new(0)),
            upstream_latency: Histogram::new(),
            time_to_first_token: Histogram::new(),
            tokens_in: AtomicU64::new(0),
            tokens_out: AtomicU64::new(0),
            estimated_answers: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    pub fn request(&self, route: Route, status: u16) {
        let s = usize::from(status.clamp(100, 599)) - 100;
        self.requests[route as usize * STATUSES + s].fetch_add(1, Relaxed);
    }

    pub fn rejected(&self, reason: Rejection) {
        self.rejections[reason as usize].fetch_add(1, Relaxed);
    }

    /// Tokens of one answer; `estimated` when the upstream sent no `usage`.
    pub fn tokens(&self, prompt: u64, completion: u64, estimated: bool) {
        self.tokens_in.fetch_add(prompt, Relaxed);
        self.tokens_out.fetch_add(completion, Relaxed);
        if estimated {
            self.estimated_answers.fetch_add(1, Relaxed);
        }
    }

    /// The exposition text. `active_streams` is read from the stream slots at scrape time.
    pub fn render(&self, active_streams: usize) -> String {
        let mut out = String::with_capacity(4096);
        out.push_str("# HELP confab_requests_total API requests answered, by route and status.\n# TYPE confab_requests_total counter\n");
        for (r, route) in ROUTES.iter().enumerate() {
            for s in 0..STATUSES {
                let n = self.requests[r * STATUSES + s].load(Relaxed);
                if n > 0 {
                    let status = s + 100;
                    let _ = writeln!(
                        out,
                        "confab_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                    );
                }
            }
        }
        out.push_str("# HELP confab_limiter_rejections_total Requests refused by a limit, by reason.\n# TYPE confab_limiter_rejections_total counter\n");
        for (i, reason) in REASONS.iter().enumerate() {
            let n = self.rejections[i].load(Relaxed);
            let _ = writeln!(
                out,
                "confab_limiter_rejections_total{{reason=\"{reason}\"}} {n}"
            );
        }
        self.upstream_latency.render(
            &mut out,
            "confab_upstream_latency_seconds",
            "Time from sending a chat completion upstream to its response headers.",
        );
        self.time_to_first_token.render(
            &mut out,
            "confab_time_to_first_token_seconds",
            "Time from sending a chat completion upstream to its first content or reasoning token.",
        );
        let _ = writeln!(
            out,
            "# HELP confab_tokens_total Tokens of proxied chat completions (from usage, else estimated).\n# TYPE confab_tokens_total counter\nconfab_tokens_total{{direction=\"in\"}} {}\nconfab_tokens_total{{direction=\"out\"}} {}",
            self.tokens_in.load(Relaxed),
            self.tokens_out.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP confab_tokens_estimated_answers_total Answers without usage whose tokens were estimated (4 characters a token).\n# TYPE confab_tokens_estimated_answers_total counter\nconfab_tokens_estimated_answers_total {}",
            self.estimated_answers.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP confab_active_streams Chat completions in flight on this instance.\n# TYPE confab_active_streams gauge\nconfab_active_streams {active_streams}"
        );
        out
    }
}

async fn metrics(State(st): State<AppState>) -> impl IntoResponse {
    let text = st.metrics().render(st.streams_in_flight());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
}

/// Serves `GET /metrics` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = Router::new()
        .route("/metrics", get(metrics))
        .with_state(state);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_format_has_cumulative_buckets_and_labelled_counters() {
        let m = Metrics::default();
        m.request(Route::ChatCompletions, 200);
        m.request(Route::ChatCompletions, 200);
        m.request(Route::Models, 429);
        m.rejected(Rejection::BudgetGlobal);
        m.upstream_latency.observe(Duration::from_millis(3));
        m.upstream_latency.observe(Duration::from_millis(300));
        m.tokens(10, 5, true);
        let text = m.render(7);
        for line in [
            "confab_requests_total{route=\"chat_completions\",status=\"200\"} 2",
            "confab_requests_total{route=\"models\",status=\"429\"} 1",
            "confab_limiter_rejections_total{reason=\"budget_global\"} 1",
            "confab_limiter_rejections_total{reason=\"rate_limit\"} 0",
            "confab_upstream_latency_seconds_bucket{le=\"0.005\"} 1",
            "confab_upstream_latency_seconds_bucket{le=\"0.25\"} 1",
            "confab_upstream_latency_seconds_bucket{le=\"0.5\"} 2",
            "confab_upstream_latency_seconds_bucket{le=\"+Inf\"} 2",
            "confab_upstream_latency_seconds_sum 0.303",
            "confab_upstream_latency_seconds_count 2",
            "confab_tokens_total{direction=\"in\"} 10",
            "confab_tokens_total{direction=\"out\"} 5",
            "confab_tokens_estimated_answers_total 1",
            "confab_active_streams 7",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
    }
}
