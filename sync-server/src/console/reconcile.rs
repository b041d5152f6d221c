//! Reconciling (对账): every conflict in the staff member's villages, the values side by side
//! with who wrote each; choosing one writes it as the staff member's edit, which the phones
//! receive on their next sync. Contradicting job steps are settled on the case's page with the
//! reconcile step. A household that changed after the page was shown is shown again instead
//! of being overwritten.

use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use doorstep_core::document::{EntityKind, FieldConflict};
use doorstep_core::{CoreError, HouseholdData, HouseholdDoc};
use maud::{Markup, html};
use serde::Deserialize;

use super::layout::{self, Names, Nav, Page, csrf_field};
use super::read_page;
use super::session::Staff;
use crate::households;
use crate::http::{AppState, blocking};
use crate::storage::{ConsoleSession, StorageError};
use doorstep_core::domain::catalogue::item_name;

/// Households shown on one page at most.
const MAX_HOUSEHOLDS: usize = 50;

/// One household with its conflicts.
struct Conflicted {
    data: HouseholdData,
    fields: Vec<FieldConflict>,
    heads: String,
    /// When each value was written (by its device's clock), by value id.
    written: HashMap<String, DateTime<Utc>>,
}

/// The page's query string: what was just done.
#[derive(Deserialize)]
pub struct Outcome {
    done: Option<String>,
}

/// Every conflict waiting in the staff member's villages.
pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Query(outcome): Query<Outcome>,
) -> Response {
    let message = outcome
        .done
        .is_some()
        .then(|| ("ok", "已选定，代办员的手机下次同步时收到。".to_string()));
    show(&state, &staff, message, StatusCode::OK).await
}

