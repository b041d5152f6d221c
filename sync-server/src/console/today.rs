//! The front page (今日): open jobs by village and state, and the lists that wait for the hub:
//! overdue jobs, hand-ups to accept, jobs to approve, results to send back, conflicts, and the
//! households the server still refuses to a phone.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use doorstep_core::JobState;
use doorstep_core::time::local_date;
use maud::{Markup, html};

use super::cases::case_table;
use super::layout::{self, Names, Nav, Page};
use super::read_page;
use super::session::Staff;
use crate::http::AppState;
use crate::storage::{CaseFilter, CaseLine, CaseOrder, RefusedDevice, TodayCounts};

/// The lists of the front page: title, the filter that gives them, their cases and count.
type Waiting = Vec<(&'static str, CaseFilter, Vec<CaseLine>, i64)>;

/// The front page.
pub async fn page(State(state): State<AppState>, staff: Staff) -> Response {
    let villages = staff.session.scope.villages.clone();
    let scope = staff.session.scope.clone();
    let today = local_date(Utc::now());
    let read = read_page(&state, &staff, "-", "今日", move |storage| {
        let counts = storage.today_counts(&villages, today)?;
        let lists = [
            (
                "逾期办件",
                CaseFilter {
                    overdue: true,
                    ..CaseFilter::default()
                },
            ),
            ("待接收的转办件", by_state(JobState::HandedUp)),
            ("待批准", by_state(JobState::TownAccepted)),
            (
                "已办结待送达（待领取政务包裹）",
                by_state(JobState::Completed),
            ),
        ];
        let mut waiting: Waiting = Vec::new();
        for (title, filter) in lists {
            let (lines, total) = storage.cases(&villages, &filter, CaseOrder::Due, 0, today)?;
            waiting.push((title, filter, lines, total));
        }
        let refused = storage.refused_devices(&scope)?;
        Ok((
            counts,
            waiting,
            refused,
            Names::new(storage.region_names()?),
        ))
    })
    .await;
    let (counts, waiting, refused, names) = match read {
        Ok(read) => read,
        Err(response) => return response,
    };
    let body = html! {
        h1 { "今日 · " (today.format("%Y年%m月%d日")) }
        (summary(&counts, &names))
        @for (title, filter, lines, total) in &waiting {
            h2 { (title) "（" (total) "）" }
            @if lines.is_empty() { p { "暂无。" } } @else {
                (case_table(lines, &names, today))
                @if *total > lines.len() as i64 {
                    p { a href=(super::cases::href(filter, CaseOrder::Due, 0)) { "查看全部 " (total) " 件" } }
                }
            }
        }
        (refusals(&refused))
    };
    layout::render(&Page::new("今日", Nav::Today, &staff.session), body).into_response()
}

fn by_state(state: JobState) -> CaseFilter {
    CaseFilter {
        state: Some(state),
        ..CaseFilter::default()
    }
}

fn summary(counts: &TodayCounts, names: &Names) -> Markup {
    let villages: Vec<&str> = {
        let mut v: Vec<&str> = counts
            .by_village_state
            .iter()
            .map(|(v, _, _)| v.as_str())
            .collect();
        v.dedup();
        v
    };
    let states: Vec<JobState> = JobState::ALL
        .iter()
        .copied()
        .filter(|s| s.is_open())
        .collect();
    let count = |village: &str, state: JobState| {
        counts
            .by_village_state
            .iter()
            .find(|(v, s, _)| v == village && s == state.code())
            .map_or(0, |(_, _, n)| *n)
    };
    html! {
        p {
            a href="/console/cases?overdue=1" class="overdue" { "逾期 " (counts.overdue) " 件" }
            " · "
            a href="/console/reconcile" { "待对账的户 " (counts.conflicted_households) " 户" }
        }
        h2 { "各村在办件" }
        table {
            tr { th { "村" } @for s in &states { th { (s.label()) } } }
            @for village in &villages {
                tr {
                    td { (names.region(village)) }
                    @for s in &states {
                        td {
                            @let n = count(village, *s);
                            @if n > 0 {
                                a href=(format!("/console/cases?village={village}&state={}", s.code())) { (n) }
                            } @else { "0" }
                        }
                    }
                }
            }
        }
    }
}

/// The phones with households the server still refuses, one line each (the most recent
/// refusal first): the phone keeps the changes and pushes them again, but someone may need to
/// call its user or fix an account.
fn refusals(refused: &[RefusedDevice]) -> Markup {
    html! {
        h2 { "同步未收下修改的手机（" (refused.len()) "）" }
        @if refused.is_empty() { p { "暂无。" } } @else {
            p { "手机上的修改仍在，手机会自动重新提交；如原因需要处理（账号、所属村、档案过大等），请联系使用人。" }
            table {
                tr { th { "设备" } th { "使用人" } th { "未收下的户" } th { "最近一户" } th { "原因" } th { "时间" } }
                @for r in refused {
                    tr {
                        td { (r.device_name) }
                        td { (r.user_name) }
                        td { (r.households) }
                        td { (r.latest_household) }
                        td { (r.latest_reason) }
                        td { (layout::time(r.at)) }
                    }
                }
            }
        }
    }
}
