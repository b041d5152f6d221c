//! Pictures drawn by the server as SVG inside the page: the needs heat map (需求热力图) and the
//! monthly trend chart. Every number a colour or a line stands for is also written as text.

use doorstep_core::Urgency;
use doorstep_core::figures::Counts;
use maud::{Markup, html};

use super::layout::Names;
use crate::storage::NeedsByUrgency;

/// A colour for each urgency, red first, and for no open need.
const URGENCY_RGB: [(u8, u8, u8); 3] = [(215, 48, 39), (244, 165, 40), (26, 152, 80)];
const NO_NEED_FILL: &str = "#eeeeee";

/// `rgb` mixed with white: `strength` 0 is white, 1 the full colour.
fn tint((r, g, b): (u8, u8, u8), strength: f64) -> String {
    let mix = |c: u8| (255.0 - (255.0 - f64::from(c)) * strength).round() as u8;
    format!("#{:02x}{:02x}{:02x}", mix(r), mix(g), mix(b))
}

/// One village's counts as the cell's caption.
fn caption(needs: &NeedsByUrgency) -> String {
    Urgency::ALL
        .iter()
        .zip(needs)
        .map(|(u, n)| format!("{} {n}", u.label()))
        .collect::<Vec<_>>()
        .join(" · ")
}

const CELL_W: f64 = 150.0;
const CELL_H: f64 = 64.0;
const TOWN_LABEL_W: f64 = 90.0;
const PER_ROW: usize = 6;

/// The heat map: one cell per village, in rows by town, coloured by its most urgent open need
/// and darker the more open needs it has, with the counts written in the cell.
pub fn heat_map(
    towns: &[(String, Vec<String>)],
    needs: &std::collections::BTreeMap<String, NeedsByUrgency>,
    names: &Names,
) -> Markup {
    let most = needs
        .values()
        .map(|n| n.iter().sum::<i64>())
        .max()
        .unwrap_or(0)
        .max(1);
    // Each town takes as many rows of cells as its villages need.
    let mut rows = Vec::new();
    for (town, villages) in towns {
        for (i, chunk) in villages.chunks(PER_ROW).enumerate() {
            rows.push(((i == 0).then_some(town.as_str()), chunk));
        }
    }
    let width = TOWN_LABEL_W + CELL_W * PER_ROW as f64 + 4.0;
    let height = CELL_H * rows.len().max(1) as f64 + 4.0;
    html! {
        svg.heatmap xmlns="http://www.w3.org/2000/svg" role="img"
            width=(width) height=(height) viewBox=(format!("0 0 {width} {height}"))
            aria-label="需求热力图：各村未结需求按紧急程度" {
            @for (r, (town, villages)) in rows.iter().enumerate() {
                @let y = 2.0 + CELL_H * r as f64;
                @if let Some(town) = town {
                    text x="4" y=(y + CELL_H / 2.0 + 5.0) font-size="14" font-weight="bold" { (names.region(town)) }
                }
                @for (c, village) in villages.iter().enumerate() {
                    @let x = TOWN_LABEL_W + CELL_W * c as f64;
                    @let counts = needs.get(village).copied().unwrap_or_default();
                    @let total: i64 = counts.iter().sum();
                    @let fill = counts.iter().position(|n| *n > 0).map_or_else(
                        || NO_NEED_FILL.to_string(),
                        |rank| tint(URGENCY_RGB[rank], 0.25 + 0.6 * total as f64 / most as f64),
                    );
                    g {
                        title { (names.region(village)) "：未结需求 " (total) " 件（" (caption(&counts)) "）" }
                        rect x=(x + 2.0) y=(y + 2.0) width=(CELL_W - 4.0) height=(CELL_H - 4.0)
                            rx="4" fill=(fill) stroke="#555" stroke-width="1" {}
                        text x=(x + CELL_W / 2.0) y=(y + 24.0) text-anchor="middle" font-size="14" font-weight="bold" {
                            (names.region(village)) " " (total)
                        }
                        text x=(x + CELL_W / 2.0) y=(y + 46.0) text-anchor="middle" font-size="12" {
                            (caption(&counts))
                        }
                    }
                }
            }
        }
        p.legend {
            @for (u, rgb) in Urgency::ALL.iter().zip(URGENCY_RGB) {
                span.swatch style=(format!("background:{}", tint(rgb, 0.6))) {} (u.label()) "　"
            }
            span.swatch style=(format!("background:{NO_NEED_FILL}")) {} "无未结需求　"
            "格子颜色取该村最紧急的未结需求，颜色越深未结需求越多；格中数字为件数。"
        }
    }
}