async fn show(
    state: &AppState,
    staff: &Staff,
    message: Option<(&'static str, String)>,
    status: StatusCode,
) -> Response {
    let session = staff.session.clone();
    let read = read_page(state, staff, "-", "对账", move |storage| {
        let ids = storage.conflicted_households(&session.scope.villages)?;
        let total = ids.len();
        let mut households = Vec::new();
        for id in ids.into_iter().take(MAX_HOUSEHOLDS) {
            let Some(bytes) = storage.household_document(&id)? else {
                continue;
            };
            let mut doc = HouseholdDoc::load_trusted(&bytes, automerge::ActorId::random())?;
            let (data, fields) = doc.read_with_conflicts()?;
            if session.scope.contains(&data.household.village_id) {
                let written = fields
                    .iter()
                    .flat_map(|f| &f.values)
                    .filter_map(|v| Some((v.value_id.clone(), doc.value_origin(&v.value_id)?.at)))
                    .collect();
                households.push(Conflicted {
                    heads: doc.heads_text(),
                    data,
                    fields,
                    written,
                });
            }
        }
        Ok((households, total, Names::new(storage.region_names()?)))
    })
    .await;
    let (households, total, names) = match read {
        Ok(read) => read,
        Err(response) => return response,
    };
    let body = html! {
        h1 { "对账：待处理的冲突" }
        @if let Some((class, text)) = &message { p class=(class) role="alert" { (text) } }
        p { "同一项信息在两部手机上被同时改成不同的值时，在这里选定正确的值。共 " (total) " 户。" }
        @if households.is_empty() { p { "没有待处理的冲突。" } }
        @for h in &households { (household(&staff.session, h, &names)) }
    };
    (
        status,
        layout::render(&Page::new("对账", Nav::Reconcile, &staff.session), body),
    )
        .into_response()
}

fn entity_name(data: &HouseholdData, kind: EntityKind, id: &str) -> String {
    let found = match kind {
        EntityKind::Household => Some(data.household.address.clone()),
        EntityKind::Member => data
            .members
            .iter()
            .find(|m| m.id == id)
            .map(|m| m.name.clone()),
        EntityKind::LedgerLine => data
            .ledger
            .iter()
            .find(|l| l.id == id)
            .map(|l| l.title.clone()),
        EntityKind::Job => data
            .jobs
            .iter()
            .find(|j| j.job.id == id)
            .map(|j| item_name(&j.job.item_code)),
        EntityKind::Visit => data
            .visits
            .iter()
            .find(|v| v.id == id)
            .map(|v| v.purpose.clone()),
    };
    format!(
        "{}“{}”",
        kind.label(),
        found.unwrap_or_else(|| id.to_string())
    )
}

fn household(session: &ConsoleSession, h: &Conflicted, names: &Names) -> Markup {
    let d = &h.data;
    html! {
        section.household {
            h2 { (names.region(&d.household.village_id)) " · " (d.household.address) }
            @for c in &h.fields {
                form method="post" action="/console/reconcile" {
                    (csrf_field(session))
                    input type="hidden" name="heads" value=(h.heads);
                    input type="hidden" name="household" value=(d.household.id);
                    input type="hidden" name="entity" value=(c.entity.code());
                    input type="hidden" name="entity_id" value=(c.entity_id);
                    input type="hidden" name="field" value=(c.field);
                    fieldset {
                        legend { (entity_name(d, c.entity, &c.entity_id)) "的" (c.field_label) }
                        div.values {
                            @for v in &c.values {
                                label {
                                    input type="radio" name="value" value=(v.value_id) required;
                                    " " strong { @if v.value.is_empty() { "（空）" } @else { (v.value) } }
                                    br;
                                    "填写人：" (v.author_name.as_deref().unwrap_or("未知"))
                                    @if let Some(role) = v.author_role { "（" (role.label()) "）" }
                                    @if let Some(at) = h.written.get(&v.value_id) { br; "填写时间（手机上）：" (super::layout::time(*at)) }
                                    @if v.current { br; small { "目前显示的值" } }
                                }
                            }
                        }
                        button type="submit" { "选定" }
                    }
                }
            }
            @for j in d.jobs.iter().filter(|j| !j.progress.conflicts.is_empty()) {
                p.notice {
                    (item_name(&j.job.item_code)) "：有相互矛盾的办理步骤。 "
                    a href=(format!("/console/cases/{}/{}", d.household.id, j.job.id)) { "到办件页协调处理" }
                }
            }
        }
    }
}

/// A chosen value.
#[derive(Deserialize)]
pub struct ChoiceForm {
    /// The form's CSRF token (missing in a forged form: refused and audited).
    #[serde(default)]
    csrf: String,
    heads: String,
    household: String,
    entity: String,
    entity_id: String,
    field: String,
    value: String,
}

/// Writes the chosen value as the staff member's edit, unless the household changed since
/// the page was shown.
pub async fn choose(
    State(state): State<AppState>,
    staff: Staff,
    Form(form): Form<ChoiceForm>,
) -> Response {
    if let Err(refused) = staff.check_form(&state, &form.csrf).await {
        return refused;
    }
    let Some(entity) = EntityKind::from_code(&form.entity) else {
        return layout::refusal(StatusCode::BAD_REQUEST, "未知的信息类型。");
    };
    let storage = state.storage.clone();
    let user = staff.session.user.clone();
    let outcome = blocking(move || {
        Ok(households::edit(
            &storage,
            &user,
            &form.household,
            Utc::now(),
            |doc, ctx| {
                doc.check_unchanged(&form.heads)?;
                doc.resolve_conflict(entity, &form.entity_id, &form.field, &form.value, ctx)
            },
        ))
    })
    .await;
    match outcome {
        Ok(Ok(())) => Redirect::to("/console/reconcile?done=1").into_response(),
        Ok(Err(StorageError::Core(
            err @ (CoreError::ChangedMeanwhile | CoreError::ConflictGone),
        ))) => {
            show(
                &state,
                &staff,
                Some(("notice", err.to_string())),
                StatusCode::CONFLICT,
            )
            .await
        }
        Ok(Err(StorageError::Core(err))) => {
            show(
                &state,
                &staff,
                Some(("error", format!("未能选定：{err}"))),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Ok(Err(err)) => layout::fault(&err.to_string()),
        Err(err) => layout::fault(&err),
    }
}
