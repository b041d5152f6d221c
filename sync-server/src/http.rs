//! The HTTP face of the server (axum on hyper): `POST /v1/sync`, `POST /v1/enroll`,
//! `GET /healthz`, the limits on slow and numerous clients, and a clean shutdown on SIGTERM or
//! Ctrl-C.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use doorstep_core::sync::protocol::{
    CONTENT_TYPE, ENROLL_PATH, EnrollRequest, EnrollResponse, MAX_BODY_BYTES, SYNC_PATH,
};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::exchange;
use crate::limits::{
    BODY_READ_TIMEOUT, FailureLimiter, HEADER_READ_TIMEOUT, MAX_CONNECTIONS, MAX_EXCHANGES,
    MAX_EXPORTS,
};
use crate::storage::{AccountError, Storage};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The server's database.
    pub storage: Arc<Storage>,
    /// Failed enrollment attempts, per client address.
    enroll_failures: Arc<FailureLimiter>,
    /// Failed console sign-ins, per client address.
    pub(crate) sign_in_failures: Arc<FailureLimiter>,
    /// Turns for sync exchanges (bounds the requests read and worked on at once).
    exchanges: Arc<Semaphore>,
    /// Turns for exports running in the background (bounds their work at once).
    pub(crate) exports: Arc<Semaphore>,
}

impl AppState {
    /// Opens the server's database (a folder for SQLite, or a `postgres://` URL) with the
    /// server's key file (see `Storage::open_with_key`).
    pub fn open(location: &str, key_file: Option<&std::path::Path>) -> Result<AppState, String> {
        let storage = Storage::open_with_key(location, key_file)
            .map_err(|e| format!("无法打开数据 {location}：{e}"))?;
        Ok(AppState::new(Arc::new(storage)))
    }

    /// The state of a server on `storage`.
    pub fn new(storage: Arc<Storage>) -> AppState {
        AppState {
            storage,
            enroll_failures: Arc::new(FailureLimiter::enrollments()),
            sign_in_failures: Arc::new(FailureLimiter::sign_ins()),
            exchanges: Arc::new(Semaphore::new(MAX_EXCHANGES)),
            exports: Arc::new(Semaphore::new(MAX_EXPORTS)),
        }
    }
}

/// Runs blocking work (the database) off the async threads.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| e.to_string())?
}

/// The routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route(SYNC_PATH, post(sync))
        .route(ENROLL_PATH, post(enroll))
        .merge(crate::console::routes())
        .with_state(state)
}

async fn healthz() -> &'static str {
    "ok"
}

fn text(status: StatusCode, message: impl Into<String>) -> Response {
    let mut response = (status, message.into()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// The request's bearer token, if it has the shape of one (64 hex digits).
fn bearer(headers: &HeaderMap) -> Option<String> {
    let token = headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?
        .trim();
    (token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())).then(|| token.to_string())
}

/// The answer for a server fault: logged with its cause, told to the phone without it.
fn internal(err: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %err, "server fault");
    text(
        StatusCode::INTERNAL_SERVER_ERROR,
        "服务器内部错误，数据未丢失，请稍后重试",
    )
}

/// The answer for a token that is not (or no longer) a device's.
fn unauthorized() -> Response {
    text(StatusCode::UNAUTHORIZED, AccountError::BadToken.to_string())
}

/// Reads a request's body within `limit` bytes and [`BODY_READ_TIMEOUT`].
async fn read_body(body: Body, limit: usize) -> Result<axum::body::Bytes, Response> {
    match tokio::time::timeout(BODY_READ_TIMEOUT, to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(_)) => {
            tracing::warn!(limit, "request too large or cut short");
            Err(text(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("请求过大（上限 {limit} 字节）或传输中断，请分批同步"),
            ))
        }
        Err(_) => {
            tracing::warn!("request body too slow");
            Err(text(
                StatusCode::REQUEST_TIMEOUT,
                "请求发送太慢，已断开；有信号后会再同步",
            ))
        }
    }
}

