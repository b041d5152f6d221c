//! One case (一件办件): the household and member, the job's whole history, its materials (with
//! the missing ones and their deadline), the household's ledger lines and visits; and the
//! actions the core's rules allow this staff member on this job now, each an edit of the
//! household that fails, and shows the household again, if it changed since the page was shown.

use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use doorstep_core::domain::catalogue::item;
use doorstep_core::domain::rules::authorize;
use doorstep_core::ids::new_id;
use doorstep_core::time::local_date;
use doorstep_core::{
    CoreError, HouseholdData, HouseholdDoc, JobDetails, JobStep, JobStepKind, Role, ServiceItem,
};
use maud::{Markup, html};
use serde::Deserialize;

use super::layout::{self, Nav, Page, csrf_field, tag_labels, time};
use super::read_page;
use super::session::Staff;
use crate::households;
use crate::http::{AppState, blocking};
use crate::storage::{ConsoleSession, StorageError};
use doorstep_core::domain::catalogue::item_name;
use doorstep_core::validate::mask_id_number;

/// The steps hub staff take in the console, each with the field it asks for.
const HUB_STEPS: &[(JobStepKind, Option<&str>)] = &[
    (JobStepKind::TownAccept, None),
    (JobStepKind::Approve, None),
    (JobStepKind::Complete, Some("办理结果")),
    (
        JobStepKind::Return,
        Some("退回原因（代办员会在手机上看到）"),
    ),
    (JobStepKind::Reject, Some("不予办理的原因")),
    (JobStepKind::Cancel, Some("撤销原因")),
];

/// What a case page shows.
struct Case {
    data: HouseholdData,
    job: JobDetails,
    heads: String,
    /// When the server received each event, in list order.
    received: Vec<Option<DateTime<Utc>>>,
}

/// Loads a household the staff member may see, or says it is not found (the same for one
/// outside their villages, so that nothing about other villages leaks).
fn load_case(
    storage: &crate::storage::Storage,
    session: &ConsoleSession,
    household_id: &str,
    job_id: &str,
) -> Result<Option<Case>, StorageError> {
    let Some(bytes) = storage.household_document(household_id)? else {
        return Ok(None);
    };
    let mut doc = HouseholdDoc::load_trusted(&bytes, automerge::ActorId::random())?;
    let data = doc.read()?;
    if !session.scope.contains(&data.household.village_id) {
        return Ok(None);
    }
    let Some(job) = data.jobs.iter().find(|j| j.job.id == job_id).cloned() else {
        return Ok(None);
    };
    let origins: Vec<(String, u64)> = doc
        .event_origins(job_id)?
        .into_iter()
        .map(|o| o.map_or((String::new(), 0), |o| (o.actor, o.seq)))
        .collect();
    let received = storage.received_times(household_id, &origins)?;
    Ok(Some(Case {
        heads: doc.heads_text(),
        data,
        job,
        received,
    }))
}

fn not_found() -> Response {
    layout::refusal(
        StatusCode::NOT_FOUND,
        "找不到该办件，或该户不在您负责的范围内。",
    )
}

/// The page's query string: the step just taken, if any.
#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

/// A case's page.
pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Path((household_id, job_id)): Path<(String, String)>,
    Query(done): Query<Done>,
) -> Response {
    let message = done
        .done
        .as_deref()
        .and_then(JobStepKind::from_code)
        .map(|kind| {
            (
                "ok",
                format!("已{}，代办员的手机下次同步时收到。", kind.label()),
            )
        });
    show(
        &state,
        &staff,
        household_id,
        job_id,
        message,
        StatusCode::OK,
    )
    .await
}

async fn show(
    state: &AppState,
    staff: &Staff,
    household_id: String,
    job_id: String,
    message: Option<(&'static str, String)>,
    status: StatusCode,
) -> Response {
    let session = staff.session.clone();
    let hh = household_id.clone();
    let read = read_page(state, staff, &household_id, "办件详情", move |storage| {
        load_case(storage, &session, &hh, &job_id)
    })
    .await;
    let case = match read {
        Ok(Some(case)) => case,
        Ok(None) => return not_found(),
        Err(response) => return response,
    };
    let Ok(item) = item(&case.job.job.item_code) else {
        return not_found();
    };
    let body = html! {
        @if let Some((class, text)) = &message { p class=(class) role="alert" { (text) } }
        h1 { (item.name) " · " (member_name(&case.data, &case.job.job.member_id)) }
        (job_summary(&case.job, item))
        (actions(&staff.session, &case, item))
        h2 { "办理经过" }
        (history(&case.job, &case.received))
        h2 { "材料" }
        (materials(&case.job, item))
        (household(&case.data))
    };
    let page = Page::new("办件详情", Nav::Cases, &staff.session);
    (status, layout::render(&page, body)).into_response()
}

fn member_name<'a>(data: &'a HouseholdData, member_id: &str) -> &'a str {
    data.members
        .iter()
        .find(|m| m.id == member_id)
        .map_or("（成员已不存在）", |m| m.name.as_str())
}

