//! Who is signed in to the console: the session cookie (HttpOnly, SameSite=Strict, Secure
//! behind TLS), the CSRF token every form carries, sign-in with its limit on failures, and
//! sign-out.

use std::time::Instant;

use axum::extract::{Form, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use maud::html;
use serde::Deserialize;

use super::layout::{self, Page};
use crate::connections::{Busy, ThisConnection};
use crate::http::{AppState, ClientAddress, blocking};
use crate::limits::wait_text;
use crate::storage::{AccountError, ConsoleSession};

/// The console's front page.
pub const CONSOLE_PATH: &str = "/console";
const LOGIN_PATH: &str = "/console/login";
/// The session cookie.
const SESSION_COOKIE: &str = "doorstep_console";
/// The cookie that pairs the sign-in form with the browser that asked for it.
const LOGIN_COOKIE: &str = "doorstep_login";

/// A signed-in staff member, taken from the session cookie; anyone else is sent to sign in.
pub struct Staff {
    /// The session.
    pub session: ConsoleSession,
    token: String,
    /// Keeps the request's connection open whatever newcomers arrive, until it is answered.
    _busy: Option<Busy>,
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether the browser reached the server over TLS (through the town's TLS proxy).
fn behind_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"))
}

fn set_cookie(headers: &HeaderMap, name: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = if behind_tls(headers) { "; Secure" } else { "" };
    let text = format!(
        "{name}={value}; Path={CONSOLE_PATH}; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Compares two tokens in time independent of where they differ.
fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0, |d, (x, y)| d | (x ^ y)) == 0
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Staff, Response> {
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE).map(str::to_string) else {
            return Err(Redirect::to(LOGIN_PATH).into_response());
        };
        let storage = state.storage.clone();
        let lookup = token.clone();
        match blocking(move || {
            storage
                .console_session(&lookup, Utc::now())
                .map_err(|e| e.to_string())
        })
        .await
        {
            Ok(Some(session)) => {
                let busy = parts
                    .extensions
                    .get::<ThisConnection>()
                    .and_then(ThisConnection::busy);
                Ok(Staff {
                    session,
                    token,
                    _busy: busy,
                })
            }
            Ok(None) => Err(Redirect::to(LOGIN_PATH).into_response()),
            Err(err) => Err(layout::fault(&err)),
        }
    }
}

impl Staff {
    /// Refuses a form that does not carry this session's CSRF token, and audits it.
    pub async fn check_form(&self, state: &AppState, csrf: &str) -> Result<(), Response> {
        if same_token(csrf, &self.session.csrf) {
            return Ok(());
        }
        let storage = state.storage.clone();
        let session = self.session.clone();
        let _ = blocking(move || {
            storage
                .audit_console(
                    &session,
                    "refused",
                    "-",
                    "表单缺少有效的校验码（可能是伪造的请求）",
                )
                .map_err(|e| e.to_string())
        })
        .await;
        Err(layout::refusal(
            StatusCode::FORBIDDEN,
            "表单已过期或来源不明，已拒绝。请回到工作台页面重新操作。",
        ))
    }
}

/// The sign-in page; sets the cookie its form is paired with.
pub async fn login_page(headers: HeaderMap) -> Response {
    login_form(&headers, None, StatusCode::OK)
}

fn login_form(headers: &HeaderMap, message: Option<&str>, status: StatusCode) -> Response {
    let pairing = crate::storage::random_token();
    let body = html! {
        form.login method="post" action=(LOGIN_PATH) {
            h1 { "镇便民服务中心工作台" }
            @if let Some(message) = message { p.error role="alert" { (message) } }
            input type="hidden" name="csrf" value=(pairing);
            label { "工号" input name="user" autocomplete="username" required autofocus; }
            label { "密码" input name="password" type="password" autocomplete="current-password" required; }
            button type="submit" { "登录" }
        }
    };
    let mut response = (status, layout::render(&Page::signed_out("登录"), body)).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(headers, LOGIN_COOKIE, &pairing, 3600),
    );
    response
}

/// The sign-in form.
#[derive(Deserialize)]
pub struct LoginForm {
    /// The form's CSRF token (missing in a forged form: refused and audited).
    #[serde(default)]
    csrf: String,
    user: String,
    password: String,
}

/// Signs in: checks the form's pairing, the limits on failures (per address and per account)
/// and the password.
pub async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let paired = cookie(&headers, LOGIN_COOKIE).is_some_and(|c| same_token(c, &form.csrf));
    if !paired {
        return login_form(
            &headers,
            Some("登录表单已过期，请重新输入工号和密码。"),
            StatusCode::FORBIDDEN,
        );
    }
    let limiter = state.sign_in_failures.clone();
    let user = form.user.trim().to_string();
    if let Some(wait) = limiter.wait(address, &user, Instant::now()) {
        tracing::warn!(%address, "console sign-ins limited");
        let message = format!(
            "登录失败次数过多，请{}后再试，或联系管理员。",
            wait_text(wait)
        );
        return login_form(&headers, Some(&message), StatusCode::TOO_MANY_REQUESTS);
    }
    let storage = state.storage.clone();
    let (tried, at) = (user.clone(), address.to_string());
    let outcome =
        blocking(move || Ok(storage.sign_in(&tried, &form.password, &at, Utc::now()))).await;
    match outcome {
        Ok(Ok((token, _))) => {
            limiter.succeeded(&user);
            let mut response = Redirect::to(CONSOLE_PATH).into_response();
            let session_cookie = set_cookie(
                &headers,
                SESSION_COOKIE,
                &token,
                crate::storage::SESSION_HOURS * 3600,
            );
            response
                .headers_mut()
                .append(header::SET_COOKIE, session_cookie);
            response
        }
        Ok(Err(AccountError::BadPassword)) => {
            limiter.failed(address, &user, Instant::now());
            tracing::warn!(%address, "console sign-in refused");
            login_form(
                &headers,
                Some("工号或密码不正确。"),
                StatusCode::UNAUTHORIZED,
            )
        }
        Ok(Err(err)) => layout::fault(&err.to_string()),
        Err(err) => layout::fault(&err),
    }
}

/// A form that carries only its CSRF token.
#[derive(Deserialize)]
pub struct TokenForm {
    /// The form's CSRF token (missing in a forged form: refused and audited).
    #[serde(default)]
    csrf: String,
}

/// Signs out and forgets the cookie.
pub async fn logout(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Response {
    if let Err(refused) = staff.check_form(&state, &form.csrf).await {
        return refused;
    }
    let storage = state.storage.clone();
    let Staff { session, token, .. } = staff;
    if let Err(err) = blocking(move || {
        storage
            .sign_out(&token, &session, Utc::now())
            .map_err(|e| e.to_string())
    })
    .await
    {
        return layout::fault(&err);
    }
    let mut response = Redirect::to(LOGIN_PATH).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(&headers, SESSION_COOKIE, "", 0),
    );
    response
}
