//! The region one RCN serves, as data: its municipalities with their PC4 areas, the neighbours a
//! notice may be forwarded to, and boundary notes for the coordinator. It is read from a TOML file
//! (`regions/<slug>.toml`) so another ZVH can run the same product by writing its own file;
//! Kennemerland's file is built in.
//!
//! A file is checked once, at load, and refused with a message naming the entry, field and value.
//! This module must never guess: a PC4 claimed twice stays [`Pc4Match::Ambiguous`] and an unlisted
//! one stays [`Pc4Match::Unknown`]; what to do about that is the router's decision. Apart from
//! [`RegionTable::load`] reading the file an operator names, it must never do I/O.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::subjects::Region;
use crate::value::Gemeentecode;

/// Kennemerland's region file, compiled in so the product runs without any file on disk.
const KENNEMERLAND_TOML: &str = include_str!("../regions/kennemerland.toml");

/// The region one RCN serves. Built only by loading a file, so the PC4 index always agrees with
/// the public lists; treat those lists as read-only (changing them does not update the index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionTable {
    /// The name people use, shown in reasons and screens: `Kennemerland`.
    pub name: String,
    /// The region segment of every subject (`rcn.<slug>.…`), checked like [`Region`].
    pub slug: String,
    /// The centrumgemeente the RCN coordinator may make responsible when no rule can; a member.
    pub centrumgemeente: Gemeentecode,
    /// The members: their staff work the cases of their residents here. In file order.
    pub municipalities: Vec<Municipality>,
    /// Municipalities served by another RCN, listed so their notices are recognised as out of
    /// region (and forwarded) instead of landing in the manual queue.
    pub neighbours: Vec<Neighbour>,
    /// The answer for every listed PC4, computed at load so routing is one hash look-up.
    pc4_index: HashMap<u16, Pc4Match>,
    /// Boundary knowledge per PC4 (a split village, say), quoted in routing reasons.
    pc4_notes: HashMap<u16, String>,
}

/// A municipality of the region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Municipality {
    /// Gemeentecode: the CBS code, `GM0392`.
    pub code: Gemeentecode,
    pub name: String,
    /// PC4 areas where people live.
    pub residential_pc4: Vec<Pc4Range>,
    /// PC4 areas of PO boxes only: nobody lives there, so a match is a weaker signal.
    pub po_box_pc4: Vec<Pc4Range>,
}

/// A municipality outside the region whose PC4 areas border it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neighbour {
    pub code: Gemeentecode,
    pub name: String,
    /// The slug of the rcn region that serves it, where notices are forwarded; `None` when not
    /// known, and then an RCN coordinator forwards by hand.
    pub region: Option<String>,
    pub pc4: Vec<Pc4Range>,
}

/// An inclusive range of PC4 areas; a single PC4 has `first == last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pc4Range {
    pub first: u16,
    pub last: u16,
}

/// What kind of area a member's PC4 is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pc4Kind {
    Residential,
    PoBox,
}

/// What the region table says about one PC4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pc4Match {
    /// In exactly one member municipality.
    Member { code: Gemeentecode, kind: Pc4Kind },
    /// In exactly one neighbour, so outside the region.
    Neighbour { code: Gemeentecode },
    /// Claimed by more than one municipality (members or neighbours); candidates sorted.
    Ambiguous { candidates: Vec<Gemeentecode> },
    /// Neither in the region nor in a listed neighbour.
    Unknown,
}

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
}

const PC4_NOT_NUMERIC: &str = "write four digits like \"2019\" or a range like \"2011-2015\"";
const PC4_REVERSED: &str =
    "the first PC4 is greater than the last; write the lower one first, like \"2011-2015\"";
const PC4_OUT_OF_RANGE: &str = "a PC4 lies between 1000 and 9999";

impl Pc4Range {
    pub fn contains(self, pc4: u16) -> bool {
        (self.first..=self.last).contains(&pc4)
    }

    /// Every PC4 in the range.
    pub fn iter(self) -> std::ops::RangeInclusive<u16> {
        self.first..=self.last
    }

    /// Parses `"2019"` or `"2011-2015"`; an en dash is accepted because the domain tables use it.
    fn parse(s: &str) -> Result<Self, &'static str> {
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

impl fmt::Display for Pc4Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}-{}", self.first, self.last)
        }
    }
}

impl Pc4Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Pc4Kind::Residential => "residential",
            Pc4Kind::PoBox => "po_box",
        }
    }
}