fn job_summary(job: &JobDetails, item: &ServiceItem) -> Markup {
    let p = &job.progress;
    html! {
        table {
            tr { th { "状态" } td { (p.state.label()) } th { "方式" } td { (job.job.mode.label()) } }
            tr { th { "紧急程度" } td { (job.job.urgency.label()) } th { "承诺时限" } td { (item.time_limit_days) " 个工作日" } }
            tr { th { "承诺办结日期" } td { (p.promised_due.map(|d| d.to_string()).unwrap_or_default()) }
                 th { "带件村长" } td { (p.carrier.as_deref().unwrap_or("")) } }
            @if let Some(reason) = &p.reason { tr { th { "原因" } td colspan="3" { (reason) } } }
            @if !job.job.note.is_empty() { tr { th { "备注" } td colspan="3" { (job.job.note) } } }
        }
        @if !p.conflicts.is_empty() {
            div.notice {
                strong { "该办件有相互矛盾的步骤，需要协调处理：" }
                ul { @for c in &p.conflicts { li { (c.step.label()) "（" (c.actor.user_name) "，" (c.actor.role.label()) "）：" (c.message) } } }
            }
        }
    }
}

fn history(job: &JobDetails, received: &[Option<DateTime<Utc>>]) -> Markup {
    let voided: Vec<&String> = job
        .job
        .events
        .iter()
        .filter_map(|e| match &e.step {
            JobStep::Reconcile { void_event_ids, .. } => Some(void_event_ids),
            _ => None,
        })
        .flatten()
        .collect();
    html! {
        table {
            tr { th { "步骤" } th { "内容" } th { "办理人" } th { "角色" } th { "手机上的时间" } th { "服务器收到" } }
            @for (n, e) in job.job.events.iter().enumerate() {
                tr class=[job.progress.conflicts.iter().any(|c| c.event_id == e.id).then_some("overdue")] {
                    td { (e.step.kind().label()) @if voided.contains(&&e.id) { "（已作废）" } }
                    td { (e.step.detail()) }
                    td { (e.actor.user_name) }
                    td { (e.actor.role.label()) }
                    td { (time(e.at)) }
                    td { (received.get(n).copied().flatten().map(time).unwrap_or_default()) }
                }
            }
        }
    }
}

fn materials(job: &JobDetails, item: &ServiceItem) -> Markup {
    let missing = &job.progress.missing_materials;
    html! {
        ul {
            @for m in &item.materials {
                li {
                    (m.name) @if m.key { "（必需）" }
                    @if missing.contains(&m.name) { strong.overdue { " 尚缺" } }
                }
            }
        }
        @if let Some(deadline) = job.progress.supplement_deadline {
            @if !missing.is_empty() { p { "容缺材料补齐期限：" (deadline) } }
        }
    }
}

fn household(data: &HouseholdData) -> Markup {
    let h = &data.household;
    html! {
        h2 { "户：" (h.address) }
        p { "所在组：" (h.group_name) " · 电话：" (h.phone.as_deref().unwrap_or("无")) }
        table {
            tr { th { "成员" } th { "关系" } th { "身份证号" } th { "特殊群体" } }
            @for m in &data.members {
                tr { td { (m.name) } td { (m.relation) }
                     td { (m.id_number.as_deref().map(mask_id_number).unwrap_or_default()) }
                     td { (tag_labels(doorstep_core::SpecialTag::mask(&m.tags))) } }
            }
        }
        h2 { "台账" }
        @if data.ledger.is_empty() { p { "无" } } @else {
            table {
                tr { th { "事项" } th { "成员" } th { "下次到期" } th { "备注" } }
                @for l in &data.ledger {
                    tr { td { (l.title) } td { (member_name(data, &l.member_id)) }
                         td { (l.next_due().map(|d| d.to_string()).unwrap_or_default()) } td { (l.note) } }
                }
            }
        }
        h2 { "走访记录" }
        @if data.visits.is_empty() { p { "无" } } @else {
            table {
                tr { th { "事由" } th { "走访时间" } th { "结果" } th { "情况" } }
                @for v in &data.visits {
                    tr { td { (v.purpose) } td { (v.done_at.map(time).unwrap_or_else(|| "计划中".into())) }
                         td { (v.outcome.map(|o| o.label()).unwrap_or("")) } td { (v.notes) } }
                }
            }
        }
        h2 { "其他办件" }
        ul { @for j in &data.jobs { li { a href=(format!("/console/cases/{}/{}", h.id, j.job.id)) { (item_name(&j.job.item_code)) } " · " (j.progress.state.label()) } } }
    }
}