/// A rate as a percentage with its parts, or a dash when nothing was counted.
pub fn rate(part: i64, whole: i64) -> String {
    if whole == 0 {
        return "—".into();
    }
    format!(
        "{:.1}%（{part}/{whole}）",
        part as f64 * 100.0 / whole as f64
    )
}

const CHART_W: f64 = 760.0;
const CHART_H: f64 = 280.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 48.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 56.0;

/// The lines of the trend chart: name, colour, and the rate of a month's counts.
type Line = (&'static str, &'static str, fn(&Counts) -> Option<f64>);

const LINES: [Line; 3] = [
    ("需求响应率", "#1f77b4", Counts::response_rate),
    ("承诺办结率", "#7b3294", Counts::on_time_rate),
    ("群众满意度", "#1a9850", Counts::satisfaction_rate),
];

/// The trend chart: jobs told each month as bars (right scale), and the three rates as
/// lines (left scale, 0–100%). Months with nothing to count leave a gap in a line.
pub fn trends(months: &[(String, Counts)]) -> Markup {
    let plot_w = CHART_W - LEFT - RIGHT;
    let plot_h = CHART_H - TOP - BOTTOM;
    let step = plot_w / months.len().max(1) as f64;
    let most_jobs = months
        .iter()
        .map(|(_, c)| c.jobs_opened)
        .max()
        .unwrap_or(0)
        .max(1);
    let x_of = |i: usize| LEFT + step * (i as f64 + 0.5);
    let y_of_rate = |r: f64| TOP + plot_h * (1.0 - r);
    let segments = |rate_of: fn(&Counts) -> Option<f64>| {
        let mut paths = Vec::new();
        let mut current = String::new();
        for (i, (_, counts)) in months.iter().enumerate() {
            match rate_of(counts) {
                Some(r) => {
                    let verb = if current.is_empty() { 'M' } else { 'L' };
                    current.push_str(&format!("{verb}{:.1},{:.1} ", x_of(i), y_of_rate(r)));
                }
                None if !current.is_empty() => paths.push(std::mem::take(&mut current)),
                None => {}
            }
        }
        if !current.is_empty() {
            paths.push(current);
        }
        paths
    };
    html! {
        svg.trends xmlns="http://www.w3.org/2000/svg" role="img"
            width=(CHART_W) height=(CHART_H) viewBox=(format!("0 0 {CHART_W} {CHART_H}"))
            aria-label="近十二个月趋势：办件量与三项比率" {
            @for pct in [0, 25, 50, 75, 100] {
                @let y = y_of_rate(f64::from(pct) / 100.0);
                line x1=(LEFT) x2=(CHART_W - RIGHT) y1=(y) y2=(y) stroke="#ddd" {}
                text x=(LEFT - 6.0) y=(y + 4.0) text-anchor="end" font-size="11" { (pct) "%" }
            }
            text x=(CHART_W - RIGHT + 6.0) y=(TOP + 4.0) font-size="11" { (most_jobs) "件" }
            text x=(CHART_W - RIGHT + 6.0) y=(TOP + plot_h + 4.0) font-size="11" { "0件" }
            @for (i, (month, counts)) in months.iter().enumerate() {
                @let h = plot_h * counts.jobs_opened as f64 / most_jobs as f64;
                rect x=(x_of(i) - step * 0.3) y=(TOP + plot_h - h) width=(step * 0.6) height=(h) fill="#c9d6e3" {
                    title { (month) "：办件 " (counts.jobs_opened) " 件" }
                }
                text x=(x_of(i)) y=(CHART_H - BOTTOM + 16.0) text-anchor="middle" font-size="11" {
                    (month.get(2..).unwrap_or(month))
                }
            }
            @for (name, colour, rate_of) in LINES {
                @for d in segments(rate_of) {
                    path d=(d) fill="none" stroke=(colour) stroke-width="2" { title { (name) } }
                }
                @for (i, (_, counts)) in months.iter().enumerate() {
                    @if let Some(r) = rate_of(counts) {
                        circle cx=(x_of(i)) cy=(y_of_rate(r)) r="3" fill=(colour) {}
                    }
                }
            }
            @for (n, (name, colour, _)) in LINES.iter().enumerate() {
                @let x = LEFT + 150.0 * n as f64;
                rect x=(x) y=(CHART_H - 22.0) width="14" height="4" fill=(colour) {}
                text x=(x + 20.0) y=(CHART_H - 16.0) font-size="12" { (name) }
            }
            rect x=(LEFT + 450.0) y=(CHART_H - 26.0) width="14" height="10" fill="#c9d6e3" {}
            text x=(LEFT + 470.0) y=(CHART_H - 16.0) font-size="12" { "办件量" }
        }
    }
}
