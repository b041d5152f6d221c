//! Exports (导出): a village's, a town's or the whole district's ledger and jobs as CSV or
//! Excel, made in the background with their progress shown, kept for a day, and handed out a
//! chunk at a time. Identity and phone numbers are masked unless the staff member holds the
//! full-export permission and gives a reason; every export and download is audited.

use std::path::Path;

use axum::body::Body;
use axum::extract::{Form, Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use doorstep_core::access::{EXPORT_REASON_MAX_CHARS, check_full_export};
use doorstep_core::ids::new_id;
use maud::{Markup, html};
use serde::Deserialize;

use super::layout::{self, Names, Nav, Page, csrf_field, time};
use super::read_page;
use super::session::Staff;
use crate::export::sheets::{Numbers, Sheet};
use crate::export::{self, ExportRequest, Format};
use crate::http::{AppState, blocking};
use crate::storage::{ConsoleSession, ExportLine, ExportState, NewExport, Storage};

/// The export form.
#[derive(Debug, Deserialize)]
pub struct ExportForm {
    csrf: String,
    /// `all`, a town's id or a village's id.
    scope: String,
    /// `xlsx`, or `csv-` and a table's code.
    format: String,
    /// `full` for identity and phone numbers in full.
    #[serde(default)]
    numbers: String,
    #[serde(default)]
    reason: String,
}

/// The scopes a staff member may export: (value, label, villages).
fn scopes(session: &ConsoleSession, names: &Names) -> Vec<(String, String, Vec<String>)> {
    let scope = &session.scope;
    let mut choices = Vec::new();
    if scope.towns.len() > 1 {
        choices.push((
            "all".to_string(),
            format!("全部（{} 个镇）", scope.towns.len()),
            scope.villages.clone(),
        ));
    }
    for (town, villages) in &scope.towns {
        choices.push((
            town.clone(),
            format!("{}（全镇）", names.region(town)),
            villages.clone(),
        ));
        for village in villages {
            choices.push((
                village.clone(),
                format!("{} · {}", names.region(town), names.region(village)),
                vec![village.clone()],
            ));
        }
    }
    choices
}

/// The exports page: the form and the staff member's exports of the last day.
pub async fn page(State(state): State<AppState>, staff: Staff) -> Response {
    let user_id = staff.session.user.id.clone();
    let read = read_page(&state, &staff, "-", "导出", move |storage| {
        Ok((
            storage.exports_of(&user_id)?,
            storage.full_export_granted(&user_id)?,
            Names::new(storage.region_names()?),
        ))
    })
    .await;
    let (exports, granted, names) = match read {
        Ok(read) => read,
        Err(response) => return response,
    };
    let running = exports
        .iter()
        .any(|e| matches!(e.state, ExportState::Running { .. }));
    let body = html! {
        h1 { "导出台账和办件" }
        (form(&staff.session, &names, granted))
        h2 { "我的导出（保留24小时）" }
        (list(&exports))
    };
    let page = Page::new("导出", Nav::Exports, &staff.session);
    let page = if running { page.refreshing(2) } else { page };
    layout::render(&page, body).into_response()
}

fn form(session: &ConsoleSession, names: &Names, granted: bool) -> Markup {
    html! {
        form.export method="post" action="/console/exports" {
            (csrf_field(session))
            label { "范围 "
                select name="scope" {
                    @for (value, label, _) in scopes(session, names) {
                        option value=(value) { (label) }
                    }
                }
            }
            label { "格式 "
                select name="format" {
                    option value="xlsx" { "Excel（户、成员、台账事项、办件、办理过程 五张表）" }
                    @for sheet in Sheet::ALL {
                        option value=(format!("csv-{}", sheet.code())) { "CSV：" (sheet.name()) }
                    }
                }
            }
            fieldset {
                legend { "身份证号和电话" }
                label { input type="radio" name="numbers" value="masked" checked; " 脱敏（默认，如 610502********1234、138****8000）" }
                @if granted {
                    label { input type="radio" name="numbers" value="full"; " 完整导出（需填写理由，记入审计日志）" }
                    label { "理由 " input type="text" name="reason" maxlength=(EXPORT_REASON_MAX_CHARS) size="40"; }
                } @else {
                    p { "完整导出需另行开通权限（系统管理员：admin grant-export）。" }
                }
            }
            p { "CSV 为 UTF-8 编码（带 BOM），Excel 可直接打开；完整身份证号请导出 Excel 格式，CSV 在 Excel 中会被当作数字。" }
            button type="submit" { "开始导出" }
        }
    }
}

fn size(bytes: i64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MB", bytes as f64 / f64::from(1 << 20))
    } else {
        format!("{:.0} KB", (bytes as f64 / 1024.0).ceil())
    }
}

