//! The CBS list of Dutch municipalities, built in from `municipalities/cbs.csv`: every code that
//! was a municipality since 2021, when it stopped being one and which municipality took it over.
//!
//! A [`Gemeentecode`] only promises the form `GM` + four digits; this list says whether such a
//! code is a municipality at all, and where a merged one's residents went. Intake refuses a code
//! the list does not know; the router follows a merged municipality to its successor and says so.
//! The file is parsed and checked once; a unit test proves the built-in file is valid. Updating it
//! is one documented step (its header, and the README's "Updating the municipality list").

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use chrono::NaiveDate;

use crate::value::Gemeentecode;

/// The built-in list, CBS's "Gemeentelijke indeling" with its mergers.
const CBS_CSV: &str = include_str!("../municipalities/cbs.csv");

/// One municipality as the list records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Municipality {
    pub code: Gemeentecode,
    pub name: String,
    /// The first day it existed; `None`: before the list's earliest date.
    pub valid_from: Option<NaiveDate>,
    /// The last day it existed; `None`: it still exists.
    pub valid_until: Option<NaiveDate>,
    /// The municipality that took it over; set exactly when `valid_until` is.
    pub successor: Option<Gemeentecode>,
}

impl Municipality {
    /// Whether it was a municipality on `day`.
    pub fn exists_on(&self, day: NaiveDate) -> bool {
        self.valid_from.is_none_or(|from| from <= day)
            && self.valid_until.is_none_or(|until| day <= until)
    }

    /// The day the merger took effect: the day after `valid_until`.
    pub fn merged_on(&self) -> Option<NaiveDate> {
        self.valid_until.and_then(|d| d.succ_opt())
    }
}

impl fmt::Display for Municipality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.code, self.name)
    }
}

/// What the list says about a code on a given day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution<'a> {
    /// A municipality on that day.
    Current(&'a Municipality),
    /// It had merged by that day; `chain` runs from the code asked about to the municipality
    /// responsible on that day (its last element), through any later mergers.
    Merged { chain: Vec<&'a Municipality> },
    /// A municipality only from a later day.
    NotYet(&'a Municipality),
    /// Not a municipality in the list at all.
    Unknown,
}

impl Resolution<'_> {
    /// The municipality responsible on the day asked about, if there is one.
    pub fn current(&self) -> Option<&Municipality> {
        match self {
            Resolution::Current(m) => Some(m),
            Resolution::Merged { chain } => chain.last().copied(),
            Resolution::NotYet(_) | Resolution::Unknown => None,
        }
    }

    /// For a merged code, the merger in words: `GM0457 (Weesp) merged into GM0363 (Amsterdam) on
    /// 2022-03-24`, a chain as `…, which merged into … on …`.
    pub fn merger_in_words(&self) -> Option<String> {
        let Resolution::Merged { chain } = self else {
            return None;
        };
        let mut words = String::new();
        for pair in chain.windows(2) {
            let (from, to) = (pair[0], pair[1]);
            let on = from.merged_on().map(|d| d.to_string()).unwrap_or_default();
            if words.is_empty() {
                words = format!("{from} merged into {to} on {on}");
            } else {
                words.push_str(&format!(", which merged into {to} on {on}"));
            }
        }
        Some(words)
    }
}

/// Why a municipality list was refused: the line and what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListError {
    #[error("the municipality list has no `# list-date: YYYY-MM-DD` line")]
    NoListDate,
    #[error("line {line}: {problem}")]
    Line { line: usize, problem: String },
    #[error("{code}: {problem}")]
    Entry { code: Gemeentecode, problem: String },
}

/// The list of municipalities: look-ups by code, and mergers followed to their successor.
#[derive(Debug, PartialEq, Eq)]
pub struct MunicipalityList {
    /// The date up to which the list is checked (its `list-date` line).
    pub list_date: NaiveDate,
    entries: Vec<Municipality>,
    index: HashMap<Gemeentecode, usize>,
}

