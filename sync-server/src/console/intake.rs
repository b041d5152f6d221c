//! Intake (发现-上报-处置-反馈): a need that reached the hub by the 12345 hotline, the
//! secretary's mailbox or a resident's call is registered on a household's ledger or as an
//! informed job for its village; the village agent's phone shows it as today's work, and this
//! page follows each one to its end (销号 and the resident's rating).

use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, Utc};
use doorstep_core::ids::new_id;
use doorstep_core::{
    IntakeSource, JobState, NeedStatus, NewJob, NewLedgerLine, Schedule, ServiceMode, Urgency,
    catalogue,
};
use maud::{Markup, html};
use serde::Deserialize;

use super::layout::{self, Names, Nav, Page, csrf_field, time};
use super::read_page;
use super::session::Staff;
use crate::households;
use crate::http::{AppState, blocking};
use crate::storage::{
    ConsoleSession, IntakeKind, IntakeLine, MemberHit, NewIntake, StorageError, intakes,
};

/// Members listed for a search at most.
const MAX_HITS: usize = 20;
/// Intakes listed at most.
const MAX_INTAKES: usize = 100;

/// The page's query string.
#[derive(Debug, Default, Deserialize)]
pub struct IntakeQuery {
    q: Option<String>,
    member: Option<String>,
    done: Option<String>,
}

/// The intake page: find the member, register the need, follow the needs registered.
pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Query(query): Query<IntakeQuery>,
) -> Response {
    let villages = staff.session.scope.villages.clone();
    let search = query.q.clone().unwrap_or_default();
    let chosen = query.member.clone();
    let read = read_page(&state, &staff, "-", "诉求登记", move |storage| {
        let hits = storage.find_members(&villages, &search, MAX_HITS)?;
        // The member being registered for is looked up again within the user's villages.
        let member = match chosen {
            Some(id) => storage.member_in(&villages, &id)?,
            None => None,
        };
        let intakes = storage.intakes(&villages, MAX_INTAKES)?;
        Ok((hits, member, intakes, Names::new(storage.region_names()?)))
    })
    .await;
    let (hits, member, intakes, names) = match read {
        Ok(read) => read,
        Err(response) => return response,
    };
    let body = html! {
        h1 { "诉求登记（12345热线、书记信箱、群众来电）" }
        @if query.done.is_some() { p.ok role="alert" { "已登记，村代办员的手机下次同步时会在今日待办中看到。" } }
        form.filters method="get" action="/console/intake" {
            label { "找到诉求涉及的群众 " input name="q" value=[query.q.as_deref()] placeholder="姓名、身份证或电话尾号" maxlength="40" required; }
            button type="submit" { "查找" }
        }
        @if query.q.is_some() { (hit_list(&hits, &names)) }
        @if let Some(member) = &member { (register_form(&staff.session, member, &names)) }
        h2 { "已登记的诉求" }
        (intake_list(&intakes, &names))
    };
    layout::render(&Page::new("诉求登记", Nav::Intake, &staff.session), body).into_response()
}

fn hit_list(hits: &[MemberHit], names: &Names) -> Markup {
    html! {
        @if hits.is_empty() { p { "没有找到。" } } @else {
            table {
                tr { th { "村" } th { "姓名" } th { "身份证号" } th {} }
                @for hit in hits {
                    tr { td { (names.region(&hit.village_id)) } td { (hit.name) } td { (hit.masked_id) }
                         td { a href=(format!("/console/intake?member={}", hit.member_id)) { "为此人登记" } } }
                }
            }
        }
    }
}

fn register_form(session: &ConsoleSession, member: &MemberHit, names: &Names) -> Markup {
    html! {
        form.intake method="post" action="/console/intake" {
            (csrf_field(session))
            input type="hidden" name="member" value=(member.member_id);
            fieldset {
                legend { "为 " (names.region(&member.village_id)) " " (member.name) " 登记诉求" }
                label { "来源 " select name="source" {
                    @for s in IntakeSource::ALL { option value=(s.code()) { (s.label()) } }
                } }
                label { "诉求内容 " input name="summary" required maxlength="100"; }
                label { "紧急程度 " select name="urgency" {
                    @for u in Urgency::ALL { option value=(u.code()) selected[*u == Urgency::Amber] { (u.label()) } }
                } }
                label { input type="radio" name="kind" value="ledger" checked; " 记入台账（待办需求），期限 " input type="date" name="due"; }
                label { input type="radio" name="kind" value="job"; " 登记为办件：事项 "
                    select name="item" { @for i in catalogue() { option value=(i.code) { (i.name) } } }
                    " 方式 "
                    select name="mode" { @for m in ServiceMode::ALL { option value=(m.code()) { (m.label()) } } }
                }
                button type="submit" { "登记并派给村代办员" }
            }
        }
    }
}

