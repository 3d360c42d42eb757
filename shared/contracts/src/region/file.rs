//! A region file as written, and the checks that turn its text into a [`RegionTable`] or refuse
//! it with a [`RegionFileError`] naming the entry, field and value to fix.
//!
//! It must never do I/O (the caller hands it the text) and never repair a value: what cannot be
//! read exactly as written is refused, not trimmed, clamped or guessed into shape.

use std::collections::HashMap;
use std::path::PathBuf;

use chrono::NaiveDate;
use serde::Deserialize;

use super::{Municipality, Neighbour, Pc4Range, RegionTable, build_index};
use crate::municipality::MunicipalityList;
use crate::subjects::Region;
use crate::value::Gemeentecode;

/// Why a region file was refused. Each message names the entry, field and value to fix.
#[derive(Debug, thiserror::Error)]
pub enum RegionFileError {
    #[error("cannot read the region file {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Wraps a content problem with the file it was found in. The problem is part of the message
    /// (not a `source`) so a single line tells the operator what to fix where.
    #[error("region file {}: {problem}", path.display())]
    InFile {
        path: PathBuf,
        problem: Box<RegionFileError>,
    },
    #[error("the region file is not valid TOML of the expected shape: {0}")]
    Syntax(String),
    #[error("{field} must not be empty")]
    Empty { field: String },
    #[error(
        "{field} {value:?} is not a valid slug: use 1 to 32 lower-case letters, digits or '-', \
         not starting with '-', like \"kennemerland\""
    )]
    Slug { field: String, value: String },
    #[error("{field} {value:?} is not a gemeentecode: write GM and four digits, like \"GM0392\"")]
    Gemeentecode { field: String, value: String },
    #[error("{field} {value:?} is not a PC4 or PC4 range: {problem}")]
    Pc4 {
        field: String,
        value: String,
        problem: &'static str,
    },
    #[error("the region lists no municipalities: add at least one [[municipalities]] entry")]
    NoMunicipalities,
    #[error("municipality {code} is listed twice (as {first} and as {second}): list it once")]
    DuplicateMunicipality {
        code: Gemeentecode,
        first: String,
        second: String,
    },
    #[error("centrumgemeente {code} is not a municipality of the region; choose one of {members}")]
    CentrumgemeenteNotMember { code: Gemeentecode, members: String },
    #[error(
        "neighbour {code} ({name}) is also a municipality of the region: a municipality is either \
         served here or a neighbour, list it in one place"
    )]
    NeighbourIsMember { code: Gemeentecode, name: String },
    #[error("neighbour {code} is listed twice: list it once")]
    DuplicateNeighbour { code: Gemeentecode },
    #[error("pc4_notes has more than one note for PC4 {pc4}: merge them into one")]
    DuplicatePc4Note { pc4: u16 },
    #[error(
        "{field} {code} is not a municipality in the CBS list of Dutch municipalities \
         (shared/contracts/municipalities/cbs.csv); check the code"
    )]
    NotInCbsList { field: String, code: Gemeentecode },
    #[error("{field} {code} merged into {successor} on {merged_on}; list {successor} instead")]
    MergedMunicipality {
        field: String,
        code: Gemeentecode,
        successor: String,
        merged_on: NaiveDate,
    },
}

pub(super) const PC4_NOT_NUMERIC: &str =
    "write four digits like \"2019\" or a range like \"2011-2015\"";
pub(super) const PC4_REVERSED: &str =
    "the first PC4 is greater than the last; write the lower one first, like \"2011-2015\"";
pub(super) const PC4_OUT_OF_RANGE: &str = "a PC4 lies between 1000 and 9999";

impl Pc4Range {
    /// Parses `"2019"` or `"2011-2015"`; an en dash is accepted because the domain tables use it.
    pub(super) fn parse(s: &str) -> Result<Self, &'static str> {
        let s = s.trim();
        let (first, last) = match s.split_once(['-', '–']) {
            Some((a, b)) => (parse_pc4(a.trim())?, parse_pc4(b.trim())?),
            None => {
                let one = parse_pc4(s)?;
                (one, one)
            }
        };
        if first > last {
            return Err(PC4_REVERSED);
        }
        Ok(Self { first, last })
    }
}

fn parse_pc4(s: &str) -> Result<u16, &'static str> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PC4_NOT_NUMERIC);
    }
    // Parsed wide so that "99999" reads as out of range rather than as an overflow.
    match s.parse::<u64>() {
        Ok(n @ 1000..=9999) => Ok(n as u16),
        _ => Err(PC4_OUT_OF_RANGE),
    }
}

/// Parses and checks a region file's text against a list of municipalities.
pub(super) fn parse(
    text: &str,
    cbs: &'static MunicipalityList,
) -> Result<RegionTable, RegionFileError> {
    let raw: RawRegion = toml::from_str(text)
        .map_err(|e| RegionFileError::Syntax(e.to_string().trim_end().to_owned()))?;
    raw.validate(cbs)
}

/// A code the file names must be a municipality today: not unknown to CBS, not merged away.
fn check_current(
    cbs: &MunicipalityList,
    field: String,
    code: &Gemeentecode,
) -> Result<(), RegionFileError> {
    match cbs.get(code) {
        None => Err(RegionFileError::NotInCbsList {
            field,
            code: code.clone(),
        }),
        Some(m) => match (&m.successor, m.merged_on()) {
            (Some(successor), Some(merged_on)) => Err(RegionFileError::MergedMunicipality {
                field,
                code: code.clone(),
                successor: cbs
                    .get(successor)
                    .map_or_else(|| successor.to_string(), ToString::to_string),
                merged_on,
            }),
            _ => Ok(()),
        },
    }
}