impl MunicipalityList {
    /// The built-in CBS list, parsed once.
    pub fn builtin() -> &'static MunicipalityList {
        static LIST: OnceLock<MunicipalityList> = OnceLock::new();
        LIST.get_or_init(|| {
            Self::parse(CBS_CSV)
                .expect("the built-in municipality list is valid (a test proves it)")
        })
    }

    /// Every municipality the list records, in file order.
    pub fn all(&self) -> &[Municipality] {
        &self.entries
    }

    pub fn get(&self, code: &Gemeentecode) -> Option<&Municipality> {
        self.index.get(code).map(|&i| &self.entries[i])
    }

    /// What `code` is on `day`, following mergers to the municipality responsible then.
    pub fn resolve(&self, code: &Gemeentecode, day: NaiveDate) -> Resolution<'_> {
        let Some(first) = self.get(code) else {
            return Resolution::Unknown;
        };
        if first.valid_from.is_some_and(|from| day < from) {
            return Resolution::NotYet(first);
        }
        let mut chain = vec![first];
        let mut at = first;
        // Each successor outlives its predecessor (checked at parse), so this ends.
        while at.valid_until.is_some_and(|until| until < day) {
            match at.successor.as_ref().and_then(|s| self.get(s)) {
                Some(next) => {
                    chain.push(next);
                    at = next;
                }
                None => break,
            }
        }
        if chain.len() == 1 {
            Resolution::Current(first)
        } else {
            Resolution::Merged { chain }
        }
    }

    /// Whether `code` names a municipality that exists today in the list: not unknown, not
    /// merged. Region files must name such municipalities.
    pub fn current_entry(&self, code: &Gemeentecode) -> Option<&Municipality> {
        self.get(code).filter(|m| m.valid_until.is_none())
    }

    /// Parses and checks a list in the format of `municipalities/cbs.csv`.
    pub fn parse(text: &str) -> Result<MunicipalityList, ListError> {
        let mut list_date = None;
        let mut entries: Vec<Municipality> = Vec::new();
        let mut index = HashMap::new();
        let mut header_seen = false;
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let at = |problem: String| ListError::Line { line, problem };
            let text = raw.trim();
            if let Some(comment) = text.strip_prefix('#') {
                if let Some(date) = comment.trim().strip_prefix("list-date:") {
                    list_date = Some(parse_date(date.trim()).map_err(at)?);
                }
                continue;
            }
            if text.is_empty() {
                continue;
            }
            if !header_seen {
                if text != "code;name;valid_from;valid_until;successor" {
                    return Err(at(
                        "the first row must be the header code;name;valid_from;valid_until;successor"
                            .into(),
                    ));
                }
                header_seen = true;
                continue;
            }
            let m = parse_row(text).map_err(at)?;
            if index.insert(m.code.clone(), entries.len()).is_some() {
                return Err(at(format!("{} is listed twice", m.code)));
            }
            entries.push(m);
        }
        let list = MunicipalityList {
            list_date: list_date.ok_or(ListError::NoListDate)?,
            entries,
            index,
        };
        list.check_successors()?;
        Ok(list)
    }

    /// Every successor is in the list and exists on the day the merger took effect; so each step
    /// of a chain ends later than the one before, and no chain can loop.
    fn check_successors(&self) -> Result<(), ListError> {
        for m in &self.entries {
            let (Some(successor), Some(merged_on)) = (&m.successor, m.merged_on()) else {
                continue;
            };
            let problem = |problem: String| ListError::Entry {
                code: m.code.clone(),
                problem,
            };
            let Some(next) = self.get(successor) else {
                return Err(problem(format!(
                    "its successor {successor} is not in the list; add it"
                )));
            };
            if !next.exists_on(merged_on) {
                return Err(problem(format!(
                    "its successor {next} does not exist on {merged_on}, the day of the merger"
                )));
            }
        }
        Ok(())
    }
}

fn parse_row(text: &str) -> Result<Municipality, String> {
    let fields: Vec<&str> = text.split(';').map(str::trim).collect();
    let [code, name, from, until, successor] = fields[..] else {
        return Err(format!(
            "expected 5 fields separated by ';', found {}",
            fields.len()
        ));
    };
    let code = Gemeentecode::parse(code).map_err(|e| e.to_string())?;
    if name.is_empty() {
        return Err(format!("{code} has no name"));
    }
    let optional_date = |s: &str| (!s.is_empty()).then(|| parse_date(s)).transpose();
    let valid_from = optional_date(from)?;
    let valid_until = optional_date(until)?;
    let successor = if successor.is_empty() {
        None
    } else {
        Some(Gemeentecode::parse(successor).map_err(|e| e.to_string())?)
    };
    if let (Some(from), Some(until)) = (valid_from, valid_until)
        && until < from
    {
        return Err(format!("{code}: valid_until lies before valid_from"));
    }
    if valid_until.is_some() != successor.is_some() {
        return Err(format!(
            "{code}: a municipality that stopped (valid_until) needs a successor, and only then"
        ));
    }
    if successor.as_ref() == Some(&code) {
        return Err(format!("{code} cannot be its own successor"));
    }
    Ok(Municipality {
        code,
        name: name.to_owned(),
        valid_from,
        valid_until,
        successor,
    })
}

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("{s:?} is not a date; write YYYY-MM-DD"))
}

/// Why a gemeentecode a sender gave is not acceptable on `day` (the notice's date), in words for
/// the sender; `None` when it is a municipality, or was one that merged. Never repeats the code.
pub fn refusal(code: &Gemeentecode, day: NaiveDate) -> Option<String> {
    match MunicipalityList::builtin().resolve(code, day) {
        Resolution::Current(_) | Resolution::Merged { .. } => None,
        Resolution::NotYet(m) => Some(format!(
            "is a municipality only from {}, after this notice was sent; use the municipality \
             the person was registered in then",
            m.valid_from.map(|d| d.to_string()).unwrap_or_default()
        )),
        Resolution::Unknown => Some(
            "is not a municipality in the CBS list of Dutch municipalities; check the gemeentecode \
             in the BRP"
                .to_owned(),
        ),
    }
}
