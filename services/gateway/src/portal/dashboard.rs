//! The *Overzicht* (`/overzicht`): the regional throughput figures for the RCN coordinator and
//! the procesregisseur (the region and each municipality), and for municipal staff their own
//! municipality's aggregates only. Charts are SVG drawn here on the server, each with its table
//! beside it for screen readers; the filters are a plain GET form; every table downloads as CSV
//! (`/overzicht/export/{file}`, UTF-8 with BOM and `;`), and `/overzicht/maandrapport` is one
//! month, laid out for printing.
//!
//! The monitor computes the figures and decides who sees what; this page only asks it with the
//! signed-in person's identity and draws the answer. It must never show a BSN, a name or a case:
//! the figures hold counts and durations only.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, NaiveDate};
use rcn_contracts::Gemeentecode;
use rcn_contracts::identity::Role;
use rcn_contracts::monitor_api::{Figures, FiguresRequest, Granularity, csv};

use crate::AppState;
use crate::portal::form::FormData;
use crate::portal::page::{self, Layout, PortalError};
use crate::portal::procesregie::words;
use crate::portal::session::Staff;
use crate::portal::{fmt, services};

/// One bar of a chart, laid out (SVG user units).
pub struct Bar {
    pub label: String,
    pub value_text: String,
    pub y: u32,
    pub width: u32,
    pub text_y: u32,
    pub value_x: u32,
}

/// A horizontal bar chart with the rows of its table.
pub struct Chart {
    pub id: String,
    pub title: String,
    /// Column headings of the table: the label's and the value's.
    pub label_heading: String,
    pub value_heading: String,
    pub height: u32,
    pub bars: Vec<Bar>,
}

const LABEL_WIDTH: u32 = 190;
const BAR_MAX: u32 = 380;
const ROW: u32 = 26;

fn chart(
    id: &str,
    title: &str,
    label_heading: &str,
    value_heading: &str,
    items: Vec<(String, f64, String)>,
) -> Chart {
    let max = items.iter().map(|i| i.1).fold(0.0, f64::max);
    let bars = items
        .into_iter()
        .enumerate()
        .map(|(i, (label, value, value_text))| {
            let width = if max > 0.0 {
                ((value / max) * BAR_MAX as f64).round() as u32
            } else {
                0
            };
            let y = i as u32 * ROW + 4;
            Bar {
                label,
                value_text,
                y,
                width,
                text_y: y + 15,
                value_x: LABEL_WIDTH + width + 6,
            }
        })
        .collect::<Vec<_>>();
    Chart {
        id: id.to_owned(),
        title: title.to_owned(),
        label_heading: label_heading.to_owned(),
        value_heading: value_heading.to_owned(),
        height: (bars.len() as u32 * ROW).max(ROW) + 8,
        bars,
    }
}