/// The forms for the steps the rules allow this user now.
fn actions(session: &ConsoleSession, case: &Case, item: &ServiceItem) -> Markup {
    let role: Role = session.user.role;
    let possible = case.job.progress.possible_steps(item, role);
    let offered: Vec<&(JobStepKind, Option<&str>)> = HUB_STEPS
        .iter()
        .filter(|(kind, _)| possible.contains(kind))
        .collect();
    let reconcile = !case.job.progress.conflicts.is_empty()
        && authorize(role, JobStepKind::Reconcile, item.tier).is_ok();
    let action = format!(
        "/console/cases/{}/{}/steps",
        case.data.household.id, case.job.job.id
    );
    html! {
        h2 { "办理" }
        @if offered.is_empty() && !reconcile { p { "当前状态下您没有可办理的步骤。" } }
        @for (kind, field) in offered {
            form.step method="post" action=(action) {
                (csrf_field(session))
                input type="hidden" name="heads" value=(case.heads);
                input type="hidden" name="step" value=(kind.code());
                fieldset {
                    legend { (kind.label()) }
                    @if let Some(label) = field { label { (label) " " input name="text" required maxlength="200"; } }
                    button type="submit" name="submit" value=(kind.code()) { (kind.label()) }
                }
            }
        }
        @if reconcile {
            form.step method="post" action=(action) {
                (csrf_field(session))
                input type="hidden" name="heads" value=(case.heads);
                input type="hidden" name="step" value=(JobStepKind::Reconcile.code());
                fieldset {
                    legend { "协调处理冲突：选择要作废的步骤（历史保留）" }
                    @for e in case.job.job.events.iter().filter(|e| e.step.kind() != JobStepKind::Inform) {
                        label { input type="radio" name="void" value=(e.id) required;
                                " " (e.step.kind().label()) "（" (e.actor.user_name) "，" (time(e.at)) "）" }
                    }
                    label { "说明 " input name="text" required maxlength="200"; }
                    button type="submit" { "作废所选步骤" }
                }
            }
        }
    }
}

/// A step taken in the console.
#[derive(Deserialize)]
pub struct StepForm {
    /// The form's CSRF token (missing in a forged form: refused and audited).
    #[serde(default)]
    csrf: String,
    heads: String,
    step: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    void: String,
}

impl StepForm {
    fn step(&self) -> Option<JobStep> {
        let text = self.text.trim().to_string();
        Some(match JobStepKind::from_code(&self.step)? {
            JobStepKind::TownAccept => JobStep::TownAccept,
            JobStepKind::Approve => JobStep::Approve,
            JobStepKind::Complete => JobStep::Complete { result: text },
            JobStepKind::Return => JobStep::Return { reason: text },
            JobStepKind::Reject => JobStep::Reject { reason: text },
            JobStepKind::Cancel => JobStep::Cancel { reason: text },
            JobStepKind::Reconcile => JobStep::Reconcile {
                void_event_ids: vec![self.void.clone()],
                note: text,
            },
            _ => return None,
        })
    }
}

/// Takes a step on a job as the signed-in staff member.
pub async fn take_step(
    State(state): State<AppState>,
    staff: Staff,
    Path((household_id, job_id)): Path<(String, String)>,
    Form(form): Form<StepForm>,
) -> Response {
    if let Err(refused) = staff.check_form(&state, &form.csrf).await {
        return refused;
    }
    let Some(step) = form.step() else {
        return layout::refusal(StatusCode::BAD_REQUEST, "未知的办理步骤。");
    };
    let storage = state.storage.clone();
    let user = staff.session.user.clone();
    let (hh, job) = (household_id.clone(), job_id.clone());
    let heads = form.heads.clone();
    let outcome = blocking(move || {
        let now = Utc::now();
        let result = households::edit(&storage, &user, &hh, now, |doc, ctx| {
            doc.check_unchanged(&heads)?;
            let event_id = new_id(&mut rand::rng());
            doc.take_step(&job, &event_id, &step, None, ctx)
        });
        Ok(result.map(|_| local_date(now)))
    })
    .await;
    let label = JobStepKind::from_code(&form.step).map_or("", |k| k.label());
    match outcome {
        Ok(Ok(_)) => Redirect::to(&format!(
            "/console/cases/{household_id}/{job_id}?done={}",
            form.step
        ))
        .into_response(),
        Ok(Err(StorageError::Core(err @ CoreError::ChangedMeanwhile))) => {
            show(
                &state,
                &staff,
                household_id,
                job_id,
                Some(("notice", err.to_string())),
                StatusCode::CONFLICT,
            )
            .await
        }
        Ok(Err(StorageError::Core(err))) => {
            let text = format!("未能{label}：{err}");
            show(
                &state,
                &staff,
                household_id,
                job_id,
                Some(("error", text)),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Ok(Err(err)) => layout::fault(&err.to_string()),
        Err(err) => layout::fault(&err),
    }
}