impl RegionTable {
    /// The built-in region of RCN Kennemerland.
    pub fn kennemerland() -> RegionTable {
        Self::from_toml(KENNEMERLAND_TOML)
            .expect("the built-in Kennemerland region file is valid (a unit test proves it)")
    }

    /// Parses and checks a region file's text.
    pub fn from_toml(text: &str) -> Result<RegionTable, RegionFileError> {
        let raw: RawRegion = toml::from_str(text)
            .map_err(|e| RegionFileError::Syntax(e.to_string().trim_end().to_owned()))?;
        raw.validate()
    }

    /// Reads and checks a region file; a content problem is reported with the file's path.
    pub fn load(path: &Path) -> Result<RegionTable, RegionFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| RegionFileError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text).map_err(|problem| RegionFileError::InFile {
            path: path.to_owned(),
            problem: Box::new(problem),
        })
    }

    pub fn municipality(&self, code: &Gemeentecode) -> Option<&Municipality> {
        self.municipalities.iter().find(|m| &m.code == code)
    }

    pub fn is_member(&self, code: &Gemeentecode) -> bool {
        self.municipality(code).is_some()
    }

    pub fn neighbour(&self, code: &Gemeentecode) -> Option<&Neighbour> {
        self.neighbours.iter().find(|n| &n.code == code)
    }

    /// What the table says about a PC4. Only a fallback for routing: PC4 areas do not always
    /// follow municipal borders.
    pub fn lookup_pc4(&self, pc4: u16) -> Pc4Match {
        self.pc4_index
            .get(&pc4)
            .cloned()
            .unwrap_or(Pc4Match::Unknown)
    }

    /// The boundary note for a PC4, if the file has one.
    pub fn pc4_note(&self, pc4: u16) -> Option<&str> {
        self.pc4_notes.get(&pc4).map(String::as_str)
    }

    /// Every PC4 the file lists, sorted by PC4 then code: members with `Some(kind)`, neighbours
    /// with `None`. A PC4 listed twice appears twice.
    pub fn pc4_entries(&self) -> Vec<(u16, Gemeentecode, Option<Pc4Kind>)> {
        entries(&self.municipalities, &self.neighbours)
    }
}

fn entries(
    municipalities: &[Municipality],
    neighbours: &[Neighbour],
) -> Vec<(u16, Gemeentecode, Option<Pc4Kind>)> {
    let mut out = Vec::new();
    for m in municipalities {
        for (ranges, kind) in [
            (&m.residential_pc4, Pc4Kind::Residential),
            (&m.po_box_pc4, Pc4Kind::PoBox),
        ] {
            for pc4 in ranges.iter().flat_map(|r| r.iter()) {
                out.push((pc4, m.code.clone(), Some(kind)));
            }
        }
    }
    for n in neighbours {
        for pc4 in n.pc4.iter().flat_map(|r| r.iter()) {
            out.push((pc4, n.code.clone(), None));
        }
    }
    out.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    out
}

