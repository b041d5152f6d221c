//! The HTTP face of the server (axum on hyper): `POST /v1/sync`, `POST /v1/enroll`,
//! `GET /healthz`, the limits on slow and numerous clients (per connection, per address, per
//! device), the client's address (from a trusted TLS front's header when the operator names
//! the front), and a clean shutdown on SIGTERM or Ctrl-C.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, State};
use axum::http::HeaderMap;
use axum::http::request::Parts;
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

use crate::connections::{OpenConnections, PerAddress, ThisConnection};
use crate::exchange;
use crate::limits::{
    AttemptLimits, BODY_READ_TIMEOUT, DEVICE_TURN_WAIT, ENROLL_BODY_TIMEOUT, FailureLimiter,
    HEADER_READ_TIMEOUT, MAX_CONNECTIONS, MAX_ENROLLMENTS, MAX_EXCHANGES, MAX_EXPORTS,
    REFUSED_TOKEN_AUDITS, wait_text,
};
use crate::storage::{AccountError, Storage};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The server's database.
    pub storage: Arc<Storage>,
    /// Failed enrollment attempts, per client address and per device id.
    enroll_failures: Arc<AttemptLimits>,
    /// Failed console sign-ins, per client address and per account.
    pub(crate) sign_in_failures: Arc<AttemptLimits>,
    /// Turns for sync exchanges (bounds the requests read and worked on at once).
    exchanges: Arc<Semaphore>,
    /// Turns for enrollments (bounds the requests from clients without an account at once).
    enrollments: Arc<Semaphore>,
    /// The devices with a sync exchange under way (one at a time each).
    syncing: Arc<DeviceTurns>,
    /// Refused tokens (of revoked devices), whose refusals are audited with back-off.
    bad_tokens: Arc<FailureLimiter<String>>,
    /// The TLS front whose `X-Forwarded-For` names the client, if the operator trusts one.
    trusted_front: Option<IpAddr>,
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
            enroll_failures: Arc::new(AttemptLimits::enrollments()),
            sign_in_failures: Arc::new(AttemptLimits::sign_ins()),
            exchanges: Arc::new(Semaphore::new(MAX_EXCHANGES)),
            enrollments: Arc::new(Semaphore::new(MAX_ENROLLMENTS)),
            syncing: Arc::default(),
            bad_tokens: Arc::new(FailureLimiter::new(REFUSED_TOKEN_AUDITS)),
            trusted_front: None,
            exports: Arc::new(Semaphore::new(MAX_EXPORTS)),
        }
    }

    /// The same state, taking the client's address from `X-Forwarded-For` on connections from
    /// `front` (the town's TLS front); without one, the connection's address is the client's.
    pub fn trusting_front(self, front: Option<IpAddr>) -> AppState {
        AppState {
            trusted_front: front,
            ..self
        }
    }

    /// The client's address: the connection's, or for a connection from the trusted front,
    /// the last address the front appended to `X-Forwarded-For`.
    fn client_address(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if self.trusted_front != Some(peer) {
            return peer;
        }
        headers
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(peer)
    }
}

/// The address of the client that sent a request (see [`AppState::trusting_front`]).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<ClientAddress, Response> {
        parts
            .extensions
            .get::<ClientAddress>()
            .copied()
            .ok_or_else(|| internal(&"client address missing"))
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

