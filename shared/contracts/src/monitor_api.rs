//! The monitor's request-reply contract: the regional throughput figures the RCN coordinator (and,
//! for their own municipality, municipal staff) see on the dashboard, and their CSV export.
//!
//! - `rcn.<region>.api.monitor.figures`: body a [`FiguresRequest`] (or empty: the last twelve
//!   months by month, the whole region), reply [`Figures`] in the kit's envelope.
//!
//! Only counts and durations leave the monitor: no BSN, no name, no case id, no notice key, no
//! user id. A figure names at most a period, a municipality (gemeentecode), an institution code,
//! a condition, a service or a region.
//!
//! [`csv`] turns figures into the files Dutch spreadsheet users expect: UTF-8 with a byte-order
//! mark, `;` between fields, decimal commas, Dutch column headings.

use chrono::{DateTime, Days, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::condition::Condition;
use crate::notice::{NoticeKind, Problem};
use crate::procesregie_api::IcoCloseReason;
use crate::value::Gemeentecode;

/// The longest span one request may cover, in days (three years).
pub const MAX_SPAN_DAYS: i64 = 3 * 366;

/// How figures over time are grouped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    /// ISO weeks, starting on Monday.
    Week,
    /// Calendar months.
    #[default]
    Month,
}

impl Granularity {
    /// The unit PostgreSQL's `date_trunc` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Week => "week",
            Granularity::Month => "month",
        }
    }
}

/// Which figures to compute. Every field is optional; an empty body means the last twelve months
/// by month for the whole region (or, for municipal staff, their own municipality).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FiguresRequest {
    /// Group figures over time by week or by month (default).
    #[serde(default)]
    pub granularity: Granularity,
    /// First day (Europe/Amsterdam) of the period, inclusive; default a year before `to`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<NaiveDate>,
    /// Last day (Europe/Amsterdam) of the period, inclusive; default today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<NaiveDate>,
    /// Only this municipality; the whole region (each municipality and the total) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gemeentecode: Option<Gemeentecode>,
}

impl FiguresRequest {
    /// Parses a request body: empty, or one JSON document.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Problem> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        crate::json::decode(bytes, "a figures request")
    }

    /// The first and last day the request covers, given `today`; a problem when they are out of
    /// order or span more than [`MAX_SPAN_DAYS`].
    pub fn range(&self, today: NaiveDate) -> Result<(NaiveDate, NaiveDate), Problem> {
        let to = self.to.unwrap_or(today);
        let from = match self.from {
            Some(from) => from,
            None => to.checked_sub_days(Days::new(365)).unwrap_or(to),
        };
        if from > to {
            return Err(Problem::new("from", "must not be after to"));
        }
        if (to - from).num_days() > MAX_SPAN_DAYS {
            return Err(Problem::new(
                "from",
                format!("a request covers at most {MAX_SPAN_DAYS} days; ask for a shorter period"),
            ));
        }
        Ok((from, to))
    }
}

impl crate::envelope::RequestBody for FiguresRequest {
    fn from_json(bytes: &[u8]) -> Result<Self, Problem> {
        Self::from_json(bytes)
    }
}