async fn enroll(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Body,
) -> Response {
    let address = peer.ip();
    if !state.enroll_failures.allows(address, Instant::now()) {
        tracing::warn!(%address, "enrollment attempts limited");
        return text(
            StatusCode::TOO_MANY_REQUESTS,
            "登记失败次数过多，请10分钟后再试，或向镇便民服务中心确认登记码",
        );
    }
    let bytes = match read_body(body, 4 * 1024).await {
        Ok(bytes) => bytes,
        Err(response) => return response,
    };
    let request = match EnrollRequest::from_json(&bytes) {
        Ok(r) => r,
        Err(e) => {
            state.enroll_failures.failed(address, Instant::now());
            return text(StatusCode::BAD_REQUEST, e.to_string());
        }
    };
    let storage = Arc::clone(&state.storage);
    let result = tokio::task::spawn_blocking(move || {
        let now = chrono::Utc::now();
        let outcome = storage.enroll(&request, now);
        if let Err(
            err @ (AccountError::BadCode | AccountError::Invalid(_) | AccountError::DeviceTaken),
        ) = &outcome
        {
            let reason = err.to_string();
            storage.audit_enrollment_refusal(
                &request.device,
                &address.to_string(),
                &reason,
                now,
            )?;
        }
        outcome
    })
    .await;
    match result {
        Ok(Ok((token, session))) => {
            tracing::info!(user = %session.user.id, device = %session.device_id, "device enrolled");
            let answer = EnrollResponse {
                token,
                user: session.user,
                villages: session.scope.villages,
            };
            (StatusCode::OK, axum::Json(answer)).into_response()
        }
        Ok(Err(err @ AccountError::BadCode)) => {
            tracing::warn!(%address, "enrollment with a bad code");
            state.enroll_failures.failed(address, Instant::now());
            text(StatusCode::UNAUTHORIZED, err.to_string())
        }
        Ok(Err(err @ AccountError::Invalid(_))) => {
            state.enroll_failures.failed(address, Instant::now());
            text(StatusCode::BAD_REQUEST, err.to_string())
        }
        Ok(Err(err @ AccountError::DeviceTaken)) => {
            tracing::warn!(%address, "enrollment under another user's device id");
            state.enroll_failures.failed(address, Instant::now());
            text(StatusCode::CONFLICT, err.to_string())
        }
        Ok(Err(err)) => internal(&err),
        Err(err) => internal(&err),
    }
}

async fn sync(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let started = Instant::now();
    let Some(token) = bearer(&headers) else {
        tracing::warn!("sync without a token");
        return unauthorized();
    };
    // Bodies are read, and worked on, a few at a time: memory stays bounded however many
    // devices send at once.
    let Ok(_turn) = state.exchanges.acquire().await else {
        return internal(&"exchange limiter closed");
    };
    let bytes = match read_body(body, MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(response) => {
            let (storage, reason) = (Arc::clone(&state.storage), response.status().to_string());
            let audited = tokio::task::spawn_blocking(move || {
                exchange::audit_refusal(&storage, &token, &format!("请求未读完：{reason}"))
            })
            .await;
            if let Ok(Err(err)) = audited {
                tracing::error!(error = %err, "audit of a refused request failed");
            }
            return response;
        }
    };
    let received = bytes.len();
    let storage = Arc::clone(&state.storage);
    // The device is looked up once its whole request has arrived, so a device revoked while
    // it was uploading is refused.
    let result =
        tokio::task::spawn_blocking(move || exchange::handle(&storage, &token, &bytes)).await;
    match result {
        Ok(Ok((body, summary, session))) => {
            tracing::info!(
                user = %session.user.id,
                device = %session.device_id,
                stored = summary.stored,
                refused = summary.refused,
                sent = summary.sent,
                bytes_in = received,
                bytes_out = body.len(),
                ms = started.elapsed().as_millis() as u64,
                "sync"
            );
            let mut response = body.into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
            response
        }
        Ok(Err(err)) => {
            let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::BAD_REQUEST);
            if status.is_server_error() {
                return internal(&err);
            }
            tracing::warn!(status = status.as_u16(), error = %err, bytes_in = received, "sync refused");
            text(status, err.to_string())
        }
        Err(join) => internal(&join),
    }
}

/// Serves until SIGTERM or Ctrl-C, then finishes the requests under way and returns. Clients
/// get [`HEADER_READ_TIMEOUT`] to send a request's headers (also the most a kept-alive
/// connection stays idle), and at most [`MAX_CONNECTIONS`] are served at once.
pub async fn serve(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    let addr: SocketAddr = listener.local_addr()?;
    tracing::info!(%addr, "listening");
    // A line for people and for scripts that start the server on port 0.
    println!("listening on http://{addr}");
    let app = router(state);
    let connections = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let graceful = GracefulShutdown::new();
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&connections).acquire_owned() => permit,
            _ = &mut shutdown => break,
        };
        let Ok(permit) = permit else { break };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    tracing::warn!(error = %err, "accept failed");
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let service = app.clone().map_request(
            move |mut request: axum::extract::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            },
        );
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT)
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
            drop(permit);
        });
    }
    // Requests under way are finished; idle connections close.
    let _ = tokio::time::timeout(BODY_READ_TIMEOUT, graceful.shutdown()).await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