fn intake_list(intakes: &[IntakeLine], names: &Names) -> Markup {
    let state = |line: &IntakeLine| -> String {
        let code = line.state.as_deref().unwrap_or("");
        match line.kind.as_str() {
            "job" => JobState::from_code(code).map_or(code.to_string(), |s| s.label().to_string()),
            _ => NeedStatus::from_code(code).map_or(code.to_string(), |s| s.label().to_string()),
        }
    };
    html! {
        @if intakes.is_empty() { p { "暂无。" } } @else {
            table {
                tr { th { "登记时间" } th { "来源" } th { "村" } th { "群众" } th { "诉求" } th { "去向" } th { "进展" } th { "评价" } }
                @for line in intakes {
                    tr {
                        td { (time(line.registered_at)) }
                        td { (IntakeSource::from_code(&line.source).map_or("", |s| s.label())) }
                        td { (names.region(&line.village_id)) }
                        td { (line.member_name) }
                        td { (line.summary) }
                        td { @if line.kind == "job" {
                            a href=(format!("/console/cases/{}/{}", line.household_id, line.entity_id)) { "办件" }
                        } @else { "台账" } }
                        td { (state(line)) }
                        td { (line.rating.as_deref().and_then(doorstep_core::Rating::from_code).map_or("", |r| r.label())) }
                    }
                }
            }
        }
    }
}

/// A need registered at the hub.
#[derive(Deserialize)]
pub struct IntakeForm {
    /// The form's CSRF token (missing in a forged form: refused and audited).
    #[serde(default)]
    csrf: String,
    member: String,
    source: String,
    summary: String,
    urgency: String,
    kind: String,
    #[serde(default)]
    due: String,
    #[serde(default)]
    item: String,
    #[serde(default)]
    mode: String,
}

/// Registers a need: the ledger line or job is the staff member's edit of the household, and
/// the intake is recorded in the same transaction.
pub async fn register(
    State(state): State<AppState>,
    staff: Staff,
    Form(form): Form<IntakeForm>,
) -> Response {
    if let Err(refused) = staff.check_form(&state, &form.csrf).await {
        return refused;
    }
    let (Some(source), Some(urgency)) = (
        IntakeSource::from_code(&form.source),
        Urgency::from_code(&form.urgency),
    ) else {
        return layout::refusal(StatusCode::BAD_REQUEST, "请选择诉求来源和紧急程度。");
    };
    let kind = match form.kind.as_str() {
        "job" => IntakeKind::Job,
        _ => IntakeKind::Ledger,
    };
    let due: Option<NaiveDate> = form.due.trim().parse().ok();
    let mode = ServiceMode::from_code(&form.mode);
    let storage = state.storage.clone();
    let session = staff.session.clone();
    let outcome = blocking(move || {
        let hit = storage
            .member_in(&session.scope.villages, &form.member)
            .map_err(|e| e.to_string())?;
        let Some(member) = hit else {
            return Ok(Err("找不到该群众，或其不在您负责的范围内。".to_string()));
        };
        let summary = form.summary.trim().to_string();
        let entity_id = new_id(&mut rand::rng());
        let note = source.note(&summary);
        let result = households::edit_recorded(
            &storage,
            &session.user,
            &member.household_id,
            Utc::now(),
            |doc, ctx| match kind {
                IntakeKind::Job => {
                    let job = NewJob {
                        member_id: member.member_id.clone(),
                        item_code: form.item.clone(),
                        mode: mode.unwrap_or(ServiceMode::Proxy),
                        urgency,
                        note: note.clone(),
                        visit_id: None,
                    };
                    doc.add_job(&entity_id, &new_id(&mut rand::rng()), &job, ctx)
                }
                IntakeKind::Ledger => {
                    let line = NewLedgerLine {
                        member_id: member.member_id.clone(),
                        title: summary.clone(),
                        schedule: Schedule::OneOff {
                            status: NeedStatus::Open,
                            due,
                        },
                        urgency,
                        note: note.clone(),
                        visit_id: None,
                    };
                    doc.add_ledger_line(&entity_id, &line, ctx)
                }
            },
            |conn, village, _| {
                let intake = NewIntake {
                    id: &entity_id,
                    household_id: &member.household_id,
                    village_id: village,
                    member_id: &member.member_id,
                    kind,
                    entity_id: &entity_id,
                    source,
                    summary: &summary,
                    registered_by: &session.user.id,
                };
                intakes::record(conn, &intake, Utc::now())
            },
        );
        Ok(match result {
            Ok(()) => Ok(()),
            Err(StorageError::Core(err)) => Err(format!("未能登记：{err}")),
            Err(err) => return Err(err.to_string()),
        })
    })
    .await;
    match outcome {
        Ok(Ok(())) => Redirect::to("/console/intake?done=1").into_response(),
        Ok(Err(message)) => layout::refusal(StatusCode::UNPROCESSABLE_ENTITY, &message),
        Err(err) => layout::fault(&err),
    }
}