/// The figures, as of `generated_at`. Rows with `gemeentecode: null` are the region's total.
/// Sections only the RCN sees (manual routing, forwards, dead letters) are `null` for municipal
/// staff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Figures {
    pub region: String,
    pub generated_at: DateTime<Utc>,
    pub granularity: Granularity,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The municipality the figures are limited to, if any.
    pub gemeentecode: Option<Gemeentecode>,
    /// Notices received per period, by kind and sending institution; a notice counts for the
    /// municipality it was routed to.
    pub notices_received: Vec<NoticeCount>,
    /// From intake receiving a notice to the router naming the responsible municipality (or an
    /// RCN coordinator doing so by hand), per period of receipt.
    pub time_to_routing: Vec<DurationFigure>,
    /// From intake receiving the notice that opened a case to the first claim of one of its tasks,
    /// per period of receipt.
    pub time_to_first_claim: Vec<DurationFigure>,
    /// Per condition, where it stood at the end of the release day, per period of release.
    pub conditions_at_release: Vec<ConditionAtRelease>,
    /// Per period of release: cases released and how many conditions were still open.
    pub releases: Vec<ReleaseSummary>,
    /// Open cases nobody has claimed a task of after the configured number of working days: the
    /// list "nog niet opgepakt door gemeente X", by age in working days. Now, not per period.
    pub unclaimed_cases: Vec<UnclaimedCases>,
    /// Open tasks past their due date, in tiers of working days overdue. Now, not per period.
    pub overdue_tasks: Vec<OverdueTasks>,
    /// Cases opened per period, and how many of them are spoed.
    pub cases_opened: Vec<CasesOpened>,
    /// Open spoed cases now.
    pub open_spoed_cases: Vec<MunicipalCount>,
    /// Notices waiting in the RCN's manual routing queue now.
    pub manual_routing: Option<Backlog>,
    /// Notices forwarded to another region and not yet acknowledged, per target region; now.
    pub forwards_unacknowledged: Option<Vec<ForwardBacklog>>,
    /// Out-of-region notices whose region rcn does not know: to forward by hand.
    pub forwards_by_hand: Option<u64>,
    /// Messages a service gave up on, per period and service.
    pub dead_letters: Option<Vec<DeadLetterCount>>,
    /// Applications for an ICO submitted and not yet triaged, now.
    #[serde(default)]
    pub triage_backlog: Vec<TriageBacklog>,
    /// Triage outcomes per period of the triage they were decided at.
    #[serde(default)]
    pub triage_outcomes: Vec<TriageOutcomes>,
    /// ICOs opened and closed per period.
    #[serde(default)]
    pub icos: Vec<IcoFlow>,
    /// ICOs closed per period, by the reason they were closed for.
    #[serde(default)]
    pub ico_closures: Vec<IcoClosures>,
    /// ICOs open now.
    #[serde(default)]
    pub icos_open: Vec<MunicipalCount>,
}

/// How many notices of one kind one institution sent in a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NoticeCount {
    /// The first day of the week or month.
    pub period: NaiveDate,
    pub gemeentecode: Option<Gemeentecode>,
    pub kind: NoticeKind,
    pub institution_code: String,
    pub count: u64,
}

/// A duration's spread over the notices or cases of a period. Percentiles are nearest-rank: the
/// p90 is the value 90 % of the measurements are at or below.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DurationFigure {
    pub period: NaiveDate,
    pub gemeentecode: Option<Gemeentecode>,
    pub count: u64,
    pub p50_seconds: i64,
    pub p90_seconds: i64,
}

/// Where one condition stood at the end of the release day, over the cases released in a period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConditionAtRelease {
    pub period: NaiveDate,
    pub gemeentecode: Option<Gemeentecode>,
    pub condition: Condition,
    /// Cases released with this condition.
    pub cases: u64,
    pub arranged: u64,
    pub not_applicable: u64,
    /// Still open (unknown, needs action, in progress) at release.
    pub open: u64,
    /// Arranged as a percentage of the cases where the condition applied (one decimal); `null`
    /// when it applied to none.
    pub arranged_percent: Option<f64>,
}

/// The cases released in a period and the conditions they left open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReleaseSummary {
    pub period: NaiveDate,
    pub gemeentecode: Option<Gemeentecode>,
    pub cases_released: u64,
    /// Released with at least one condition still open.
    pub with_open_conditions: u64,
    /// Conditions still open at release, over all these cases.
    pub open_conditions: u64,
}

/// Open cases of a municipality without any claim, by age.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UnclaimedCases {
    pub gemeentecode: Option<Gemeentecode>,
    pub count: u64,
    pub oldest_working_days: u32,
    /// How many cases have each age, youngest first.
    pub by_age: Vec<AgeCount>,
}

/// How many cases are this many working days old.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AgeCount {
    pub working_days: u32,
    pub count: u64,
}

/// Overdue open tasks in tiers of working days past their due date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OverdueTasks {
    pub gemeentecode: Option<Gemeentecode>,
    /// At most 2 working days overdue.
    pub up_to_2_working_days: u64,
    pub from_3_to_5_working_days: u64,
    pub over_5_working_days: u64,
}

/// Cases opened in a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CasesOpened {
    pub period: NaiveDate,
    pub gemeentecode: Option<Gemeentecode>,
    pub opened: u64,
    /// Of which spoed (release within 7 days, or unexpected).
    pub spoed: u64,
}