/// Reads a request's body within `limit` bytes and the time `within`.
async fn read_body(
    body: Body,
    limit: usize,
    within: std::time::Duration,
) -> Result<axum::body::Bytes, Response> {
    match tokio::time::timeout(within, to_bytes(body, limit)).await {
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
    ClientAddress(address): ClientAddress,
    connection: ThisConnection,
    body: Body,
) -> Response {
    let limits = Arc::clone(&state.enroll_failures);
    // The body is small and must come quickly; a slow one holds nothing but its connection.
    let bytes = match read_body(body, 4 * 1024, ENROLL_BODY_TIMEOUT).await {
        Ok(bytes) => bytes,
        Err(response) => return response,
    };
    let request = match EnrollRequest::from_json(&bytes) {
        Ok(r) => r,
        Err(e) => {
            // Counted against the address (and the empty device id, which no phone has).
            limits.failed(address, "", Instant::now());
            return text(StatusCode::BAD_REQUEST, e.to_string());
        }
    };
    if let Some(wait) = limits.wait(address, &request.device, Instant::now()) {
        return enrollments_limited(address, wait);
    }
    // Checking a code is the work: a few enrollments at a time.
    let turn = Arc::clone(&state.enrollments).acquire_owned();
    let Ok(Ok(_turn)) = tokio::time::timeout(ENROLL_BODY_TIMEOUT, turn).await else {
        tracing::warn!(%address, "too many enrollments at once");
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            "同时登记的设备过多，请稍后再试",
        );
    };
    // Once checking, the answer must reach the phone: a used code cannot be tried again.
    let _busy = connection.busy();
    let device = request.device.clone();
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
    let failed = || limits.failed(address, &device, Instant::now());
    match result {
        Ok(Ok((token, session))) => {
            limits.succeeded(&device);
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
            failed();
            text(StatusCode::UNAUTHORIZED, err.to_string())
        }
        Ok(Err(err @ AccountError::Invalid(_))) => {
            failed();
            text(StatusCode::BAD_REQUEST, err.to_string())
        }
        Ok(Err(err @ AccountError::DeviceTaken)) => {
            tracing::warn!(%address, "enrollment under another user's device id");
            failed();
            text(StatusCode::CONFLICT, err.to_string())
        }
        Ok(Err(err)) => internal(&err),
        Err(err) => internal(&err),
    }
}

/// The answer to a client that must wait after failed enrollments.
fn enrollments_limited(address: IpAddr, wait: std::time::Duration) -> Response {
    tracing::warn!(%address, "enrollment attempts limited");
    text(
        StatusCode::TOO_MANY_REQUESTS,
        format!(
            "登记失败次数过多，请{}后再试，或向镇便民服务中心确认登记码",
            wait_text(wait)
        ),
    )
}

/// The devices with a sync exchange under way or waiting for one, each with its turn.
type DeviceTurns = Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>;

/// A device's turn to sync, given up when the exchange ends: one exchange of a device at a
/// time, the next waiting (at most [`DEVICE_TURN_WAIT`]) for the one under way, such as a
/// request the phone gave up on after its own timeout while the server still worked on it.
struct Syncing {
    _turn: tokio::sync::OwnedMutexGuard<()>,
}

impl Syncing {
    /// Takes `device`'s turn, waiting for an exchange of it under way; `None` when that one
    /// did not end in time.
    async fn take(devices: &DeviceTurns, device: &str) -> Option<Syncing> {
        let turn = {
            let mut turns = devices.lock().unwrap_or_else(|p| p.into_inner());
            // Turns nobody holds or waits for are forgotten.
            turns.retain(|_, turn| Arc::strong_count(turn) > 1);
            Arc::clone(turns.entry(device.to_string()).or_default())
        };
        let held = tokio::time::timeout(DEVICE_TURN_WAIT, turn.lock_owned()).await;
        held.ok().map(|turn| Syncing { _turn: turn })
    }
}

/// Audits a request refused as a whole for the device behind `token` (see
/// [`exchange::audit_refusal`]), off the async threads.
async fn audit_refused(state: &AppState, token: String, reason: String) {
    let storage = Arc::clone(&state.storage);
    let audited =
        tokio::task::spawn_blocking(move || exchange::audit_refusal(&storage, &token, &reason))
            .await;
    if let Ok(Err(err)) = audited {
        tracing::error!(error = %err, "audit of a refused request failed");
    }
}

