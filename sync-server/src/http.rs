//! The HTTP face of the server (axum): `POST /v1/sync`, `GET /healthz`, and a clean shutdown on
//! SIGTERM or Ctrl-C.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use doorstep_core::sync::protocol::{
    CONTENT_TYPE, ENROLL_PATH, EnrollRequest, EnrollResponse, MAX_BODY_BYTES, SYNC_PATH,
};
use tokio::net::TcpListener;

use crate::exchange;
use crate::storage::{AccountError, Storage};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The server's database.
    pub storage: Arc<Storage>,
}

impl AppState {
    /// Opens the server's database (a folder for SQLite, or a `postgres://` URL).
    pub fn open(location: &str) -> Result<AppState, String> {
        let storage =
            Storage::open(location).map_err(|e| format!("无法打开数据 {location}：{e}"))?;
        Ok(AppState {
            storage: Arc::new(storage),
        })
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

async fn enroll(State(state): State<AppState>, body: Body) -> Response {
    let Ok(bytes) = to_bytes(body, 64 * 1024).await else {
        return text(StatusCode::PAYLOAD_TOO_LARGE, "登记请求过大");
    };
    let request: EnrollRequest = match serde_json::from_slice(&bytes) {
        Ok(r) => r,
        Err(e) => return text(StatusCode::BAD_REQUEST, format!("登记请求格式不对：{e}")),
    };
    let storage = Arc::clone(&state.storage);
    let result = tokio::task::spawn_blocking(move || {
        storage.enroll(
            &request.code,
            &request.device,
            &request.device_name,
            chrono::Utc::now(),
        )
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
            tracing::warn!("enrollment with a bad code");
            text(StatusCode::UNAUTHORIZED, err.to_string())
        }
        Ok(Err(err @ AccountError::Invalid(_))) => text(StatusCode::BAD_REQUEST, err.to_string()),
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
    let bytes = match to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            tracing::warn!(
                limit = MAX_BODY_BYTES,
                "sync request too large or cut short"
            );
            return text(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("同步请求过大（上限 {MAX_BODY_BYTES} 字节）或传输中断，请分批同步"),
            );
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

/// Serves until SIGTERM or Ctrl-C, then finishes the requests under way and returns.
pub async fn serve(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    let addr: SocketAddr = listener.local_addr()?;
    tracing::info!(%addr, "listening");
    // A line for people and for scripts that start the server on port 0.
    println!("listening on http://{addr}");
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
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