/// A count per municipality (`null`: the region).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MunicipalCount {
    pub gemeentecode: Option<Gemeentecode>,
    pub count: u64,
}

/// What waits, and for how long.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Backlog {
    pub waiting: u64,
    /// `null` when nothing waits.
    pub oldest_seconds: Option<i64>,
    pub median_seconds: Option<i64>,
}

/// Forwards to one region awaiting its acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ForwardBacklog {
    pub target_region: String,
    pub waiting: u64,
    pub oldest_seconds: i64,
}

/// Applications for an ICO waiting for their triage: submitted, no outcome yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TriageBacklog {
    pub gemeentecode: Option<Gemeentecode>,
    pub waiting: u64,
    /// Since the oldest waiting application was submitted.
    pub oldest_seconds: i64,
}

/// What the triages of a period decided, per outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TriageOutcomes {
    /// The first day of the week or month of the triage.
    pub period: NaiveDate,
    pub gemeentecode: Option<Gemeentecode>,
    /// Admitted: an ICO.
    pub ico: u64,
    pub advice: u64,
    /// Referred to a local table.
    pub local_table: u64,
    pub not_accepted: u64,
}

/// ICOs opened and closed in a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IcoFlow {
    pub period: NaiveDate,
    pub gemeentecode: Option<Gemeentecode>,
    pub opened: u64,
    pub closed: u64,
}

/// ICOs closed in a period for one reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IcoClosures {
    pub period: NaiveDate,
    pub gemeentecode: Option<Gemeentecode>,
    pub reason: IcoCloseReason,
    pub count: u64,
}

/// Dead letters of one service in a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DeadLetterCount {
    pub period: NaiveDate,
    pub service: String,
    pub count: u64,
}

