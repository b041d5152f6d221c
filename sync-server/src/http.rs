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
use doorstep_core::Store;
use doorstep_core::sync::protocol::{
    CONTENT_TYPE, ENROLL_PATH, EnrollRequest, EnrollResponse, MAX_BODY_BYTES, SYNC_PATH,
};

use crate::accounts::{AccountError, Accounts, Session};
use tokio::net::TcpListener;

use crate::exchange;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The server's store (journaled).
    pub store: Arc<Store>,
    /// Users, devices and the audit log.
    pub accounts: Arc<Accounts>,
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

/// The session behind the request's bearer token, or the status and message to refuse with.
fn session(state: &AppState, headers: &HeaderMap) -> Result<Session, (StatusCode, String)> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    state.accounts.authenticate(token.trim()).map_err(|err| {
        let status = match err {
            AccountError::BadToken => StatusCode::UNAUTHORIZED,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        tracing::warn!(status = status.as_u16(), error = %err, "sync without a valid token");
        (status, err.to_string())
    })
}

async fn enroll(State(state): State<AppState>, body: Body) -> Response {
    let Ok(bytes) = to_bytes(body, 64 * 1024).await else {
        return text(StatusCode::PAYLOAD_TOO_LARGE, "登记请求过大");
    };
    let request: EnrollRequest = match serde_json::from_slice(&bytes) {
        Ok(r) => r,
        Err(e) => return text(StatusCode::BAD_REQUEST, format!("登记请求格式不对：{e}")),
    };
    let accounts = Arc::clone(&state.accounts);
    let result = tokio::task::spawn_blocking(move || {
        accounts.enroll(
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
                villages: session.villages,
            };
            (StatusCode::OK, axum::Json(answer)).into_response()
        }
        Ok(Err(err @ AccountError::BadCode)) => {
            tracing::warn!("enrollment with a bad code");
            text(StatusCode::UNAUTHORIZED, err.to_string())
        }
        Ok(Err(err @ AccountError::Invalid(_))) => text(StatusCode::BAD_REQUEST, err.to_string()),
        Ok(Err(err)) => text(StatusCode::INTERNAL_SERVER_ERROR, err.to_string()),
        Err(_) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "服务器内部错误，请稍后重试",
        ),
    }
}

async fn sync(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let started = Instant::now();
    let session = match session(&state, &headers) {
        Ok(session) => session,
        Err((status, message)) => return text(status, message),
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
    let (store, accounts) = (Arc::clone(&state.store), Arc::clone(&state.accounts));
    let result = tokio::task::spawn_blocking(move || {
        let outcome = exchange::handle(&store, &bytes, &session);
        if let Ok((_, summary)) = &outcome {
            let now = chrono::Utc::now();
            for (action, rows) in [
                ("write", &summary.stored),
                ("refused", &summary.refused),
                ("read", &summary.sent),
            ] {
                accounts
                    .audit(&session, action, rows, now)
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok::<_, String>((outcome, session))
    })
    .await;
    match result {
        Ok(Ok((Ok((body, summary)), session))) => {
            tracing::info!(
                user = %session.user.id,
                device = %session.device_id,
                stored = summary.stored.len(),
                refused = summary.refused.len(),
                sent = summary.sent.len(),
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
        Ok(Ok((Err(err), _))) => {
            let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::BAD_REQUEST);
            tracing::warn!(status = status.as_u16(), error = %err, bytes_in = received, "sync refused");
            text(status, err.to_string())
        }
        Ok(Err(audit)) => {
            tracing::error!(error = %audit, "audit log failed");
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "服务器审计日志写入失败，请稍后重试",
            )
        }
        Err(join) => {
            tracing::error!(error = %join, "sync handler failed");
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "服务器内部错误，请稍后重试",
            )
        }
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