/// A plain table: headings and rows of text.
pub struct Table {
    pub caption: String,
    pub headings: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

#[derive(Template)]
#[template(path = "portal/dashboard.html")]
struct DashboardPage {
    l: Layout,
    heading: String,
    intro: String,
    report: bool,
    regional: bool,
    week: bool,
    /// The period's first and last day as the form shows them (`dd-mm-jjjj`), or as typed when
    /// they were refused.
    from: String,
    to: String,
    /// Why a typed day was refused, in Dutch.
    from_error: Option<String>,
    to_error: Option<String>,
    month: String,
    /// (code, name, selected)
    municipalities: Vec<(String, String, bool)>,
    charts: Vec<Chart>,
    tables: Vec<Table>,
    /// (file name, link)
    downloads: Vec<(String, String)>,
    report_link: String,
}

/// What the filters ask, as given (to redraw the form) and as a request to the monitor.
struct Filters {
    request: FiguresRequest,
    query: String,
    /// A typed first or last day that is not a date, with why (Dutch): the request then leaves
    /// that day to its default, and the page shows the message at the field.
    from_refused: Option<(String, String)>,
    to_refused: Option<(String, String)>,
}

impl Filters {
    /// The first refusal, for the pages that have no form to show it at (export, report).
    fn refused(&self) -> Result<(), PortalError> {
        match self.from_refused.as_ref().or(self.to_refused.as_ref()) {
            Some((_, why)) => Err(PortalError::BadRequest(why.clone())),
            None => Ok(()),
        }
    }
}

/// A day as staff type it, `dd-mm-jjjj` (also with `/` or `.`, and one-digit day or month), or
/// as the download links carry it, `jjjj-mm-dd`. The browser's own date picker is not used: it
/// shows the browser's locale (`12/02/2025` in an American one), not the Dutch order.
fn parse_day(typed: &str) -> Option<NaiveDate> {
    let t = typed.trim().replace(['/', '.'], "-");
    let parts: Vec<&str> = t.split('-').collect();
    let [a, b, c] = parts[..] else {
        return None;
    };
    if ![a, b, c]
        .iter()
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let (y, m, d) = match (a.len(), c.len()) {
        (4, 1..=2) => (a, b, c),
        (1..=2, 4) => (c, b, a),
        _ => return None,
    };
    if m.len() > 2 {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// `01-12-2026`: how the form shows a day.
fn typed_day(d: NaiveDate) -> String {
    d.format("%d-%m-%Y").to_string()
}

fn parse_filters(raw: Option<&str>, staff: &Staff) -> Result<Filters, PortalError> {
    let form = FormData::parse(raw.unwrap_or_default().as_bytes());
    let granularity = match form.get("periode") {
        None | Some("maand") => Granularity::Month,
        Some("week") => Granularity::Week,
        Some(_) => {
            return Err(PortalError::BadRequest(
                "Kies als periode ‘week’ of ‘maand’.".into(),
            ));
        }
    };
    // An empty field means "the default", as when it is left out.
    let day = |name: &str, words: &str| -> (Option<NaiveDate>, Option<(String, String)>) {
        match form.get(name).map(str::trim).filter(|v| !v.is_empty()) {
            None => (None, None),
            Some(v) => match parse_day(v) {
                Some(d) => (Some(d), None),
                None => (
                    None,
                    Some((
                        v.to_owned(),
                        format!(
                            "‘{v}’ is geen datum. Vul bij ‘{words}’ een datum in als dd-mm-jjjj, \
                             bijvoorbeeld 01-11-2026."
                        ),
                    )),
                ),
            },
        }
    };
    let (mut from, mut from_refused) = day("van", "Van");
    let (mut to, to_refused) = day("tot", "Tot en met");
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        from_refused = Some((
            typed_day(f),
            format!(
                "‘Van’ ({}) ligt na ‘Tot en met’ ({}). Kies een eerdere begindatum.",
                fmt::date(f),
                fmt::date(t)
            ),
        ));
        from = None;
    }
    if let Some(month) = form.get("maand") {
        let first =
            NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").map_err(|_| {
                PortalError::BadRequest("De maand is geen geldige maand (jjjj-mm).".into())
            })?;
        let next = first
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(first);
        from = Some(first);
        to = next.pred_opt();
    }
    let gemeentecode = match staff.identity.role {
        // Municipal staff see their own municipality, whatever the address asks.
        Role::MunicipalStaff => staff.identity.gemeentecode.clone(),
        _ => form
            .get("gemeente")
            .map(|g| {
                Gemeentecode::parse(g).map_err(|_| {
                    PortalError::BadRequest("Die gemeente kent het overzicht niet.".into())
                })
            })
            .transpose()?,
    };
    let request = FiguresRequest {
        granularity,
        from,
        to,
        gemeentecode,
    };
    // The same filters again, for the download links.
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair(
        "periode",
        if granularity == Granularity::Week {
            "week"
        } else {
            "maand"
        },
    );
    if let Some(f) = from {
        q.append_pair("van", &f.to_string());
    }
    if let Some(t) = to {
        q.append_pair("tot", &t.to_string());
    }
    if let Some(g) = &request.gemeentecode {
        q.append_pair("gemeente", g.as_str());
    }
    Ok(Filters {
        request,
        query: q.finish(),
        from_refused,
        to_refused,
    })
}