/// The nearest-rank percentile `p` (0 < p ≤ 1) of `sorted` (ascending); `None` when empty.
pub fn percentile(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

pub mod csv {
    //! Figures as CSV files for Dutch spreadsheets: UTF-8 with a byte-order mark (so Excel reads
    //! the accents), `;` as separator and a decimal comma (as Excel in a Dutch locale expects),
    //! CRLF line ends, Dutch column headings. One file per table.

    use super::*;

    /// The byte-order mark every file starts with.
    pub const BOM: &str = "\u{feff}";

    /// Every table of `figures` as `(file name, content)`.
    pub fn files(f: &Figures) -> Vec<(&'static str, String)> {
        let gm = |g: &Option<Gemeentecode>| {
            g.as_ref()
                .map_or_else(|| "regio".to_owned(), |g| g.as_str().to_owned())
        };
        let mut out = Vec::new();
        out.push((
            "meldingen.csv",
            table(
                &[
                    "periode",
                    "gemeente",
                    "soort melding",
                    "inrichting",
                    "aantal",
                ],
                f.notices_received.iter().map(|r| {
                    vec![
                        r.period.to_string(),
                        gm(&r.gemeentecode),
                        r.kind.as_str().to_owned(),
                        r.institution_code.clone(),
                        r.count.to_string(),
                    ]
                }),
            ),
        ));
        let durations = |rows: &[DurationFigure]| {
            table(
                &["periode", "gemeente", "aantal", "p50 (uren)", "p90 (uren)"],
                rows.iter().map(|r| {
                    vec![
                        r.period.to_string(),
                        gm(&r.gemeentecode),
                        r.count.to_string(),
                        decimal(r.p50_seconds as f64 / 3600.0),
                        decimal(r.p90_seconds as f64 / 3600.0),
                    ]
                }),
            )
        };
        out.push(("doorlooptijd-routering.csv", durations(&f.time_to_routing)));
        out.push((
            "doorlooptijd-eerste-claim.csv",
            durations(&f.time_to_first_claim),
        ));
        out.push((
            "voorwaarden-bij-ontslag.csv",
            table(
                &[
                    "periode",
                    "gemeente",
                    "voorwaarde",
                    "zaken",
                    "geregeld",
                    "niet van toepassing",
                    "open",
                    "geregeld (%)",
                ],
                f.conditions_at_release.iter().map(|r| {
                    vec![
                        r.period.to_string(),
                        gm(&r.gemeentecode),
                        r.condition.as_str().to_owned(),
                        r.cases.to_string(),
                        r.arranged.to_string(),
                        r.not_applicable.to_string(),
                        r.open.to_string(),
                        r.arranged_percent.map(decimal).unwrap_or_default(),
                    ]
                }),
            ),
        ));
        out.push((
            "ontslagen.csv",
            table(
                &[
                    "periode",
                    "gemeente",
                    "ontslagen",
                    "met open voorwaarden",
                    "open voorwaarden",
                ],
                f.releases.iter().map(|r| {
                    vec![
                        r.period.to_string(),
                        gm(&r.gemeentecode),
                        r.cases_released.to_string(),
                        r.with_open_conditions.to_string(),
                        r.open_conditions.to_string(),
                    ]
                }),
            ),
        ));
        out.push((
            "nog-niet-opgepakt.csv",
            table(
                &["gemeente", "leeftijd (werkdagen)", "zaken"],
                f.unclaimed_cases.iter().flat_map(|r| {
                    r.by_age.iter().map(move |a| {
                        vec![
                            gm(&r.gemeentecode),
                            a.working_days.to_string(),
                            a.count.to_string(),
                        ]
                    })
                }),
            ),
        ));
        out.push((
            "te-laat.csv",
            table(
                &[
                    "gemeente",
                    "1-2 werkdagen",
                    "3-5 werkdagen",
                    "meer dan 5 werkdagen",
                ],
                f.overdue_tasks.iter().map(|r| {
                    vec![
                        gm(&r.gemeentecode),
                        r.up_to_2_working_days.to_string(),
                        r.from_3_to_5_working_days.to_string(),
                        r.over_5_working_days.to_string(),
                    ]
                }),
            ),
        ));
        out.push((
            "zaken-geopend.csv",
            table(
                &["periode", "gemeente", "geopend", "spoed"],
                f.cases_opened.iter().map(|r| {
                    vec![
                        r.period.to_string(),
                        gm(&r.gemeentecode),
                        r.opened.to_string(),
                        r.spoed.to_string(),
                    ]
                }),
            ),
        ));
        out.push((
            "open-spoedzaken.csv",
            table(
                &["gemeente", "open spoedzaken"],
                f.open_spoed_cases
                    .iter()
                    .map(|r| vec![gm(&r.gemeentecode), r.count.to_string()]),
            ),
        ));
        out.push((
            "triage-wachtrij.csv",
            table(
                &["gemeente", "wachtend op triage", "oudste (dagen)"],
                f.triage_backlog.iter().map(|r| {
                    vec![
                        gm(&r.gemeentecode),
                        r.waiting.to_string(),
                        decimal(r.oldest_seconds as f64 / 86400.0),
                    ]
                }),
            ),
        ));
        out.push((
            "triage-uitkomsten.csv",
            table(
                &[
                    "periode",
                    "gemeente",
                    "ICO",
                    "advies",
                    "lokale tafel",
                    "niet aangenomen",
                ],
                f.triage_outcomes.iter().map(|r| {
                    vec![
                        r.period.to_string(),
                        gm(&r.gemeentecode),
                        r.ico.to_string(),
                        r.advice.to_string(),
                        r.local_table.to_string(),
                        r.not_accepted.to_string(),
                    ]
                }),
            ),
        ));
        out.push((
            "ico-geopend-gesloten.csv",
            table(
                &["periode", "gemeente", "geopend", "gesloten"],
                f.icos.iter().map(|r| {
                    vec![
                        r.period.to_string(),
                        gm(&r.gemeentecode),
                        r.opened.to_string(),
                        r.closed.to_string(),
                    ]
                }),
            ),
        ));
        out.push((
            "ico-afsluitredenen.csv",
            table(
                &["periode", "gemeente", "reden", "aantal"],
                f.ico_closures.iter().map(|r| {
                    vec![
                        r.period.to_string(),
                        gm(&r.gemeentecode),
                        r.reason.as_str().to_owned(),
                        r.count.to_string(),
                    ]
                }),
            ),
        ));
        out.push((
            "ico-open.csv",
            table(
                &["gemeente", "open ICO's"],
                f.icos_open
                    .iter()
                    .map(|r| vec![gm(&r.gemeentecode), r.count.to_string()]),
            ),
        ));
        if let Some(b) = &f.manual_routing {
            let hours = |s: Option<i64>| s.map(|s| decimal(s as f64 / 3600.0)).unwrap_or_default();
            out.push((
                "handmatige-routering.csv",
                table(
                    &["wachtend", "oudste (uren)", "mediaan (uren)"],
                    [vec![
                        b.waiting.to_string(),
                        hours(b.oldest_seconds),
                        hours(b.median_seconds),
                    ]],
                ),
            ));
        }
        if let Some(rows) = &f.forwards_unacknowledged {
            let mut lines: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        r.target_region.clone(),
                        r.waiting.to_string(),
                        decimal(r.oldest_seconds as f64 / 3600.0),
                    ]
                })
                .collect();
            if let Some(n) = f.forwards_by_hand {
                lines.push(vec![
                    "(met de hand door te sturen)".into(),
                    n.to_string(),
                    String::new(),
                ]);
            }
            out.push((
                "doorgestuurd-onbevestigd.csv",
                table(&["regio", "wachtend", "oudste (uren)"], lines),
            ));
        }
        if let Some(rows) = &f.dead_letters {
            out.push((
                "dead-letters.csv",
                table(
                    &["periode", "dienst", "aantal"],
                    rows.iter().map(|r| {
                        vec![r.period.to_string(), r.service.clone(), r.count.to_string()]
                    }),
                ),
            ));
        }
        out
    }

    /// A CSV file: BOM, a heading line, then one line per row.
    pub fn table<I: IntoIterator<Item = Vec<String>>>(headings: &[&str], rows: I) -> String {
        let mut s = String::from(BOM);
        line(&mut s, headings.iter().copied());
        for row in rows {
            line(&mut s, row.iter().map(String::as_str));
        }
        s
    }

    fn line<'a>(s: &mut String, fields: impl Iterator<Item = &'a str>) {
        for (i, field) in fields.enumerate() {
            if i > 0 {
                s.push(';');
            }
            if field.contains([';', '"', '\n', '\r']) {
                s.push('"');
                s.push_str(&field.replace('"', "\"\""));
                s.push('"');
            } else {
                s.push_str(field);
            }
        }
        s.push_str("\r\n");
    }

    /// One decimal, with a comma: `62,5`.
    pub fn decimal(v: f64) -> String {
        format!("{v:.1}").replace('.', ",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[7], 0.9), Some(7));
        assert_eq!(percentile(&[10, 20], 0.5), Some(10));
        assert_eq!(percentile(&[10, 20], 0.9), Some(20));
        let ten: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&ten, 0.5), Some(5));
        assert_eq!(percentile(&ten, 0.9), Some(9));
    }

    #[test]
    fn a_request_defaults_to_the_last_year_and_refuses_a_reversed_or_huge_range() {
        let today = day("2026-12-02");
        let r = FiguresRequest::from_json(b"").unwrap();
        assert_eq!(r.granularity, Granularity::Month);
        assert_eq!(r.range(today).unwrap(), (day("2025-12-02"), today));
        let r = FiguresRequest::from_json(br#"{"from":"2026-12-03","to":"2026-12-01"}"#).unwrap();
        assert_eq!(r.range(today).unwrap_err().path, "from");
        let r = FiguresRequest::from_json(br#"{"from":"2010-01-01"}"#).unwrap();
        assert!(r.range(today).unwrap_err().message.contains("at most"));
        let e = FiguresRequest::from_json(br#"{"granularity":"day"}"#).unwrap_err();
        assert_eq!(e.path, "granularity");
        let e = FiguresRequest::from_json(br#"{"gemeentecode":"0392"}"#).unwrap_err();
        assert_eq!(e.path, "gemeentecode");
        assert!(FiguresRequest::from_json(br#"{"bsn":"123456782"}"#).is_err());
    }

    #[test]
    fn csv_files_have_a_bom_semicolons_and_decimal_commas() {
        let rows = vec![vec![
            "2026-11-01".to_owned(),
            "a;b".to_owned(),
            csv::decimal(62.5),
        ]];
        let t = csv::table(&["periode", "naam", "percentage"], rows);
        assert_eq!(
            t,
            "\u{feff}periode;naam;percentage\r\n2026-11-01;\"a;b\";62,5\r\n"
        );
        assert!(t.as_bytes().starts_with(&[0xEF, 0xBB, 0xBF]));
    }
}
