//! The case list (办件): filters by village, item, state, mode, overdue and special-group tag;
//! search by Chinese name or the tail of an identity or phone number; sorting and paging.
//! Identity numbers are shown masked.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, Utc};
use doorstep_core::time::local_date;
use doorstep_core::{JobState, ServiceMode, SpecialTag, catalogue};
use maud::{Markup, html};
use serde::Deserialize;

use super::layout::{self, Names, Nav, Page, mode_label, state_label, tag_labels};
use super::read_page;
use super::session::Staff;
use crate::http::AppState;
use crate::storage::{CASES_PER_PAGE, CaseFilter, CaseLine, CaseOrder};
use doorstep_core::domain::catalogue::item_name;
use doorstep_core::validate::mask_id_number;

/// The list's query string; unknown codes are ignored.
#[derive(Debug, Default, Deserialize)]
pub struct CasesQuery {
    village: Option<String>,
    item: Option<String>,
    state: Option<String>,
    mode: Option<String>,
    overdue: Option<String>,
    tag: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    page: Option<usize>,
}

/// Longest search text taken.
const MAX_SEARCH_CHARS: usize = 40;

/// A query field's trimmed text, if it has any.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl CasesQuery {
    fn filter(&self) -> CaseFilter {
        CaseFilter {
            village: given(&self.village).map(str::to_string),
            item: given(&self.item)
                .filter(|c| catalogue().iter().any(|i| i.code == *c))
                .map(str::to_string),
            state: given(&self.state).and_then(JobState::from_code),
            mode: given(&self.mode)
                .and_then(ServiceMode::from_code)
                .map(|m| m.code().to_string()),
            overdue: given(&self.overdue).is_some(),
            tag: given(&self.tag).and_then(SpecialTag::from_code),
            search: given(&self.q).map(|s| s.chars().take(MAX_SEARCH_CHARS).collect()),
        }
    }

    fn order(&self) -> CaseOrder {
        CaseOrder::ALL
            .iter()
            .find(|(_, code, _)| Some(*code) == self.sort.as_deref())
            .map_or(CaseOrder::default(), |(order, _, _)| *order)
    }
}

/// The address of a page of the list.
pub fn href(filter: &CaseFilter, order: CaseOrder, page: usize) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    let pairs = [
        ("village", filter.village.clone()),
        ("item", filter.item.clone()),
        ("state", filter.state.map(|s| s.code().to_string())),
        ("mode", filter.mode.clone()),
        ("overdue", filter.overdue.then(|| "1".to_string())),
        ("tag", filter.tag.map(|t| t.code().to_string())),
        ("q", filter.search.clone()),
        (
            "sort",
            CaseOrder::ALL
                .iter()
                .find(|(o, _, _)| *o == order)
                .map(|(_, c, _)| c.to_string()),
        ),
        ("page", (page > 0).then(|| page.to_string())),
    ];
    for (key, value) in pairs {
        if let Some(value) = value {
            query.append_pair(key, &value);
        }
    }
    format!("/console/cases?{}", query.finish())
}

/// The case list.
pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Query(query): Query<CasesQuery>,
) -> Response {
    let filter = query.filter();
    let order = query.order();
    let page = query.page.unwrap_or(0).min(10_000);
    let villages = staff.session.scope.villages.clone();
    let today = local_date(Utc::now());
    let wanted = filter.clone();
    let read = read_page(&state, &staff, "-", "办件列表", move |storage| {
        let (lines, total) = storage.cases(&villages, &wanted, order, page, today)?;
        Ok((lines, total, Names::new(storage.region_names()?)))
    })
    .await;
    let (lines, total, names) = match read {
        Ok(read) => read,
        Err(response) => return response,
    };
    let pages = (total as usize).div_ceil(CASES_PER_PAGE).max(1);
    let body = html! {
        h1 { "办件" }
        (filters(&filter, order, &staff.session.scope.villages, &names))
        p { "共 " (total) " 件" }
        @if lines.is_empty() { p { "没有符合条件的办件。" } } @else { (case_table(&lines, &names, today)) }
        p.pages {
            @if page > 0 { a href=(href(&filter, order, page - 1)) { "上一页" } " " }
            "第 " (page + 1) " / " (pages) " 页"
            @if page + 1 < pages { " " a href=(href(&filter, order, page + 1)) { "下一页" } }
        }
    };
    layout::render(&Page::new("办件", Nav::Cases, &staff.session), body).into_response()
}

fn filters(filter: &CaseFilter, order: CaseOrder, villages: &[String], names: &Names) -> Markup {
    html! {
        form.filters method="get" action="/console/cases" {
            label { "村 " select name="village" {
                option value="" { "全部" }
                @for v in villages { option value=(v) selected[filter.village.as_deref() == Some(v.as_str())] { (names.region(v)) } }
            } }
            label { "事项 " select name="item" {
                option value="" { "全部" }
                @for i in catalogue() { option value=(i.code) selected[filter.item.as_deref() == Some(i.code.as_str())] { (i.name) } }
            } }
            label { "状态 " select name="state" {
                option value="" { "全部" }
                @for s in JobState::ALL { option value=(s.code()) selected[filter.state == Some(*s)] { (s.label()) } }
            } }
            label { "方式 " select name="mode" {
                option value="" { "全部" }
                @for m in ServiceMode::ALL { option value=(m.code()) selected[filter.mode.as_deref() == Some(m.code())] { (m.label()) } }
            } }
            label { "特殊群体 " select name="tag" {
                option value="" { "全部" }
                @for t in SpecialTag::ALL { option value=(t.code()) selected[filter.tag == Some(*t)] { (t.label()) } }
            } }
            label { input type="checkbox" name="overdue" value="1" checked[filter.overdue]; " 只看逾期" }
            label { "搜索 " input name="q" value=[filter.search.as_deref()] placeholder="姓名、身份证或电话尾号" maxlength="40"; }
            label { "排序 " select name="sort" {
                @for (o, code, label) in CaseOrder::ALL { option value=(code) selected[*o == order] { (label) } }
            } }
            button type="submit" { "查询" }
        }
    }
}

fn is_overdue(line: &CaseLine, today: NaiveDate) -> bool {
    let promised = line.promised_due.as_deref().and_then(|d| d.parse().ok());
    JobState::from_code(&line.state).is_some_and(|s| s.is_overdue(promised, today))
}

/// A table of cases, each linked to its page.
pub fn case_table(lines: &[CaseLine], names: &Names, today: NaiveDate) -> Markup {
    html! {
        table.cases {
            tr { th { "村" } th { "姓名" } th { "身份证号" } th { "特殊群体" } th { "事项" } th { "方式" } th { "状态" } th { "告知日期" } th { "承诺办结" } th { "冲突" } }
            @for line in lines {
                tr {
                    td { (names.region(&line.village_id)) }
                    td { a href=(format!("/console/cases/{}/{}", line.household_id, line.job_id)) { (line.member_name) } }
                    td { (line.id_number.as_deref().map(mask_id_number).unwrap_or_default()) }
                    td { (tag_labels(line.tag_mask)) }
                    td { (item_name(&line.item_code)) }
                    td { (mode_label(&line.mode)) }
                    td { (state_label(&line.state)) }
                    td { (line.informed_on) }
                    td class=[is_overdue(line, today).then_some("overdue")] {
                        (line.promised_due.as_deref().unwrap_or("")) @if is_overdue(line, today) { "（逾期）" }
                    }
                    td { @if line.conflicts > 0 { (line.conflicts) } }
                }
            }
        }
    }
}
