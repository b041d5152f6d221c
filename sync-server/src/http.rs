//! The HTTP face of the server (axum): `POST /v1/sync`, `GET /healthz`, and a clean shutdown on
//! SIGTERM or Ctrl-C.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use doorstep_core::Store;
use doorstep_core::sync::protocol::{CONTENT_TYPE, MAX_BODY_BYTES, SYNC_PATH};
use tokio::net::TcpListener;

use crate::exchange;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The server's store (journaled).
    pub store: Arc<Store>,
}

/// The routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route(SYNC_PATH, post(sync))
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

async fn sync(State(state): State<AppState>, body: Body) -> Response {
    let started = Instant::now();
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
    let store = Arc::clone(&state.store);
    let result = tokio::task::spawn_blocking(move || exchange::handle(&store, &bytes)).await;
    match result {
        Ok(Ok((body, summary))) => {
            tracing::info!(
                device = %summary.device,
                pushed = summary.pushed,
                rejected = summary.rejected,
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
            tracing::warn!(status = status.as_u16(), error = %err, bytes_in = received, "sync refused");
            text(status, err.to_string())
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
