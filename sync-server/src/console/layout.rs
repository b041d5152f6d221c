//! The console's page frame (header, navigation, styles written into the page), its error
//! pages, and the small pieces every page shows: names of villages and items, states, dates
//! and the hidden fields of a form.

use std::collections::HashMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::storage::ConsoleSession;

/// The console's styles: plain CSS that old browsers render, inside the page.
const STYLE: &str = "
body{font-family:'Microsoft YaHei','PingFang SC','Noto Sans CJK SC',sans-serif;margin:0;color:#222;background:#f5f6f8}
header{background:#1f4e79;color:#fff;padding:8px 16px;display:flex;align-items:center;gap:16px;flex-wrap:wrap}
header a{color:#fff;text-decoration:none;padding:4px 8px}header a.on{background:#2f6ea5;border-radius:4px}
header .who{margin-left:auto}header form{display:inline}
main{padding:16px;max-width:1200px}
h1{font-size:20px}h2{font-size:17px;margin-top:24px}
table{border-collapse:collapse;background:#fff;width:100%}th,td{border:1px solid #ccd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#e8edf3}
.error{color:#a40000;background:#fde8e8;padding:8px;border:1px solid #e0b4b4}
.notice{background:#fff6d5;padding:8px;border:1px solid #e5d28a}
.ok{background:#e3f4e3;padding:8px;border:1px solid #9fd09f}
form.inline{display:inline}
fieldset{background:#fff;border:1px solid #ccd;margin:8px 0}
label{display:block;margin:6px 0}
.login{max-width:360px;margin:60px auto;background:#fff;padding:24px;border:1px solid #ccd}
.filters label{display:inline-block;margin-right:12px}
.overdue{color:#a40000;font-weight:bold}
.legend .swatch{display:inline-block;width:14px;height:14px;border:1px solid #555;vertical-align:middle;margin-right:4px}
.side{display:flex;gap:16px;align-items:flex-start}.side table{width:auto}
tr.total{font-weight:bold;background:#f0f3f7}
dl.definitions dt{font-weight:bold;margin-top:6px}
progress{width:200px}
.values{display:flex;gap:12px;flex-wrap:wrap}.values label{border:1px solid #ccd;padding:8px;background:#fff;min-width:200px}
";

/// Which part of the console a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    /// The front page.
    Today,
    /// The case list and single cases.
    Cases,
    /// Conflicts.
    Reconcile,
    /// Needs registered at the hub.
    Intake,
    /// Figures, the heat map and trends.
    Figures,
    /// Ledger and job exports.
    Exports,
    /// No navigation (signed out).
    None,
}

const NAV: &[(Nav, &str, &str)] = &[
    (Nav::Today, "/console", "今日"),
    (Nav::Cases, "/console/cases", "办件"),
    (Nav::Reconcile, "/console/reconcile", "对账"),
    (Nav::Intake, "/console/intake", "诉求登记"),
    (Nav::Figures, "/console/figures", "数据统计"),
    (Nav::Exports, "/console/exports", "导出"),
];

/// What the frame of a page needs.
pub struct Page<'a> {
    title: &'a str,
    nav: Nav,
    session: Option<&'a ConsoleSession>,
    refresh_seconds: Option<u32>,
}

impl<'a> Page<'a> {
    /// A page for a signed-in staff member.
    pub fn new(title: &'a str, nav: Nav, session: &'a ConsoleSession) -> Page<'a> {
        Page {
            title,
            nav,
            session: Some(session),
            refresh_seconds: None,
        }
    }

    /// The same page, reloading itself every `seconds` (to show progress without scripts).
    pub fn refreshing(self, seconds: u32) -> Page<'a> {
        Page {
            refresh_seconds: Some(seconds),
            ..self
        }
    }

    /// A page for someone not signed in.
    pub fn signed_out(title: &'a str) -> Page<'a> {
        Page {
            title,
            nav: Nav::None,
            session: None,
            refresh_seconds: None,
        }
    }
}

/// A whole page.
pub fn render(page: &Page<'_>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if let Some(seconds) = page.refresh_seconds {
                    meta http-equiv="refresh" content=(seconds);
                }
                title { (page.title) " - 家门口办 镇便民服务中心工作台" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                @if let Some(session) = page.session {
                    header {
                        strong { "家门口办 · 镇便民服务中心工作台" }
                        nav {
                            @for (nav, href, label) in NAV {
                                a href=(href) class=[(page.nav == *nav).then_some("on")] { (label) }
                            }
                        }
                        span.who {
                            (session.user.name) "（" (session.user.role.label()) "） "
                            form.inline method="post" action="/console/logout" {
                                (csrf_field(session))
                                button type="submit" { "退出" }
                            }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// The hidden CSRF field of a form.
pub fn csrf_field(session: &ConsoleSession) -> Markup {
    html! { input type="hidden" name="csrf" value=(session.csrf); }
}

/// An error page for a request that was refused (bad input, not allowed, not found).
pub fn refusal(status: StatusCode, message: &str) -> Response {
    let body = html! {
        h1 { "无法完成" }
        p.error role="alert" { (message) }
        p { a href="/console" { "回到工作台" } }
    };
    (status, render(&Page::signed_out("无法完成"), body)).into_response()
}

/// The page for a fault of the server: logged with its cause, shown without it.
pub fn fault(err: &str) -> Response {
    tracing::error!(error = %err, "console fault");
    refusal(
        StatusCode::INTERNAL_SERVER_ERROR,
        "服务器内部错误，数据未受影响，请稍后重试。",
    )
}

/// Names of regions by id, for display.
pub struct Names(HashMap<String, String>);

impl Names {
    /// From `(id, name)` pairs.
    pub fn new(pairs: Vec<(String, String)>) -> Names {
        Names(pairs.into_iter().collect())
    }

    /// A region's name, or its id when unknown.
    pub fn region<'a>(&'a self, id: &'a str) -> &'a str {
        self.0.get(id).map_or(id, String::as_str)
    }
}

/// An instant as people in the town read it (Beijing time, to the minute).
pub fn time(at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&doorstep_core::time::shanghai())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// A job state's label, or its code when unknown.
pub fn state_label(code: &str) -> &str {
    doorstep_core::JobState::from_code(code).map_or(code, |s| s.label())
}

/// A service mode's label, or its code when unknown.
pub fn mode_label(code: &str) -> &str {
    doorstep_core::ServiceMode::from_code(code).map_or(code, |m| m.label())
}

/// The special-group tags of a mask, as labels.
pub fn tag_labels(mask: i64) -> String {
    doorstep_core::SpecialTag::ALL
        .iter()
        .filter(|t| mask & t.bit() != 0)
        .map(|t| t.label())
        .collect::<Vec<_>>()
        .join("、")
}