fn list(exports: &[ExportLine]) -> Markup {
    html! {
        @if exports.is_empty() { p { "暂无。" } } @else {
            table.exports {
                thead { tr { th { "时间" } th { "范围" } th { "文件" } th { "号码" } th { "进度" } } }
                tbody {
                    @for e in exports {
                        tr data-export=(e.id) {
                            td { (time(e.created_at)) }
                            td { (e.scope) }
                            td { (e.file_name) }
                            td {
                                @if e.full_numbers { "完整（理由：" (e.reason.as_deref().unwrap_or("")) "）" } @else { "脱敏" }
                            }
                            td.state {
                                @match &e.state {
                                    ExportState::Running { done, total } => {
                                        progress value=(done) max=((*total).max(1)) {}
                                        " 正在导出：" (done) " / " (total) " 户"
                                    }
                                    ExportState::Stalled => { span.error { "已中断（服务器重启），请重新导出" } }
                                    ExportState::Failed(reason) => { span.error { "导出失败：" (reason) } }
                                    ExportState::Done { bytes } => {
                                        a.download href=(format!("/console/exports/{}/download", e.id)) { "下载" }
                                        " （" (size(*bytes)) "）"
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Starts an export from the form and goes back to the list.
pub async fn start(
    State(state): State<AppState>,
    staff: Staff,
    Form(form): Form<ExportForm>,
) -> Response {
    if let Err(refused) = staff.check_form(&state, &form.csrf).await {
        return refused;
    }
    let Some(format) = Format::from_code(&form.format) else {
        return layout::refusal(StatusCode::BAD_REQUEST, "请选择导出格式。");
    };
    let Ok(permit) = state.exports.clone().try_acquire_owned() else {
        return layout::refusal(
            StatusCode::TOO_MANY_REQUESTS,
            "服务器正在进行其他导出，请稍后再试。",
        );
    };
    let storage = state.storage.clone();
    let session = staff.session.clone();
    let prepared = blocking(move || {
        let names = Names::new(storage.region_names().map_err(|e| e.to_string())?);
        let Some((_, scope_label, villages)) = scopes(&session, &names)
            .into_iter()
            .find(|(value, _, _)| *value == form.scope)
        else {
            return Ok(Err("请选择您负责范围内的村、镇。".to_string()));
        };
        let (numbers, reason) = if form.numbers == "full" {
            let granted = storage
                .full_export_granted(&session.user.id)
                .map_err(|e| e.to_string())?;
            match check_full_export(&session.user, granted, &form.reason) {
                Ok(reason) => (Numbers::Full, Some(reason)),
                Err(refusal) => {
                    storage
                        .audit_console(
                            &session,
                            "refused",
                            "-",
                            &format!("完整导出被拒绝：{refusal}"),
                        )
                        .map_err(|e| e.to_string())?;
                    return Ok(Err(refusal.to_string()));
                }
            }
        } else {
            (Numbers::Masked, None)
        };
        let id = new_id(&mut rand::rng());
        let file_name = format!(
            "家门口办-{}-{}.{}",
            scope_label.replace([' ', '·', '（', '）'], ""),
            chrono::Utc::now()
                .with_timezone(&doorstep_core::time::shanghai())
                .format("%Y%m%d-%H%M"),
            format.extension()
        );
        let total = storage
            .household_count(&villages)
            .map_err(|e| e.to_string())?;
        let audit_detail = match &reason {
            Some(reason) => format!(
                "完整导出（身份证号、电话不脱敏）{scope_label} {}，理由：{reason}",
                format.label()
            ),
            None => format!("脱敏导出 {scope_label} {}", format.label()),
        };
        storage
            .start_export(
                &session,
                &NewExport {
                    id: &id,
                    scope: &scope_label,
                    file_name: &file_name,
                    full_numbers: numbers == Numbers::Full,
                    reason: reason.as_deref(),
                    total,
                    audit_detail: &audit_detail,
                },
            )
            .map_err(|e| e.to_string())?;
        Ok(Ok((
            id,
            ExportRequest {
                villages,
                format,
                numbers,
            },
        )))
    })
    .await;
    match prepared {
        Ok(Ok((id, request))) => {
            let storage = state.storage.clone();
            tokio::task::spawn_blocking(move || {
                run(&storage, &id, &request);
                drop(permit);
            });
            Redirect::to("/console/exports").into_response()
        }
        Ok(Err(refusal)) => layout::refusal(StatusCode::FORBIDDEN, &refusal),
        Err(err) => layout::fault(&err),
    }
}

/// Makes an export in a temporary folder, storing its progress and then its file; a failure
/// (a fault of the server included) is recorded on the export.
fn run(storage: &Storage, id: &str, request: &ExportRequest) {
    let outcome =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| make(storage, id, request)))
            .unwrap_or_else(|_| Err("服务器内部错误".to_string()));
    if let Err(reason) = outcome {
        tracing::error!(export = id, %reason, "export failed");
        if let Err(err) = storage.fail_export(id, &reason) {
            tracing::error!(export = id, error = %err, "could not record a failed export");
        }
    }
}

fn make(storage: &Storage, id: &str, request: &ExportRequest) -> Result<(), String> {
    tempfile::tempdir()
        .map_err(|e| format!("无法创建临时目录：{e}"))
        .and_then(|dir| {
            let path = dir
                .path()
                .join(format!("export.{}", request.format.extension()));
            let mut last = std::time::Instant::now();
            export::write(storage, request, &path, dir.path(), |done| {
                if last.elapsed().as_millis() >= 500 {
                    last = std::time::Instant::now();
                    storage.export_progress(id, done)?;
                }
                Ok(())
            })
            .map_err(|e| e.to_string())?;
            storage
                .finish_export(id, Path::new(&path))
                .map_err(|e| e.to_string())
        })
}

/// Hands out a finished export of the staff member's, a chunk at a time; audited.
pub async fn download(
    State(state): State<AppState>,
    staff: Staff,
    UrlPath(id): UrlPath<String>,
) -> Response {
    let user_id = staff.session.user.id.clone();
    let export_id = id.clone();
    let read = read_page(&state, &staff, "-", "下载导出文件", move |storage| {
        storage.export_of(&user_id, &export_id)
    })
    .await;
    let export = match read {
        Ok(Some(export)) if matches!(export.state, ExportState::Done { .. }) => export,
        Ok(_) => {
            return layout::refusal(
                StatusCode::NOT_FOUND,
                "没有这个导出文件，或它还没有完成、已过期。",
            );
        }
        Err(response) => return response,
    };
    let extension = if export.file_name.ends_with(".csv") {
        "csv"
    } else {
        "xlsx"
    };
    let content_type = export::content_type(extension);
    let storage = state.storage.clone();
    let chunks = futures_util::stream::unfold(0i64, move |seq| {
        let (storage, id) = (storage.clone(), id.clone());
        async move {
            let chunk =
                blocking(move || storage.export_chunk(&id, seq).map_err(|e| e.to_string())).await;
            match chunk {
                Ok(Some(bytes)) => Some((Ok::<_, std::io::Error>(bytes), seq + 1)),
                Ok(None) => None,
                Err(err) => Some((Err(std::io::Error::other(err)), i64::MAX)),
            }
        }
    });
    let disposition = format!(
        "attachment; filename=\"export.{extension}\"; filename*=UTF-8''{}",
        form_urlencoded::byte_serialize(export.file_name.as_bytes()).collect::<String>()
    );
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        Body::from_stream(chunks),
    )
        .into_response()
}
