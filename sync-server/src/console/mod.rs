//! The town hub's console (镇便民服务中心工作台): pages in Chinese, rendered on the server from
//! its copies of the household documents, with little JavaScript and nothing fetched from
//! elsewhere. Every action is the staff member's own edit of a household through
//! [`crate::households::edit`] (checked by the core's rules, journaled for the phones, audited);
//! every page read is audited too.

mod case;
mod cases;
mod charts;
mod exports;
mod figures;
mod intake;
mod layout;
mod reconcile;
mod session;
mod today;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

use crate::http::{AppState, blocking};
use crate::limits::{CONSOLE_REQUEST_TIMEOUT, MAX_CONSOLE_FORM_BYTES};
use crate::storage::{Storage, StorageError};

pub use session::CONSOLE_PATH;

/// What every console answer carries: nothing but the page's own styles runs, no other site
/// frames it, no browser guesses its type, and no cache keeps the personal data it shows.
const SECURITY_HEADERS: [(HeaderName, &str); 5] = [
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::CACHE_CONTROL, "no-store"),
    (header::REFERRER_POLICY, "no-referrer"),
];

/// The console's routes: each request within [`CONSOLE_REQUEST_TIMEOUT`] (its form's body
/// included) and [`MAX_CONSOLE_FORM_BYTES`], each answer with [`SECURITY_HEADERS`].
pub fn routes() -> Router<AppState> {
    let pages = pages()
        .layer(DefaultBodyLimit::max(MAX_CONSOLE_FORM_BYTES))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            CONSOLE_REQUEST_TIMEOUT,
        ));
    SECURITY_HEADERS
        .into_iter()
        .fold(pages, |pages, (name, value)| {
            pages.layer(SetResponseHeaderLayer::overriding(
                name,
                HeaderValue::from_static(value),
            ))
        })
}

fn pages() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to(CONSOLE_PATH) }))
        .route(CONSOLE_PATH, get(today::page))
        .route(
            "/console/login",
            get(session::login_page).post(session::login),
        )
        .route("/console/logout", post(session::logout))
        .route("/console/cases", get(cases::page))
        .route("/console/cases/{household}/{job}", get(case::page))
        .route(
            "/console/cases/{household}/{job}/steps",
            post(case::take_step),
        )
        .route(
            "/console/reconcile",
            get(reconcile::page).post(reconcile::choose),
        )
        .route("/console/intake", get(intake::page).post(intake::register))
        .route("/console/figures", get(figures::page))
        .route("/console/exports", get(exports::page).post(exports::start))
        .route("/console/exports/{id}/download", get(exports::download))
}

/// Runs a page's reads off the async threads and writes the read to the audit log (`household`
/// is `-` for a page about no single household).
async fn read_page<T: Send + 'static>(
    state: &AppState,
    staff: &session::Staff,
    household: &str,
    page: &str,
    work: impl FnOnce(&Storage) -> Result<T, StorageError> + Send + 'static,
) -> Result<T, Response> {
    let storage = state.storage.clone();
    let session = staff.session.clone();
    let (household, page) = (household.to_string(), page.to_string());
    blocking(move || {
        let value = work(&storage).map_err(|e| e.to_string())?;
        storage
            .audit_console(&session, "read", &household, &format!("工作台查看：{page}"))
            .map_err(|e| e.to_string())?;
        Ok(value)
    })
    .await
    .map_err(|err| layout::fault(&err))
}