fn require_role(staff: &Staff) -> Result<(), PortalError> {
    match staff.identity.role {
        Role::RcnCoordinator | Role::Procesregisseur | Role::MunicipalStaff => Ok(()),
        _ => Err(PortalError::Forbidden(
            "Het overzicht is voor de RCN, procesregie en gemeentelijke medewerkers.".into(),
        )),
    }
}

async fn ask(
    state: &AppState,
    staff: &Staff,
    request: &FiguresRequest,
) -> Result<Figures, PortalError> {
    services::endpoint::<Figures>(state, state.subjects.monitor_figures(), &staff.identity, request)
        .await?
        .map_err(|p| match p.status {
            403 => PortalError::Forbidden(
                "U ziet alleen de cijfers van uw eigen gemeente.".into(),
            ),
            _ => PortalError::BadRequest(format!(
                "Deze periode kan niet: {}. Kies een periode van hoogstens drie jaar, met ‘van’ vóór ‘tot en met’.",
                p.invalid_params
                    .first()
                    .map_or(p.detail.as_str(), |i| i.reason.as_str())
            )),
        })
}

/// `GET /overzicht`.
pub async fn show(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    RawQuery(raw): RawQuery,
) -> Result<Response, PortalError> {
    require_role(&staff)?;
    let filters = parse_filters(raw.as_deref(), &staff)?;
    let figures = ask(&state, &staff, &filters.request).await?;
    Ok(page::render(&build(&staff, &figures, &filters, false)))
}

/// `GET /overzicht/maandrapport?maand=2026-11`: one month, for printing.
pub async fn report(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    RawQuery(raw): RawQuery,
) -> Result<Response, PortalError> {
    require_role(&staff)?;
    let mut filters = parse_filters(raw.as_deref(), &staff)?;
    filters.refused()?;
    if filters.request.from.is_none() {
        // Without a month: the last whole month.
        let first = fmt::today().with_day(1).unwrap_or_else(fmt::today);
        let prev = first
            .checked_sub_months(chrono::Months::new(1))
            .unwrap_or(first);
        filters.request.from = Some(prev);
        filters.request.to = first.pred_opt();
    }
    filters.request.granularity = Granularity::Month;
    let figures = ask(&state, &staff, &filters.request).await?;
    Ok(page::render(&build(&staff, &figures, &filters, true)))
}