/// One answer per PC4. A municipality listing a PC4 as both residential and PO box is still one
/// candidate, and counts as residential: people live there.
fn build_index(
    municipalities: &[Municipality],
    neighbours: &[Neighbour],
) -> HashMap<u16, Pc4Match> {
    let mut claims: HashMap<u16, Vec<(Gemeentecode, Option<Pc4Kind>)>> = HashMap::new();
    for (pc4, code, kind) in entries(municipalities, neighbours) {
        claims.entry(pc4).or_default().push((code, kind));
    }
    claims
        .into_iter()
        .map(|(pc4, claims)| {
            let mut codes: Vec<Gemeentecode> = claims.iter().map(|(c, _)| c.clone()).collect();
            codes.sort();
            codes.dedup();
            let answer = match codes.len() {
                1 => {
                    let code = codes.remove(0);
                    let kinds: Vec<_> = claims.iter().filter_map(|(_, k)| *k).collect();
                    if kinds.is_empty() {
                        Pc4Match::Neighbour { code }
                    } else if kinds.contains(&Pc4Kind::Residential) {
                        Pc4Match::Member {
                            code,
                            kind: Pc4Kind::Residential,
                        }
                    } else {
                        Pc4Match::Member {
                            code,
                            kind: Pc4Kind::PoBox,
                        }
                    }
                }
                _ => Pc4Match::Ambiguous { candidates: codes },
            };
            (pc4, answer)
        })
        .collect()
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
    fn validate(self) -> Result<RegionTable, RegionFileError> {
        let name = parse_non_empty("name", &self.name)?;
        let slug = parse_slug("slug", &self.slug)?;
        let centrumgemeente = parse_code("centrumgemeente", &self.centrumgemeente)?;
        if self.municipalities.is_empty() {
            return Err(RegionFileError::NoMunicipalities);
        }

        let mut municipalities: Vec<Municipality> = Vec::new();
        for (i, m) in self.municipalities.iter().enumerate() {
            let m_name = parse_non_empty(&format!("municipalities[{i}].name"), &m.name)?;
            let code = parse_code(&format!("municipality {m_name}: code"), &m.code)?;
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
            let code = parse_code(&format!("neighbour {n_name}: code"), &n.code)?;
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
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gm(s: &str) -> Gemeentecode {
        Gemeentecode::parse(s).expect("test gemeentecode is valid")
    }

    /// DOMAIN.md's region table, typed in by hand so the built-in file is checked against it and
    /// not against itself: (code, name, residential ranges, PO-box ranges).
    type Row = (
        &'static str,
        &'static str,
        &'static [(u16, u16)],
        &'static [(u16, u16)],
    );
    const DOMAIN_TABLE: &[Row] = &[
        (
            "GM0392",
            "Haarlem",
            &[
                (2011, 2015),
                (2019, 2019),
                (2021, 2026),
                (2031, 2037),
                (2063, 2063),
            ],
            &[(2000, 2010)],
        ),
        (
            "GM0473",
            "Zandvoort",
            &[(2041, 2042), (2116, 2116)],
            &[(2040, 2040)],
        ),
        (
            "GM0377",
            "Bloemendaal",
            &[
                (2051, 2051),
                (2061, 2061),
                (2111, 2111),
                (2114, 2114),
                (2121, 2121),
            ],
            &[(2050, 2050), (2060, 2060), (2120, 2120)],
        ),
        ("GM0397", "Heemstede", &[(2101, 2106)], &[(2100, 2100)]),
        (
            "GM0453",
            "Velsen",
            &[
                (1951, 1951),
                (1971, 1976),
                (1981, 1981),
                (1985, 1985),
                (1991, 1992),
                (2071, 2071),
                (2082, 2082),
            ],
            &[
                (1950, 1950),
                (1970, 1970),
                (1980, 1980),
                (1990, 1990),
                (2070, 2070),
                (2080, 2080),
            ],
        ),
        ("GM0375", "Beverwijk", &[(1941, 1949)], &[(1940, 1940)]),
        ("GM0396", "Heemskerk", &[(1961, 1969)], &[(1960, 1960)]),
        ("GM0450", "Uitgeest", &[(1911, 1911)], &[(1910, 1910)]),
    ];

    const HAARLEMMERMEER: &[(u16, u16)] = &[
        (1117, 1119),
        (1161, 1161),
        (1165, 1165),
        (1171, 1171),
        (1175, 1175),
        (1435, 1438),
        (2064, 2064),
        (2065, 2065),
        (2131, 2136),
        (2141, 2144),
        (2151, 2158),
        (2165, 2165),
    ];

    const SMALL: &str = r#"
name = "Testregio"
slug = "testregio"
centrumgemeente = "GM0001"

[[municipalities]]
code = "GM0001"
name = "Eerstedam"
residential_pc4 = ["1001-1003"]
po_box_pc4 = ["1000"]

[[municipalities]]
code = "GM0002"
name = "Tweedorp"
residential_pc4 = ["1011"]

[[neighbours]]
code = "GM0009"
name = "Buurstad"
pc4 = ["1021"]

[[pc4_notes]]
pc4 = 1011
note = "Tweedorp-Noord"
"#;

    fn refusal(text: &str) -> String {
        RegionTable::from_toml(text)
            .expect_err("the file must be refused")
            .to_string()
    }

    #[test]
    fn the_built_in_region_parses_with_eight_members() {
        let r = RegionTable::kennemerland();
        assert_eq!(
            (r.name.as_str(), r.slug.as_str()),
            ("Kennemerland", "kennemerland")
        );
        assert_eq!(r.centrumgemeente, gm("GM0392"));
        assert_eq!(r.municipalities.len(), 8);
        let hm = r
            .neighbour(&gm("GM0394"))
            .expect("Haarlemmermeer is a neighbour");
        assert_eq!(hm.name, "Haarlemmermeer");
        assert_eq!(hm.region.as_deref(), Some("amsterdam-amstelland"));
        assert!(!r.is_member(&gm("GM0394")));
    }

    #[test]
    fn every_pc4_in_the_domain_table_maps_as_stated() {
        let r = RegionTable::kennemerland();
        let mut expected = Vec::new();
        for (code, name, residential, po_box) in DOMAIN_TABLE {
            let code = gm(code);
            assert_eq!(r.municipality(&code).map(|m| m.name.as_str()), Some(*name));
            assert!(r.is_member(&code));
            for (ranges, kind) in [
                (*residential, Pc4Kind::Residential),
                (*po_box, Pc4Kind::PoBox),
            ] {
                for pc4 in ranges.iter().flat_map(|(a, b)| *a..=*b) {
                    let want = Pc4Match::Member {
                        code: code.clone(),
                        kind,
                    };
                    assert_eq!(r.lookup_pc4(pc4), want, "PC4 {pc4}");
                    expected.push((pc4, code.clone(), Some(kind)));
                }
            }
        }
        let hm = gm("GM0394");
        for pc4 in HAARLEMMERMEER.iter().flat_map(|(a, b)| *a..=*b) {
            assert_eq!(
                r.lookup_pc4(pc4),
                Pc4Match::Neighbour { code: hm.clone() },
                "PC4 {pc4}"
            );
            expected.push((pc4, hm.clone(), None));
        }
        // Nothing beyond the domain table: the file claims exactly these PC4s, each once.
        expected.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        assert_eq!(r.pc4_entries(), expected);
    }

    #[test]
    fn boundary_pc4s_map_to_the_right_side() {
        let r = RegionTable::kennemerland();
        let residential = |code| Pc4Match::Member {
            code: gm(code),
            kind: Pc4Kind::Residential,
        };
        assert_eq!(r.lookup_pc4(2063), residential("GM0392"));
        assert_eq!(
            r.lookup_pc4(2064),
            Pc4Match::Neighbour { code: gm("GM0394") }
        );
        assert_eq!(r.lookup_pc4(2116), residential("GM0473"));
        assert_eq!(
            r.lookup_pc4(1117),
            Pc4Match::Neighbour { code: gm("GM0394") }
        );
        for pc4 in 2000..=2010 {
            let want = Pc4Match::Member {
                code: gm("GM0392"),
                kind: Pc4Kind::PoBox,
            };
            assert_eq!(r.lookup_pc4(pc4), want, "PC4 {pc4}");
        }
        for pc4 in [1234, 1000, 9999, 2016, 2062, 0, u16::MAX] {
            assert_eq!(r.lookup_pc4(pc4), Pc4Match::Unknown, "PC4 {pc4}");
        }
    }

    #[test]
    fn the_spaarndam_and_bentveld_notes_are_found_by_pc4() {
        let r = RegionTable::kennemerland();
        assert!(r.pc4_note(2063).is_some_and(|n| n.contains("Spaarndam")));
        assert!(r.pc4_note(2064).is_some_and(|n| n.contains("Spaarndam")));
        assert!(r.pc4_note(2116).is_some_and(|n| n.contains("Bentveld")));
        assert_eq!(r.pc4_note(2011), None);
    }

    #[test]
    fn a_small_file_parses_ranges_kinds_and_notes() {
        let r = RegionTable::from_toml(SMALL).expect("valid");
        assert_eq!(
            r.municipalities[0].residential_pc4,
            [Pc4Range {
                first: 1001,
                last: 1003
            }]
        );
        assert_eq!(
            r.lookup_pc4(1000),
            Pc4Match::Member {
                code: gm("GM0001"),
                kind: Pc4Kind::PoBox
            }
        );
        assert_eq!(
            r.lookup_pc4(1021),
            Pc4Match::Neighbour { code: gm("GM0009") }
        );
        assert_eq!(r.neighbours[0].region, None);
        assert_eq!(r.pc4_note(1011), Some("Tweedorp-Noord"));
        assert_eq!(r.pc4_entries().len(), 4 + 1 + 1);
    }

    #[test]
    fn a_pc4_claimed_twice_is_ambiguous_with_sorted_candidates() {
        // 1011 claimed by both members and the neighbour; listed in reverse code order.
        let text = SMALL
            .replace(r#"pc4 = ["1021"]"#, r#"pc4 = ["1021", "1011"]"#)
            .replace(
                r#"po_box_pc4 = ["1000"]"#,
                r#"po_box_pc4 = ["1000", "1011"]"#,
            );
        let r = RegionTable::from_toml(&text).expect("an overlap is not an error");
        let candidates = vec![gm("GM0001"), gm("GM0002"), gm("GM0009")];
        assert_eq!(r.lookup_pc4(1011), Pc4Match::Ambiguous { candidates });
        assert_eq!(
            r.lookup_pc4(1001),
            Pc4Match::Member {
                code: gm("GM0001"),
                kind: Pc4Kind::Residential
            }
        );
    }

    #[test]
    fn a_pc4_listed_twice_by_one_municipality_is_not_ambiguous() {
        let text = SMALL.replace(
            r#"po_box_pc4 = ["1000"]"#,
            r#"po_box_pc4 = ["1000", "1002"]"#,
        );
        let r = RegionTable::from_toml(&text).expect("valid");
        let want = Pc4Match::Member {
            code: gm("GM0001"),
            kind: Pc4Kind::Residential,
        };
        assert_eq!(r.lookup_pc4(1002), want);
    }

    #[test]
    fn pc4_ranges_read_and_print_both_forms() {
        assert_eq!(
            Pc4Range::parse(" 2011 - 2015 "),
            Ok(Pc4Range {
                first: 2011,
                last: 2015
            })
        );
        assert_eq!(
            Pc4Range::parse("2011–2015"),
            Ok(Pc4Range {
                first: 2011,
                last: 2015
            })
        );
        assert_eq!(
            Pc4Range::parse("2019"),
            Ok(Pc4Range {
                first: 2019,
                last: 2019
            })
        );
        assert_eq!(
            Pc4Range {
                first: 2011,
                last: 2015
            }
            .to_string(),
            "2011-2015"
        );
        assert_eq!(
            Pc4Range {
                first: 2019,
                last: 2019
            }
            .to_string(),
            "2019"
        );
        for bad in ["", "-", "20a1", "2011-", "+2011", "2011-2015-2019"] {
            assert_eq!(Pc4Range::parse(bad), Err(PC4_NOT_NUMERIC), "{bad:?}");
        }
        for bad in ["0999", "999", "10000", "99999999999999999999"] {
            assert_eq!(Pc4Range::parse(bad), Err(PC4_OUT_OF_RANGE), "{bad:?}");
        }
    }

    #[test]
    fn a_reversed_range_is_refused_naming_the_municipality_and_value() {
        let msg = refusal(&SMALL.replace("1001-1003", "1003-1001"));
        assert_eq!(
            msg,
            "municipality Eerstedam (GM0001): residential_pc4 \"1003-1001\" is not a PC4 or PC4 \
             range: the first PC4 is greater than the last; write the lower one first, like \
             \"2011-2015\""
        );
    }

    #[test]
    fn a_non_numeric_pc4_is_refused() {
        let msg = refusal(&SMALL.replace(r#"po_box_pc4 = ["1000"]"#, r#"po_box_pc4 = ["10OO"]"#));
        assert_eq!(
            msg,
            "municipality Eerstedam (GM0001): po_box_pc4 \"10OO\" is not a PC4 or PC4 range: \
             write four digits like \"2019\" or a range like \"2011-2015\""
        );
    }

    #[test]
    fn a_pc4_outside_1000_to_9999_is_refused() {
        let msg = refusal(&SMALL.replace(r#"pc4 = ["1021"]"#, r#"pc4 = ["0999"]"#));
        assert_eq!(
            msg,
            "neighbour Buurstad (GM0009): pc4 \"0999\" is not a PC4 or PC4 range: a PC4 lies \
             between 1000 and 9999"
        );
        let msg = refusal(&SMALL.replace("pc4 = 1011", "pc4 = 10110"));
        assert_eq!(
            msg,
            "pc4_notes: pc4 \"10110\" is not a PC4 or PC4 range: a PC4 lies between 1000 and 9999"
        );
    }

    #[test]
    fn a_bad_gemeentecode_is_refused_naming_the_municipality() {
        let msg = refusal(&SMALL.replace(r#"code = "GM0002""#, r#"code = "GM002""#));
        assert_eq!(
            msg,
            "municipality Tweedorp: code \"GM002\" is not a gemeentecode: write GM and four \
             digits, like \"GM0392\""
        );
        let msg = refusal(&SMALL.replace(
            r#"centrumgemeente = "GM0001""#,
            r#"centrumgemeente = "0001""#,
        ));
        assert!(
            msg.starts_with("centrumgemeente \"0001\" is not a gemeentecode"),
            "{msg}"
        );
    }

    #[test]
    fn a_duplicate_municipality_is_refused() {
        let msg = refusal(&SMALL.replace(r#"code = "GM0002""#, r#"code = "GM0001""#));
        assert_eq!(
            msg,
            "municipality GM0001 is listed twice (as Eerstedam and as Tweedorp): list it once"
        );
    }

    #[test]
    fn an_empty_municipality_list_is_refused() {
        let text = r#"
name = "Leeg"
slug = "leeg"
centrumgemeente = "GM0001"
municipalities = []
"#;
        assert_eq!(
            refusal(text),
            "the region lists no municipalities: add at least one [[municipalities]] entry"
        );
    }

    #[test]
    fn a_centrumgemeente_outside_the_region_is_refused() {
        let msg = refusal(&SMALL.replace(
            r#"centrumgemeente = "GM0001""#,
            r#"centrumgemeente = "GM0009""#,
        ));
        assert_eq!(
            msg,
            "centrumgemeente GM0009 is not a municipality of the region; choose one of GM0001 \
             (Eerstedam), GM0002 (Tweedorp)"
        );
    }

    #[test]
    fn a_bad_slug_is_refused() {
        let too_long = "a".repeat(33);
        for bad in [
            "Kennemerland",
            "kennemer land",
            "",
            "-kennemerland",
            too_long.as_str(),
        ] {
            let msg = refusal(&SMALL.replace(r#"slug = "testregio""#, &format!("slug = {bad:?}")));
            assert_eq!(
                msg,
                format!(
                    "slug {bad:?} is not a valid slug: use 1 to 32 lower-case letters, digits or \
                     '-', not starting with '-', like \"kennemerland\""
                )
            );
        }
        let text = SMALL.replace(
            r#"name = "Buurstad""#,
            "name = \"Buurstad\"\nregion = \"Noord Holland\"",
        );
        assert!(
            refusal(&text).starts_with(
                "neighbour Buurstad (GM0009): region \"Noord Holland\" is not a valid slug"
            ),
            "{}",
            refusal(&text)
        );
    }

    #[test]
    fn a_neighbour_that_is_also_a_member_or_listed_twice_is_refused() {
        let msg = refusal(&SMALL.replace(r#"code = "GM0009""#, r#"code = "GM0002""#));
        assert_eq!(
            msg,
            "neighbour GM0002 (Buurstad) is also a municipality of the region: a municipality is \
             either served here or a neighbour, list it in one place"
        );
        let twice =
            format!("{SMALL}\n[[neighbours]]\ncode = \"GM0009\"\nname = \"Buurstad\"\npc4 = []\n");
        assert_eq!(
            refusal(&twice),
            "neighbour GM0009 is listed twice: list it once"
        );
    }

    #[test]
    fn empty_names_and_duplicate_notes_are_refused() {
        let msg = refusal(&SMALL.replace(r#"name = "Tweedorp""#, r#"name = " ""#));
        assert_eq!(msg, "municipalities[1].name must not be empty");
        let twice = format!("{SMALL}\n[[pc4_notes]]\npc4 = 1011\nnote = \"again\"\n");
        assert_eq!(
            refusal(&twice),
            "pc4_notes has more than one note for PC4 1011: merge them into one"
        );
    }

    #[test]
    fn a_misspelt_or_missing_field_is_refused_with_its_name() {
        let msg = refusal(&SMALL.replace("po_box_pc4", "pobox_pc4"));
        assert!(
            msg.starts_with("the region file is not valid TOML of the expected shape"),
            "{msg}"
        );
        assert!(msg.contains("pobox_pc4"), "{msg}");
        let msg = refusal(&SMALL.replace(r#"slug = "testregio""#, ""));
        assert!(msg.contains("slug"), "{msg}");
    }

    #[test]
    fn load_reads_a_file_and_names_it_in_refusals() {
        let dir = std::env::temp_dir().join(format!("rcn-region-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let good = dir.join("good.toml");
        let bad = dir.join("bad.toml");
        std::fs::write(&good, SMALL).expect("write");
        std::fs::write(&bad, SMALL.replace("1001-1003", "1003-1001")).expect("write");

        assert_eq!(RegionTable::load(&good).expect("loads").slug, "testregio");
        let msg = RegionTable::load(&bad).expect_err("refused").to_string();
        assert!(
            msg.starts_with(&format!(
                "region file {}: municipality Eerstedam",
                bad.display()
            )),
            "{msg}"
        );
        let missing = dir.join("missing.toml");
        let msg = RegionTable::load(&missing)
            .expect_err("refused")
            .to_string();
        assert_eq!(
            msg,
            format!("cannot read the region file {}", missing.display())
        );
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
