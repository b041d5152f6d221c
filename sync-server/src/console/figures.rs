//! Figures (数据统计): for a date range, each village's figures (towns side by side for
//! district staff), jobs by item and mode, the needs heat map and the last twelve months'
//! trends, with every figure's definition written under them.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, NaiveDate, Utc};
use doorstep_core::figures::{self, Counts, DEFINITIONS, Definition, OPEN_NEEDS, Period, Tally};
use doorstep_core::time::local_date;
use maud::{Markup, html};
use serde::Deserialize;

use super::charts::{self, rate};
use super::layout::{self, Names, Nav, Page};
use super::read_page;
use super::session::Staff;
use crate::http::AppState;

/// The page's query string: the first and last day, `YYYY-MM-DD`.
#[derive(Debug, Default, Deserialize)]
pub struct FiguresQuery {
    from: Option<String>,
    to: Option<String>,
}

/// The date range asked for; by default the year so far.
fn range(query: &FiguresQuery, today: NaiveDate) -> Result<(NaiveDate, NaiveDate), String> {
    let parse = |value: &Option<String>, default: NaiveDate, what: &str| match value
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => Ok(default),
        Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| format!("{what}“{text}”不是有效日期，应为 年-月-日，如 2026-01-31")),
    };
    let year_start = NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today);
    let from = parse(&query.from, year_start, "开始日期")?;
    let to = parse(&query.to, today, "结束日期")?;
    figures::check_range(from, to).map_err(|e| e.to_string())?;
    Ok((from, to))
}

/// What the page reads.
struct Read {
    tally: Tally,
    months: Vec<(String, Counts)>,
    needs: std::collections::BTreeMap<String, crate::storage::NeedsByUrgency>,
    names: Names,
}

/// The figures page.
pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Query(query): Query<FiguresQuery>,
) -> Response {
    let today = local_date(Utc::now());
    let (from, to) = match range(&query, today) {
        Ok(range) => range,
        Err(message) => return layout::refusal(StatusCode::BAD_REQUEST, &message),
    };
    let villages = staff.session.scope.villages.clone();
    let read = read_page(&state, &staff, "-", "数据统计", move |storage| {
        let tally = storage.tally(&villages, Period::Whole, from, to)?;
        let (month_names, first) = figures::last_twelve_months(today);
        let by_month = storage.tally(&villages, Period::Month, first, today)?;
        let months = month_names
            .into_iter()
            .map(|m| {
                let counts = by_month.sum(|_, period| period == m);
                (m, counts)
            })
            .collect();
        Ok(Read {
            tally,
            months,
            needs: storage.open_needs(&villages)?,
            names: Names::new(storage.region_names()?),
        })
    })
    .await;
    let read = match read {
        Ok(read) => read,
        Err(response) => return response,
    };
    let scope = &staff.session.scope;
    let body = html! {
        h1 { "数据统计" }
        (range_form(from, to, today))
        @if scope.towns.len() > 1 {
            h2 { "各镇对比（" (from) " 至 " (to) "）" }
            (figure_table("镇", &scope.towns.iter().map(|(town, villages)| {
                (read.names.region(town).to_string(), read.tally.sum(|v, _| villages.iter().any(|x| x == v)))
            }).collect::<Vec<_>>(), &read.tally.sum(|_, _| true)))
        }
        @for (town, villages) in &scope.towns {
            h2 { (read.names.region(town)) " 各村（" (from) " 至 " (to) "）" }
            (figure_table("村", &villages.iter().map(|v| {
                (read.names.region(v).to_string(), read.tally.village(v))
            }).collect::<Vec<_>>(), &read.tally.sum(|v, _| villages.iter().any(|x| x == v))))
        }
        (items_and_modes(&read.tally.sum(|_, _| true)))
        h2 { "需求热力图（当前未结需求）" }
        (charts::heat_map(&scope.towns, &read.needs, &read.names))
        h2 { "近十二个月趋势" }
        (charts::trends(&read.months))
        (month_table(&read.months))
        h2 { "指标口径" }
        dl.definitions {
            @for d in DEFINITIONS.iter().chain([&OPEN_NEEDS]) { (definition(d)) }
        }
        p { "日期按经办人手机上记录的北京时间日期计；统计来自各手机同步到服务器的台账和办件，与手机上的统计用同一套口径。" }
        p { a href="/console/exports" { "导出台账和办件（CSV / Excel）" } }
    };
    layout::render(&Page::new("数据统计", Nav::Figures, &staff.session), body).into_response()
}

