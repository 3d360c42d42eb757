//! The region one RCN serves, as data: its municipalities with their PC4 areas, the neighbours a
//! notice may be forwarded to, and boundary notes for the coordinator. It is read from a TOML file
//! (`regions/<slug>.toml`) so another ZVH can run the same product by writing its own file;
//! Kennemerland's file is built in.
//!
//! A file is checked once, at load, and refused with a message naming the entry, field and value.
//! This module must never guess: a PC4 claimed twice stays [`Pc4Match::Ambiguous`] and an unlisted
//! one stays [`Pc4Match::Unknown`]; what to do about that is the router's decision. Apart from
//! [`RegionTable::load`] reading the file an operator names, it must never do I/O.
//!
//! The file's shape and its checks live in `file`; this module holds the table they produce and
//! the look-ups the router makes on it.

mod file;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use crate::municipality::MunicipalityList;
use crate::value::Gemeentecode;

pub use file::RegionFileError;

/// Kennemerland's region file, compiled in so the product runs without any file on disk.
const KENNEMERLAND_TOML: &str = include_str!("../../regions/kennemerland.toml");

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
    /// The list of municipalities the file was checked against; the router resolves codes from
    /// outside (a BRP registration, a coordinator's choice) with it.
    cbs: &'static MunicipalityList,
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

impl Pc4Range {
    pub fn contains(self, pc4: u16) -> bool {
        (self.first..=self.last).contains(&pc4)
    }

    /// Every PC4 in the range.
    pub fn iter(self) -> std::ops::RangeInclusive<u16> {
        self.first..=self.last
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

    /// Parses and checks a region file's text; every municipality it names must be a current
    /// one in the built-in CBS list.
    pub fn from_toml(text: &str) -> Result<RegionTable, RegionFileError> {
        file::parse(text, MunicipalityList::builtin())
    }

    /// Parses and checks a region file's text against another list of municipalities (tests with
    /// invented municipalities).
    pub fn from_toml_with(
        text: &str,
        cbs: &'static MunicipalityList,
    ) -> Result<RegionTable, RegionFileError> {
        file::parse(text, cbs)
    }

    /// The list of municipalities this table was checked against.
    pub fn cbs(&self) -> &'static MunicipalityList {
        self.cbs
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