async fn sync(
    State(state): State<AppState>,
    connection: ThisConnection,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let Some(token) = bearer(&headers) else {
        tracing::warn!("sync without a token");
        return unauthorized();
    };
    // The device is known before anything of its request is read: a client without one costs
    // a lookup, never a turn, a body or memory.
    let storage = Arc::clone(&state.storage);
    let lookup = token.clone();
    let device =
        match tokio::task::spawn_blocking(move || exchange::device_of(&storage, &lookup)).await {
            Ok(Ok(Some(device))) => device,
            Ok(Ok(None)) => {
                tracing::warn!("sync with an unknown or revoked token");
                // A revoked phone that keeps trying is audited with back-off, not on every
                // request: it cannot grow the audit log without bound.
                let now = Instant::now();
                if state.bad_tokens.wait(&token, now).is_none() {
                    state.bad_tokens.failed(&token, now);
                    audit_refused(&state, token, AccountError::BadToken.to_string()).await;
                }
                return unauthorized();
            }
            Ok(Err(err)) => return internal(&err),
            Err(err) => return internal(&err),
        };
    let Some(_syncing) = Syncing::take(&state.syncing, &device).await else {
        tracing::warn!(%device, "second exchange of one device at once");
        let reason = "本机上一次同步还没有结束，请稍后再同步";
        audit_refused(&state, token, reason.to_string()).await;
        return text(StatusCode::TOO_MANY_REQUESTS, reason);
    };
    // The device's one exchange at a time is kept open whatever newcomers arrive.
    let _busy = connection.busy();
    // Bodies are read, and worked on, a few at a time: memory stays bounded however many
    // devices send at once.
    let Ok(_turn) = state.exchanges.acquire().await else {
        return internal(&"exchange limiter closed");
    };
    let bytes = match read_body(body, MAX_BODY_BYTES, BODY_READ_TIMEOUT).await {
        Ok(bytes) => bytes,
        Err(response) => {
            let reason = format!("请求未读完：{}", response.status());
            audit_refused(&state, token, reason).await;
            return response;
        }
    };
    let received = bytes.len();
    let storage = Arc::clone(&state.storage);
    // The device is looked up again once its whole request has arrived, so a device revoked
    // while it was uploading is refused.
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
/// connection stays idle); at most [`MAX_CONNECTIONS`] are served at once (when all are taken,
/// one with no request in work is closed for the next: see [`crate::connections`]), and at most
/// [`crate::limits::MAX_CONNECTIONS_PER_ADDRESS`] from one address (the trusted front
/// excepted).
pub async fn serve(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    let addr: SocketAddr = listener.local_addr()?;
    tracing::info!(%addr, "listening");
    // A line for people and for scripts that start the server on port 0.
    println!("listening on http://{addr}");
    // Each connection takes a file descriptor, and the database a few more.
    let wanted = MAX_CONNECTIONS as u64 + 256;
    match rlimit::increase_nofile_limit(wanted) {
        Ok(got) if got < wanted => {
            tracing::warn!(
                got,
                wanted,
                "the system allows fewer open files than connections"
            )
        }
        Ok(_) => {}
        Err(err) => tracing::warn!(error = %err, "could not raise the open files limit"),
    }
    let front = state.trusted_front;
    let app = router(state.clone());
    let per_address = PerAddress::default();
    let open = OpenConnections::default();
    let connections = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let graceful = GracefulShutdown::new();
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of descriptors, say: wait a little rather than spin.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let counted = match front {
            Some(front) if front == peer.ip() => None,
            _ => match per_address.admit(peer.ip()) {
                Some(counted) => Some(counted),
                None => {
                    tracing::warn!(address = %peer.ip(), "too many connections from one address");
                    continue;
                }
            },
        };
        let permit = match Arc::clone(&connections).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                // Every slot is taken: a connection with no request in work makes room (or,
                // when every one has, the newcomer waits for a slot).
                open.shed_one();
                let permit = tokio::select! {
                    permit = Arc::clone(&connections).acquire_owned() => permit,
                    _ = &mut shutdown => break,
                };
                let Ok(permit) = permit else { break };
                permit
            }
        };
        let state = state.clone();
        let listed = open.open(peer.ip());
        let this = ThisConnection(Some(Arc::clone(&listed.connection)));
        let service = app.clone().map_request(
            move |mut request: axum::extract::Request<hyper::body::Incoming>| {
                let client = state.client_address(peer.ip(), request.headers());
                request.extensions_mut().insert(ClientAddress(client));
                request.extensions_mut().insert(this.clone());
                request
            },
        );
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT)
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            tokio::select! {
                _ = connection => {}
                // Dropping the connection closes it.
                _ = listed.connection.closed() => {
                    tracing::warn!(address = %peer.ip(), "connection closed to make room");
                }
            }
            drop((permit, counted, listed));
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