fn range_form(from: NaiveDate, to: NaiveDate, today: NaiveDate) -> Markup {
    let month_start = today.with_day(1).unwrap_or(today);
    let year_start = NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today);
    let quarter_start = figures::last_twelve_months(today).0[9].clone() + "-01";
    html! {
        form.filters method="get" action="/console/figures" {
            label { "开始日期 " input type="date" name="from" value=(from) required; }
            label { "结束日期 " input type="date" name="to" value=(to) required; }
            button type="submit" { "统计" }
            " 快捷："
            a href=(format!("/console/figures?from={month_start}&to={today}")) { "本月" } " "
            a href=(format!("/console/figures?from={quarter_start}&to={today}")) { "近三个月" } " "
            a href=(format!("/console/figures?from={year_start}&to={today}")) { "本年" }
        }
    }
}

fn hours(counts: &Counts) -> String {
    counts.average_handling_hours().map_or_else(
        || "—".into(),
        |h| format!("{h:.1}（{}件）", counts.jobs_timed),
    )
}

/// One row per place (village or town), then the total.
fn figure_table(place: &str, rows: &[(String, Counts)], total: &Counts) -> Markup {
    let row = |name: &str, c: &Counts, total: bool| {
        html! {
            tr class=[total.then_some("total")] {
                th scope="row" { (name) }
                td { (rate(c.special_needs_responded, c.special_needs)) }
                td { (rate(c.completed_on_time, c.jobs_completed)) }
                td { (rate(c.rated_good + c.rated_average, c.jobs_rated())) }
                td { (c.rated_good) " / " (c.rated_average) " / " (c.rated_bad) }
                td { (hours(c)) }
                td { (c.jobs_opened) }
                td { (c.visits_done) }
                td { (c.needs_raised) " / " (c.needs_closed) }
            }
        }
    };
    html! {
        table.figures {
            thead { tr {
                th { (place) }
                th { "特殊群体需求响应率" }
                th { "承诺办结率" }
                th { "群众满意度" }
                th { "好评 / 中评 / 差评" }
                th { "平均办理时长（小时）" }
                th { "办件量" }
                th { "走访次数" }
                th { "需求登记 / 销号" }
            } }
            tbody {
                @for (name, counts) in rows { (row(name, counts, false)) }
                (row("合计", total, true))
            }
        }
    }
}

fn items_and_modes(total: &Counts) -> Markup {
    html! {
        h2 { "办件量按事项、按方式" }
        div.side {
            table {
                thead { tr { th { "服务事项" } th { "办件量" } } }
                tbody {
                    @for (_, name, n) in total.items() { tr { td { (name) } td { (n) } } }
                    @if total.by_item.is_empty() { tr { td colspan="2" { "时段内无办件。" } } }
                }
            }
            table {
                thead { tr { th { "办理方式" } th { "办件量" } } }
                tbody {
                    @for (mode, n) in total.modes() { tr { td { (mode.label()) } td { (n) } } }
                }
            }
        }
    }
}

fn month_table(months: &[(String, Counts)]) -> Markup {
    html! {
        table.figures.months {
            thead { tr {
                th { "月份" } th { "办件量" } th { "需求响应率" } th { "承诺办结率" }
                th { "群众满意度" } th { "平均办理时长（小时）" } th { "走访次数" }
            } }
            tbody {
                @for (month, c) in months {
                    tr {
                        th scope="row" { (month) }
                        td { (c.jobs_opened) }
                        td { (rate(c.special_needs_responded, c.special_needs)) }
                        td { (rate(c.completed_on_time, c.jobs_completed)) }
                        td { (rate(c.rated_good + c.rated_average, c.jobs_rated())) }
                        td { (hours(c)) }
                        td { (c.visits_done) }
                    }
                }
            }
        }
    }
}

fn definition(d: &Definition) -> Markup {
    html! {
        dt { (d.name) }
        dd {
            @match d.out_of {
                Some(out_of) => { "分子：" (d.counts) "；分母：" (out_of) "。" }
                None => { "统计：" (d.counts) "。" }
            }
        }
    }
}