/// The file as written; every value is a string so a refusal can quote it and name its entry.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegion {
    name: String,
    slug: String,
    centrumgemeente: String,
    municipalities: Vec<RawMunicipality>,
    #[serde(default)]
    neighbours: Vec<RawNeighbour>,
    #[serde(default)]
    pc4_notes: Vec<RawPc4Note>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMunicipality {
    code: String,
    name: String,
    residential_pc4: Vec<String>,
    #[serde(default)]
    po_box_pc4: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNeighbour {
    code: String,
    name: String,
    #[serde(default)]
    region: Option<String>,
    pc4: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPc4Note {
    pc4: i64,
    note: String,
}

fn parse_non_empty(field: &str, value: &str) -> Result<String, RegionFileError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(RegionFileError::Empty {
            field: field.to_owned(),
        });
    }
    Ok(value.to_owned())
}

fn parse_slug(field: &str, value: &str) -> Result<String, RegionFileError> {
    // The same rule as a subject's region segment, because the slug becomes one.
    Region::parse(value)
        .map(|r| r.as_str().to_owned())
        .map_err(|_| RegionFileError::Slug {
            field: field.to_owned(),
            value: value.to_owned(),
        })
}

fn parse_code(field: &str, value: &str) -> Result<Gemeentecode, RegionFileError> {
    Gemeentecode::parse(value).map_err(|_| RegionFileError::Gemeentecode {
        field: field.to_owned(),
        value: value.to_owned(),
    })
}

fn parse_ranges(field: &str, values: &[String]) -> Result<Vec<Pc4Range>, RegionFileError> {
    values
        .iter()
        .map(|v| {
            Pc4Range::parse(v).map_err(|problem| RegionFileError::Pc4 {
                field: field.to_owned(),
                value: v.clone(),
                problem,
            })
        })
        .collect()
}

impl RawRegion {
    fn validate(self, cbs: &'static MunicipalityList) -> Result<RegionTable, RegionFileError> {
        let name = parse_non_empty("name", &self.name)?;
        let slug = parse_slug("slug", &self.slug)?;
        let centrumgemeente = parse_code("centrumgemeente", &self.centrumgemeente)?;
        if self.municipalities.is_empty() {
            return Err(RegionFileError::NoMunicipalities);
        }

        let mut municipalities: Vec<Municipality> = Vec::new();
        for (i, m) in self.municipalities.iter().enumerate() {
            let m_name = parse_non_empty(&format!("municipalities[{i}].name"), &m.name)?;
            let field = format!("municipality {m_name}: code");
            let code = parse_code(&field, &m.code)?;
            check_current(cbs, field, &code)?;
            if let Some(first) = municipalities.iter().find(|x| x.code == code) {
                return Err(RegionFileError::DuplicateMunicipality {
                    code,
                    first: first.name.clone(),
                    second: m_name,
                });
            }
            let label = format!("municipality {m_name} ({code})");
            municipalities.push(Municipality {
                residential_pc4: parse_ranges(
                    &format!("{label}: residential_pc4"),
                    &m.residential_pc4,
                )?,
                po_box_pc4: parse_ranges(&format!("{label}: po_box_pc4"), &m.po_box_pc4)?,
                code,
                name: m_name,
            });
        }
        if !municipalities.iter().any(|m| m.code == centrumgemeente) {
            let members: Vec<String> = municipalities
                .iter()
                .map(|m| format!("{} ({})", m.code, m.name))
                .collect();
            return Err(RegionFileError::CentrumgemeenteNotMember {
                code: centrumgemeente,
                members: members.join(", "),
            });
        }

        let mut neighbours: Vec<Neighbour> = Vec::new();
        for (i, n) in self.neighbours.iter().enumerate() {
            let n_name = parse_non_empty(&format!("neighbours[{i}].name"), &n.name)?;
            let field = format!("neighbour {n_name}: code");
            let code = parse_code(&field, &n.code)?;
            check_current(cbs, field, &code)?;
            if municipalities.iter().any(|m| m.code == code) {
                return Err(RegionFileError::NeighbourIsMember { code, name: n_name });
            }
            if neighbours.iter().any(|x| x.code == code) {
                return Err(RegionFileError::DuplicateNeighbour { code });
            }
            let label = format!("neighbour {n_name} ({code})");
            let region = match &n.region {
                Some(r) => Some(parse_slug(&format!("{label}: region"), r)?),
                None => None,
            };
            neighbours.push(Neighbour {
                pc4: parse_ranges(&format!("{label}: pc4"), &n.pc4)?,
                code,
                name: n_name,
                region,
            });
        }

        let mut pc4_notes = HashMap::new();
        for n in &self.pc4_notes {
            let pc4 = u16::try_from(n.pc4)
                .ok()
                .filter(|p| (1000..=9999).contains(p))
                .ok_or_else(|| RegionFileError::Pc4 {
                    field: "pc4_notes: pc4".to_owned(),
                    value: n.pc4.to_string(),
                    problem: PC4_OUT_OF_RANGE,
                })?;
            let note = parse_non_empty(&format!("pc4_notes: note for {pc4}"), &n.note)?;
            if pc4_notes.insert(pc4, note).is_some() {
                return Err(RegionFileError::DuplicatePc4Note { pc4 });
            }
        }

        Ok(RegionTable {
            pc4_index: build_index(&municipalities, &neighbours),
            name,
            slug,
            centrumgemeente,
            municipalities,
            neighbours,
            pc4_notes,
            cbs,
        })
    }
}