/// `GET /overzicht/export/{file}`: one table of the figures as CSV.
pub async fn export(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(file): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, PortalError> {
    require_role(&staff)?;
    let filters = parse_filters(raw.as_deref(), &staff)?;
    filters.refused()?;
    let figures = ask(&state, &staff, &filters.request).await?;
    let Some((name, content)) = csv::files(&figures).into_iter().find(|(n, _)| *n == file) else {
        return Err(PortalError::NotFound);
    };
    let mut response = content.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// `week 49 (30 november 2026)` or `december 2026`.
fn period(g: Granularity, d: NaiveDate) -> String {
    match g {
        Granularity::Week => format!("week {} ({})", d.iso_week().week(), fmt::date(d)),
        Granularity::Month => format!("{} {}", fmt::MONTHS[d.month0() as usize], d.year()),
    }
}

/// A duration in words: `45 min`, `2 u 5 min`, `3 d 4 u`.
fn duration(secs: i64) -> String {
    let secs = secs.max(0);
    let (d, h, m) = (secs / 86400, secs % 86400 / 3600, secs % 3600 / 60);
    match (d, h) {
        (0, 0) if m == 0 => format!("{secs} s"),
        (0, 0) => format!("{m} min"),
        (0, _) => format!("{h} u {m} min"),
        _ => format!("{d} d {h} u"),
    }
}

fn gm_name(g: &Option<Gemeentecode>) -> String {
    g.as_ref()
        .map_or_else(|| "Regio".to_owned(), fmt::municipality)
}

fn build(staff: &Staff, f: &Figures, filters: &Filters, report: bool) -> DashboardPage {
    let regional = staff.identity.role != Role::MunicipalStaff;
    let scope = f.gemeentecode.clone();
    let whose = match &scope {
        Some(g) => format!("gemeente {}", fmt::municipality(g)),
        None => "de regio".to_owned(),
    };
    let g = f.granularity;
    let mut charts = Vec::new();
    let mut tables = Vec::new();

    // Notices per period, for the scope's own rows.
    let mut per_period: BTreeMap<NaiveDate, u64> = BTreeMap::new();
    let mut per_gm: BTreeMap<String, u64> = BTreeMap::new();
    for n in &f.notices_received {
        if n.gemeentecode == scope {
            *per_period.entry(n.period).or_default() += n.count;
        }
        if scope.is_none() && n.gemeentecode.is_some() {
            *per_gm.entry(gm_name(&n.gemeentecode)).or_default() += n.count;
        }
    }
    charts.push(chart(
        "meldingen",
        &format!(
            "Meldingen per {} voor {whose}",
            if g == Granularity::Week {
                "week"
            } else {
                "maand"
            }
        ),
        "Periode",
        "Meldingen",
        per_period
            .iter()
            .map(|(p, n)| (period(g, *p), *n as f64, n.to_string()))
            .collect(),
    ));
    if scope.is_none() {
        charts.push(chart(
            "meldingen-gemeente",
            "Meldingen per gemeente in de hele periode",
            "Gemeente",
            "Meldingen",
            per_gm
                .iter()
                .map(|(name, n)| (name.clone(), *n as f64, n.to_string()))
                .collect(),
        ));
    }

    // "Nog niet opgepakt door gemeente X".
    let unclaimed: Vec<_> = f
        .unclaimed_cases
        .iter()
        .filter(|u| u.gemeentecode.is_some())
        .collect();
    charts.push(chart(
        "niet-opgepakt",
        "Nog niet opgepakt door de gemeente: open casussen zonder claim",
        "Gemeente",
        "Casussen",
        unclaimed
            .iter()
            .map(|u| {
                (
                    format!(
                        "Nog niet opgepakt door gemeente {}",
                        gm_name(&u.gemeentecode)
                    ),
                    u.count as f64,
                    format!("{} (oudste {} werkdagen)", u.count, u.oldest_working_days),
                )
            })
            .collect(),
    ));

    // Te laat: overdue tasks in tiers.
    tables.push(Table {
        caption: "Te laat: open taken over hun termijn, in werkdagen".into(),
        headings: vec![
            "Gemeente".into(),
            "1–2 werkdagen".into(),
            "3–5 werkdagen".into(),
            "meer dan 5 werkdagen".into(),
        ],
        rows: f
            .overdue_tasks
            .iter()
            .map(|o| {
                vec![
                    gm_name(&o.gemeentecode),
                    o.up_to_2_working_days.to_string(),
                    o.from_3_to_5_working_days.to_string(),
                    o.over_5_working_days.to_string(),
                ]
            })
            .collect(),
    });
    if let Some(o) = f.overdue_tasks.iter().find(|o| o.gemeentecode == scope) {
        charts.push(chart(
            "te-laat",
            &format!("Te laat voor {whose}: taken per aantal werkdagen over de termijn"),
            "Te laat",
            "Taken",
            vec![
                (
                    "1–2 werkdagen".into(),
                    o.up_to_2_working_days as f64,
                    o.up_to_2_working_days.to_string(),
                ),
                (
                    "3–5 werkdagen".into(),
                    o.from_3_to_5_working_days as f64,
                    o.from_3_to_5_working_days.to_string(),
                ),
                (
                    "meer dan 5 werkdagen".into(),
                    o.over_5_working_days as f64,
                    o.over_5_working_days.to_string(),
                ),
            ],
        ));
    }

    // Durations.
    for (caption, rows) in [
        (
            "Doorlooptijd van melding tot routeringsbesluit",
            &f.time_to_routing,
        ),
        (
            "Doorlooptijd van melding tot eerste claim",
            &f.time_to_first_claim,
        ),
    ] {
        tables.push(Table {
            caption: format!("{caption} voor {whose} (mediaan en 90e percentiel)"),
            headings: vec![
                "Periode".into(),
                "Aantal".into(),
                "Mediaan".into(),
                "90e percentiel".into(),
            ],
            rows: rows
                .iter()
                .filter(|d| d.gemeentecode == scope)
                .map(|d| {
                    vec![
                        period(g, d.period),
                        d.count.to_string(),
                        duration(d.p50_seconds),
                        duration(d.p90_seconds),
                    ]
                })
                .collect(),
        });
    }

    // Conditions at release over the whole range.
    let mut cond: BTreeMap<&'static str, (u64, u64)> = BTreeMap::new();
    for c in f
        .conditions_at_release
        .iter()
        .filter(|c| c.gemeentecode == scope)
    {
        let e = cond.entry(fmt::condition(c.condition)).or_default();
        e.0 += c.arranged;
        e.1 += c.cases - c.not_applicable;
    }
    charts.push(chart(
        "voorwaarden",
        &format!("Voorwaarden geregeld op de dag van ontslag, {whose}"),
        "Voorwaarde",
        "Geregeld",
        cond.iter()
            .map(|(name, (arranged, applies))| {
                let pct = if *applies > 0 {
                    *arranged as f64 * 100.0 / *applies as f64
                } else {
                    0.0
                };
                (
                    (*name).to_owned(),
                    pct,
                    format!("{:.1} % ({arranged} van {applies})", pct).replace('.', ","),
                )
            })
            .collect(),
    ));

    // Cases opened and spoed.
    tables.push(Table {
        caption: format!("Casussen geopend en spoed, {whose}"),
        headings: vec!["Periode".into(), "Geopend".into(), "Waarvan spoed".into()],
        rows: f
            .cases_opened
            .iter()
            .filter(|c| c.gemeentecode == scope)
            .map(|c| {
                vec![
                    period(g, c.period),
                    c.opened.to_string(),
                    c.spoed.to_string(),
                ]
            })
            .collect(),
    });
    tables.push(Table {
        caption: "Open spoedcasussen nu".into(),
        headings: vec!["Gemeente".into(), "Spoed".into()],
        rows: f
            .open_spoed_cases
            .iter()
            .map(|c| vec![gm_name(&c.gemeentecode), c.count.to_string()])
            .collect(),
    });

    procesregie(f, &scope, &whose, &mut charts, &mut tables);

    // The RCN's own sections.
    if let Some(m) = &f.manual_routing {
        tables.push(Table {
            caption: "Routeringswachtrij nu".into(),
            headings: vec!["Wachtend".into(), "Oudste".into(), "Mediaan".into()],
            rows: vec![vec![
                m.waiting.to_string(),
                m.oldest_seconds.map_or("—".into(), duration),
                m.median_seconds.map_or("—".into(), duration),
            ]],
        });
    }
    if let Some(fw) = &f.forwards_unacknowledged {
        let mut rows: Vec<Vec<String>> = fw
            .iter()
            .map(|w| {
                vec![
                    w.target_region.clone(),
                    w.waiting.to_string(),
                    duration(w.oldest_seconds),
                ]
            })
            .collect();
        if let Some(by_hand) = f.forwards_by_hand.filter(|n| *n > 0) {
            rows.push(vec![
                "onbekende regio (met de hand doorsturen)".into(),
                by_hand.to_string(),
                "—".into(),
            ]);
        }
        tables.push(Table {
            caption: "Doorgestuurd naar een andere regio, nog niet bevestigd".into(),
            headings: vec!["Regio".into(), "Wachtend".into(), "Oudste".into()],
            rows,
        });
    }
    if let Some(dl) = &f.dead_letters {
        tables.push(Table {
            caption: "Berichten die een dienst niet kon verwerken".into(),
            headings: vec!["Periode".into(), "Dienst".into(), "Aantal".into()],
            rows: dl
                .iter()
                .map(|d| vec![period(g, d.period), d.service.clone(), d.count.to_string()])
                .collect(),
        });
    }

    let municipalities = rcn_contracts::region::RegionTable::kennemerland()
        .municipalities
        .iter()
        .map(|m| {
            (
                m.code.as_str().to_owned(),
                m.name.clone(),
                scope.as_ref() == Some(&m.code),
            )
        })
        .collect();
    let downloads = csv::files(f)
        .into_iter()
        .map(|(name, _)| {
            (
                name.to_owned(),
                format!("/overzicht/export/{name}?{}", filters.query),
            )
        })
        .collect();
    let month = f.to.format("%Y-%m").to_string();
    let (title, heading) = if report {
        (
            "Maandrapport".to_owned(),
            format!(
                "Maandrapport {} {}, {whose}",
                fmt::MONTHS[f.from.month0() as usize],
                f.from.year()
            ),
        )
    } else {
        ("Overzicht".to_owned(), format!("Overzicht van {whose}"))
    };
    DashboardPage {
        l: Layout::for_staff(staff, title, "/overzicht"),
        intro: format!(
            "Van {} tot en met {}, per {}. Alleen aantallen en doorlooptijden; geen personen of casussen. Stand van {}.",
            fmt::date(f.from),
            fmt::date(f.to),
            if g == Granularity::Week {
                "week"
            } else {
                "maand"
            },
            fmt::date_time(f.generated_at)
        ),
        heading,
        report,
        regional,
        week: g == Granularity::Week,
        from: filters
            .from_refused
            .as_ref()
            .map_or_else(|| typed_day(f.from), |(typed, _)| typed.clone()),
        to: filters
            .to_refused
            .as_ref()
            .map_or_else(|| typed_day(f.to), |(typed, _)| typed.clone()),
        from_error: filters.from_refused.as_ref().map(|(_, why)| why.clone()),
        to_error: filters.to_refused.as_ref().map(|(_, why)| why.clone()),
        month: month.clone(),
        municipalities,
        charts,
        tables,
        downloads,
        report_link: format!(
            "/overzicht/maandrapport?maand={month}{}",
            scope
                .as_ref()
                .map_or(String::new(), |g| format!("&gemeente={}", g.as_str()))
        ),
    }
}

/// Procesregie's figures: the triage backlog and outcomes, ICOs opened, closed (and why) and
/// open now. Counts only, like the rest.
fn procesregie(
    f: &Figures,
    scope: &Option<Gemeentecode>,
    whose: &str,
    charts: &mut Vec<Chart>,
    tables: &mut Vec<Table>,
) {
    let g = f.granularity;
    let per = if g == Granularity::Week {
        "week"
    } else {
        "maand"
    };
    tables.push(Table {
        caption: "Procesregie: aanmeldingen die op de triage wachten, nu".into(),
        headings: vec!["Gemeente".into(), "Wachtend".into(), "Oudste".into()],
        rows: f
            .triage_backlog
            .iter()
            .map(|b| {
                vec![
                    gm_name(&b.gemeentecode),
                    b.waiting.to_string(),
                    duration(b.oldest_seconds),
                ]
            })
            .collect(),
    });
    let own: Vec<_> = f
        .triage_outcomes
        .iter()
        .filter(|t| &t.gemeentecode == scope)
        .collect();
    let mut totals = [0u64; 4];
    for t in &own {
        for (total, n) in totals
            .iter_mut()
            .zip([t.ico, t.advice, t.local_table, t.not_accepted])
        {
            *total += n;
        }
    }
    charts.push(chart(
        "triage-uitkomsten",
        &format!("Procesregie: uitkomst van de triage in de hele periode, {whose}"),
        "Uitkomst",
        "Aanmeldingen",
        if totals.iter().any(|n| *n > 0) {
            words::OUTCOMES
                .iter()
                .zip(totals)
                .map(|(o, n)| (words::outcome(*o).to_owned(), n as f64, n.to_string()))
                .collect()
        } else {
            Vec::new()
        },
    ));
    tables.push(Table {
        caption: format!("Procesregie: uitkomst van de triage per {per}, {whose}"),
        headings: std::iter::once("Periode".to_owned())
            .chain(
                words::OUTCOMES
                    .iter()
                    .map(|o| words::outcome(*o).to_owned()),
            )
            .collect(),
        rows: own
            .iter()
            .map(|t| {
                vec![
                    period(g, t.period),
                    t.ico.to_string(),
                    t.advice.to_string(),
                    t.local_table.to_string(),
                    t.not_accepted.to_string(),
                ]
            })
            .collect(),
    });
    tables.push(Table {
        caption: format!("Procesregie: ICO's geopend en gesloten per {per}, {whose}"),
        headings: vec!["Periode".into(), "Geopend".into(), "Gesloten".into()],
        rows: f
            .icos
            .iter()
            .filter(|i| &i.gemeentecode == scope)
            .map(|i| {
                vec![
                    period(g, i.period),
                    i.opened.to_string(),
                    i.closed.to_string(),
                ]
            })
            .collect(),
    });
    tables.push(Table {
        caption: format!("Procesregie: gesloten ICO's naar reden, {whose}"),
        headings: vec!["Periode".into(), "Reden".into(), "Aantal".into()],
        rows: f
            .ico_closures
            .iter()
            .filter(|c| &c.gemeentecode == scope)
            .map(|c| {
                vec![
                    period(g, c.period),
                    words::close_reason(c.reason).to_owned(),
                    c.count.to_string(),
                ]
            })
            .collect(),
    });
    tables.push(Table {
        caption: "Procesregie: lopende ICO's nu".into(),
        headings: vec!["Gemeente".into(), "Lopend".into()],
        rows: f
            .icos_open
            .iter()
            .map(|c| vec![gm_name(&c.gemeentecode), c.count.to_string()])
            .collect(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_read_as_staff_type_them_and_as_the_links_carry_them() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        assert_eq!(parse_day("01-12-2026"), d("2026-12-01"));
        assert_eq!(parse_day(" 1-2-2026 "), d("2026-02-01"));
        assert_eq!(parse_day("01/12/2026"), d("2026-12-01"));
        assert_eq!(parse_day("1.12.2026"), d("2026-12-01"));
        assert_eq!(parse_day("2026-12-01"), d("2026-12-01"));
        for bad in [
            "",
            "31-02-2026",
            "12/02/25",
            "2026-1-1-1",
            "0-12-2026",
            "01-13-2026",
            "gisteren",
            "01-012-2026",
            "+1-12-2026",
        ] {
            assert_eq!(parse_day(bad), None, "{bad:?}");
        }
        assert_eq!(typed_day(d("2026-02-01").unwrap()), "01-02-2026");
    }

    #[test]
    fn durations_read_as_dutch_words() {
        assert_eq!(duration(45), "45 s");
        assert_eq!(duration(600), "10 min");
        assert_eq!(duration(14700), "4 u 5 min");
        assert_eq!(duration(86400 + 7200), "1 d 2 u");
    }

    #[test]
    fn the_longest_bar_fills_the_chart_and_the_others_scale() {
        let c = chart(
            "x",
            "t",
            "a",
            "b",
            vec![
                ("a".into(), 10.0, "10".into()),
                ("b".into(), 5.0, "5".into()),
            ],
        );
        assert_eq!(c.bars[0].width, BAR_MAX);
        assert_eq!(c.bars[1].width, BAR_MAX / 2);
        assert_eq!(c.bars[1].y, ROW + 4);
    }
}
