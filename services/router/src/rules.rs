//! The routing decision: which municipality is responsible for a release notice, which rule
//! decided, and why, in words for the RCN coordinator. Rules in order (DOMAIN.md):
//! 1. the BRP registration carried by the notice;
//! 2. the address register's answer for postcode + house number, asked by the caller;
//! 3. the PC4 of the last address in the region table (flagged when ambiguous);
//! 4. otherwise unroutable: the RCN's manual routing queue.
//!
//! A gemeentecode from outside (the BRP registration, the register's answer) is looked up in the
//! CBS list of municipalities on the day the notice was sent (`sent_at`): the day the institution
//! stated it, and the same answer on every redelivery. A municipality that has merged by then is
//! followed to its successor and the reason says so; a code CBS never gave routes nowhere.
//!
//! Pure: region table and notice in, [`Decision`] out. It must never do I/O (the address-register
//! look-up happens outside and is handed in) and must never put the BSN, a name or the full
//! address into a reason: reasons are shown to coordinators and travel in events, so they name
//! only gemeentecodes, municipality names and a PC4.

use rcn_contracts::events::{RoutingOutcome, RoutingRule};
use rcn_contracts::municipality::Resolution;
use rcn_contracts::notice::{Address, ReleaseNotice};
use rcn_contracts::region::{Pc4Kind, Pc4Match, RegionTable};
use rcn_contracts::value::Gemeentecode;

/// Where a notice goes and why; the router publishes it as `NoticeRouted`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub outcome: RoutingOutcome,
    pub rule: RoutingRule,
    /// Why, for the RCN coordinator: which input led to which answer. Never personal data.
    pub reason: String,
    /// The answer is a guess a person should check (a PC4 claimed by several municipalities).
    pub ambiguous: bool,
}

/// What the address register said about the notice's last address (rule 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressLookupResult {
    /// The register knows the address and the municipality it lies in.
    Found { gemeentecode: Gemeentecode },
    /// The register does not know this postcode and house number.
    NotFound,
    /// The register places the address in more than one municipality (say, several house
    /// letters at one number in a split village); the PC4 table decides, flagged for a check.
    Ambiguous { candidates: Vec<Gemeentecode> },
    /// The register could not be asked (down, timed out, skipped while its circuit breaker is
    /// open); the decision falls back and says so. `why` is shown to the coordinator, so it names
    /// what failed, never the address.
    Unavailable { why: String },
    /// No register is configured for this installation: rule 2 is skipped, and the reason says so.
    NotConfigured,
}

/// Decides without the address register: rules 1, 3 and 4.
pub fn decide(region: &RegionTable, notice: &ReleaseNotice) -> Decision {
    decide_with_lookup(region, notice, None)
}

/// The address worth looking up in the register, or `None` when rule 2 cannot matter: the notice
/// has a BRP registration (rule 1 wins) or no address. Lets the caller skip a needless request.
pub fn address_to_look_up(notice: &ReleaseNotice) -> Option<&Address> {
    match notice.person.brp_municipality {
        Some(_) => None,
        None => notice.person.address.as_ref(),
    }
}

/// Decides with the address register's answer, if the caller asked it (`None`: not asked). The
/// answer is ignored when the notice carries a BRP registration, because rule 1 comes first.
pub fn decide_with_lookup(
    region: &RegionTable,
    notice: &ReleaseNotice,
    lookup: Option<&AddressLookupResult>,
) -> Decision {
    let person = &notice.person;
    let day = notice.sent_at.date_naive();
    if let Some(code) = &person.brp_municipality {
        let resolution = region.cbs().resolve(code, day);
        let Some(current) = resolution.current() else {
            return unroutable(
                RoutingRule::NoRule,
                format!(
                    "the BRP registration is not a municipality in the CBS list of Dutch \
                     municipalities on {day}, so no rule can use it; {}",
                    coordinator_decides(region)
                ),
                false,
            );
        };
        let merger = merger_prefix(&resolution);
        return by_code(
            region,
            &current.code,
            RoutingRule::BrpRegistration,
            |named, verdict| format!("BRP registration {merger}{named} {verdict}"),
        );
    }
    let mut ambiguous = false;
    let register_said = match lookup {
        Some(AddressLookupResult::Found { gemeentecode }) => {
            let resolution = region.cbs().resolve(gemeentecode, day);
            match resolution.current() {
                Some(current) => {
                    let merger = merger_prefix(&resolution);
                    return by_code(
                        region,
                        &current.code,
                        RoutingRule::AddressLookup,
                        |named, verdict| {
                            format!(
                                "the address register places the last address in \
                                 {merger}{named}, which {verdict}"
                            )
                        },
                    );
                }
                None => "the address register names a municipality that is not in the CBS list \
                         of Dutch municipalities; "
                    .to_owned(),
            }
        }
        Some(AddressLookupResult::NotFound) => {
            "the address register does not know the last address; ".to_owned()
        }
        Some(AddressLookupResult::Ambiguous { candidates }) => {
            ambiguous = true;
            let listed: Vec<String> = candidates.iter().map(|c| named(region, c)).collect();
            format!(
                "the address register places the last address in several municipalities ({}); ",
                listed.join(", ")
            )
        }
        Some(AddressLookupResult::Unavailable { why }) => {
            format!("the address register could not be asked ({why}); ")
        }
        Some(AddressLookupResult::NotConfigured) => {
            "no address register is configured, so the address was not looked up; ".to_owned()
        }
        None => String::new(),
    };
    if let Some(address) = &person.address {
        let mut d = by_pc4(region, address.postcode.pc4());
        d.reason.insert_str(0, &register_said);
        d.ambiguous |= ambiguous;
        if person.no_fixed_abode {
            d.reason.push_str(" (the notice also says: no fixed abode)");
        }
        return d;
    }
    let missing = if person.no_fixed_abode {
        "no BRP registration and no fixed abode (zonder vaste woon- of verblijfplaats)"
    } else {
        "neither a BRP registration nor an address"
    };
    unroutable(
        RoutingRule::NoRule,
        format!(
            "the notice carries {missing}; {}",
            coordinator_decides(region)
        ),
        false,
    )
}

/// Rules 1 and 2: a municipality named outright. `say` words the reason from the municipality's
/// name and whether it is in the region, so each rule can name its own input.
fn by_code(
    region: &RegionTable,
    code: &Gemeentecode,
    rule: RoutingRule,
    say: impl FnOnce(String, String) -> String,
) -> Decision {
    let named = named(region, code);
    if region.is_member(code) {
        let reason = say(named, "is in the region".to_owned());
        return decide_for(
            RoutingOutcome::Routed {
                gemeentecode: code.clone(),
            },
            rule,
            reason,
            false,
        );
    }
    let reason = say(
        named,
        format!("is outside the region; {}", served_by(region, code)),
    );
    decide_for(
        RoutingOutcome::OutOfRegion {
            gemeentecode: code.clone(),
        },
        rule,
        reason,
        false,
    )
}

/// Rule 3: the region table's answer for the PC4 of the last address.
fn by_pc4(region: &RegionTable, pc4: u16) -> Decision {
    let table = format!("the region table of {}", region.name);
    let mut d = match region.lookup_pc4(pc4) {
        Pc4Match::Member {
            code,
            kind: Pc4Kind::Residential,
        } => decide_for(
            RoutingOutcome::Routed {
                gemeentecode: code.clone(),
            },
            RoutingRule::Pc4Table,
            format!(
                "PC4 {pc4} of the last address lies in {} according to {table} (a fallback: a \
                 PC4 does not always follow municipal borders)",
                named(region, &code)
            ),
            false,
        ),
        Pc4Match::Member {
            code,
            kind: Pc4Kind::PoBox,
        } => decide_for(
            RoutingOutcome::Routed {
                gemeentecode: code.clone(),
            },
            RoutingRule::Pc4Table,
            format!(
                "PC4 {pc4} of the last address is a PO-box area of {} according to {table}; \
                 nobody lives at a PO box, so check where the person is registered",
                named(region, &code)
            ),
            false,
        ),
        Pc4Match::Neighbour { code } => decide_for(
            RoutingOutcome::OutOfRegion {
                gemeentecode: code.clone(),
            },
            RoutingRule::Pc4Table,
            format!(
                "PC4 {pc4} of the last address lies in {}, outside the region, according to \
                 {table}; {}",
                named(region, &code),
                served_by(region, &code)
            ),
            false,
        ),
        Pc4Match::Ambiguous { candidates } => {
            let listed: Vec<String> = candidates.iter().map(|c| named(region, c)).collect();
            let claimed = format!(
                "PC4 {pc4} of the last address is claimed by {} in {table}",
                listed.join(", ")
            );
            // Candidates are sorted, so the same PC4 always goes to the same municipality.
            match candidates.iter().find(|c| region.is_member(c)) {
                Some(code) => decide_for(
                    RoutingOutcome::Routed {
                        gemeentecode: code.clone(),
                    },
                    RoutingRule::Pc4Table,
                    format!(
                        "{claimed}; routed to the first of them in the region, {}: check the \
                         address",
                        named(region, code)
                    ),
                    true,
                ),
                None => unroutable(
                    RoutingRule::NoRule,
                    format!(
                        "{claimed}; none of them is in the region, so {}",
                        coordinator_decides(region)
                    ),
                    true,
                ),
            }
        }
        Pc4Match::Unknown => unroutable(
            RoutingRule::NoRule,
            format!(
                "PC4 {pc4} of the last address is neither in {table} nor in a known neighbour; {}",
                coordinator_decides(region)
            ),
            false,
        ),
    };
    if let Some(note) = region.pc4_note(pc4) {
        d.reason.push_str(&format!(" (note on PC4 {pc4}: {note})"));
    }
    d
}

fn decide_for(
    outcome: RoutingOutcome,
    rule: RoutingRule,
    reason: String,
    ambiguous: bool,
) -> Decision {
    Decision {
        outcome,
        rule,
        reason,
        ambiguous,
    }
}

fn unroutable(rule: RoutingRule, reason: String, ambiguous: bool) -> Decision {
    decide_for(RoutingOutcome::Unroutable, rule, reason, ambiguous)
}

/// For a merged code, `GM0457 (Weesp) merged into GM0363 (Amsterdam) on 2022-03-24, so `; else
/// nothing.
fn merger_prefix(resolution: &Resolution<'_>) -> String {
    resolution
        .merger_in_words()
        .map(|words| format!("{words}, so "))
        .unwrap_or_default()
}

/// `GM0392 (Haarlem)` with the region's name for it, else CBS's, else the bare code.
fn named(region: &RegionTable, code: &Gemeentecode) -> String {
    let name = region
        .municipality(code)
        .map(|m| m.name.as_str())
        .or_else(|| region.neighbour(code).map(|n| n.name.as_str()))
        .or_else(|| region.cbs().get(code).map(|m| m.name.as_str()));
    match name {
        Some(name) => format!("{code} ({name})"),
        None => code.to_string(),
    }
}

/// Where an out-of-region notice goes next, so the coordinator knows whether to forward by hand.
fn served_by(region: &RegionTable, code: &Gemeentecode) -> String {
    match region.neighbour(code) {
        Some(n) => match &n.region {
            Some(slug) => format!("it is served by region {slug}"),
            None => "the region serving it is not known here, so an RCN coordinator forwards it"
                .to_owned(),
        },
        None => "it is not a known neighbour, so an RCN coordinator forwards it".to_owned(),
    }
}

fn coordinator_decides(region: &RegionTable) -> String {
    format!(
        "an RCN coordinator decides, and may choose the centrumgemeente {}",
        named(region, &region.centrumgemeente)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcn_contracts::municipality::MunicipalityList;

    const BSN: &str = "123456782";
    const FAMILY_NAME: &str = "Jansen";
    const GIVEN_NAMES: &str = "Pieter";

    fn gm(s: &str) -> Gemeentecode {
        Gemeentecode::parse(s).expect("test gemeentecode is valid")
    }

    /// A valid notice whose only routing inputs are the ones given.
    fn notice(brp: Option<&str>, postcode: Option<&str>, no_fixed_abode: bool) -> ReleaseNotice {
        let mut person = serde_json::json!({
            "bsn": BSN, "family_name": FAMILY_NAME, "given_names": GIVEN_NAMES,
            "date_of_birth": "1990-04-01", "no_fixed_abode": no_fixed_abode,
        });
        if let Some(code) = brp {
            person["brp_municipality"] = code.into();
        }
        if let Some(postcode) = postcode {
            person["address"] = serde_json::json!({"postcode": postcode, "house_number": 12});
        }
        let v = serde_json::json!({
            "notice_id": "PIH-2026-0001",
            "kind": "release_planned",
            "sent_at": "2026-11-20T09:30:00Z",
            "sender": {"institution_code": "PI-HAARLEM", "institution_name": "PI Haarlem"},
            "person": person,
            "detention": {"started_on": "2026-09-01", "expected_release_on": "2026-12-15",
                          "title": "sentence"},
        });
        ReleaseNotice::from_json(&serde_json::to_vec(&v).expect("json"))
            .expect("test notice parses")
    }

    fn routed(code: &str) -> RoutingOutcome {
        RoutingOutcome::Routed {
            gemeentecode: gm(code),
        }
    }

    fn out_of_region(code: &str) -> RoutingOutcome {
        RoutingOutcome::OutOfRegion {
            gemeentecode: gm(code),
        }
    }

    /// A region where PC4 1011 is claimed by both members and 1021 by a member and a neighbour
    /// that sort the neighbour first, and 1031 by two neighbours.
    /// The invented municipalities of the test regions; GM0003 merged into GM0005 in 2021.
    fn invented_municipalities() -> &'static MunicipalityList {
        static LIST: std::sync::OnceLock<MunicipalityList> = std::sync::OnceLock::new();
        LIST.get_or_init(|| {
            MunicipalityList::parse(
                "# list-date: 2026-01-01\ncode;name;valid_from;valid_until;successor\n\
                 GM0001;Buurstad;;;\nGM0002;Tweedorp;;;\nGM0003;Oudedorp;;2020-12-31;GM0005\n\
                 GM0005;Eerstedam;;;\nGM0009;Verweg;;;\n",
            )
            .expect("test list is valid")
        })
    }

    fn overlapping_region() -> RegionTable {
        RegionTable::from_toml_with(
            r#"
name = "Testregio"
slug = "testregio"
centrumgemeente = "GM0005"
[[municipalities]]
code = "GM0005"
name = "Eerstedam"
residential_pc4 = ["1011", "1021"]
[[municipalities]]
code = "GM0002"
name = "Tweedorp"
residential_pc4 = ["1011"]
[[neighbours]]
code = "GM0001"
name = "Buurstad"
pc4 = ["1021", "1031"]
[[neighbours]]
code = "GM0009"
name = "Verweg"
pc4 = ["1031"]
"#,
            invented_municipalities(),
        )
        .expect("test region is valid")
    }

    #[test]
    fn every_pc4_of_the_region_table_routes_as_its_entry_says() {
        let region = RegionTable::kennemerland();
        let entries = region.pc4_entries();
        assert!(entries.len() > 100, "the table is not empty");
        for (pc4, code, kind) in entries {
            let d = decide(&region, &notice(None, Some(&format!("{pc4}AB")), false));
            assert_eq!(d.rule, RoutingRule::Pc4Table, "PC4 {pc4}");
            assert!(!d.ambiguous, "PC4 {pc4}");
            assert!(d.reason.contains(&format!("PC4 {pc4}")), "{}", d.reason);
            match kind {
                Some(kind) => {
                    assert_eq!(
                        d.outcome,
                        RoutingOutcome::Routed { gemeentecode: code },
                        "PC4 {pc4}"
                    );
                    assert_eq!(
                        d.reason.contains("PO-box"),
                        kind == Pc4Kind::PoBox,
                        "{}",
                        d.reason
                    );
                }
                None => assert_eq!(
                    d.outcome,
                    RoutingOutcome::OutOfRegion { gemeentecode: code }
                ),
            }
        }
    }

    #[test]
    fn the_brp_registration_wins_over_the_address() {
        let region = RegionTable::kennemerland();
        // Registered in Velsen, last address in Zandvoort, register says Heemstede.
        let n = notice(Some("GM0453"), Some("2041AB"), false);
        let lookup = AddressLookupResult::Found {
            gemeentecode: gm("GM0397"),
        };
        let d = decide_with_lookup(&region, &n, Some(&lookup));
        assert_eq!(d.outcome, routed("GM0453"));
        assert_eq!(d.rule, RoutingRule::BrpRegistration);
        assert_eq!(
            d.reason,
            "BRP registration GM0453 (Velsen) is in the region"
        );
        assert_eq!(decide(&region, &n), d);
        assert_eq!(address_to_look_up(&n), None);
    }

    #[test]
    fn a_brp_registration_outside_the_region_is_out_of_region_with_where_it_goes() {
        let region = RegionTable::kennemerland();
        let d = decide(&region, &notice(Some("GM0394"), Some("2011AB"), false));
        assert_eq!(d.outcome, out_of_region("GM0394"));
        assert_eq!(d.rule, RoutingRule::BrpRegistration);
        assert_eq!(
            d.reason,
            "BRP registration GM0394 (Haarlemmermeer) is outside the region; it is served by \
             region amsterdam-amstelland"
        );
        let d = decide(&region, &notice(Some("GM0363"), None, false));
        assert_eq!(d.outcome, out_of_region("GM0363"));
        assert_eq!(
            d.reason,
            "BRP registration GM0363 (Amsterdam) is outside the region; it is not a known \
             neighbour, so an RCN coordinator forwards it"
        );
    }

    #[test]
    fn a_merged_brp_registration_routes_to_its_successor_and_says_so() {
        // Weesp joined Amsterdam on 2022-03-24; the notice was sent in 2026.
        let d = decide(
            &RegionTable::kennemerland(),
            &notice(Some("GM0457"), None, false),
        );
        assert_eq!(d.outcome, out_of_region("GM0363"));
        assert_eq!(d.rule, RoutingRule::BrpRegistration);
        assert_eq!(
            d.reason,
            "BRP registration GM0457 (Weesp) merged into GM0363 (Amsterdam) on 2022-03-24, so \
             GM0363 (Amsterdam) is outside the region; it is not a known neighbour, so an RCN \
             coordinator forwards it"
        );
        // A merger into a member routes to the member.
        let d = decide(&overlapping_region(), &notice(Some("GM0003"), None, false));
        assert_eq!(d.outcome, routed("GM0005"));
        assert!(
            d.reason.starts_with(
                "BRP registration GM0003 (Oudedorp) merged into GM0005 (Eerstedam) on \
                 2021-01-01, so GM0005 (Eerstedam) is in the region"
            ),
            "{}",
            d.reason
        );
    }

    #[test]
    fn a_brp_registration_cbs_never_gave_goes_to_the_coordinator() {
        let d = decide(
            &RegionTable::kennemerland(),
            &notice(Some("GM9999"), Some("2011AB"), false),
        );
        assert_eq!(d.outcome, RoutingOutcome::Unroutable);
        assert_eq!(d.rule, RoutingRule::NoRule);
        assert!(
            d.reason.starts_with(
                "the BRP registration is not a municipality in the CBS list of Dutch \
                 municipalities on 2026-11-20"
            ),
            "{}",
            d.reason
        );
    }

    #[test]
    fn the_register_naming_a_merged_or_unknown_municipality_is_resolved_too() {
        let region = RegionTable::kennemerland();
        let n = notice(None, Some("2011AB"), false);
        let merged = AddressLookupResult::Found {
            gemeentecode: gm("GM0457"),
        };
        let d = decide_with_lookup(&region, &n, Some(&merged));
        assert_eq!(
            (d.outcome, d.rule),
            (out_of_region("GM0363"), RoutingRule::AddressLookup)
        );
        assert!(
            d.reason.contains("merged into GM0363 (Amsterdam)"),
            "{}",
            d.reason
        );
        let unknown = AddressLookupResult::Found {
            gemeentecode: gm("GM9999"),
        };
        let d = decide_with_lookup(&region, &n, Some(&unknown));
        assert_eq!(
            (d.outcome, d.rule),
            (routed("GM0392"), RoutingRule::Pc4Table)
        );
        assert!(
            d.reason
                .starts_with("the address register names a municipality that is not in the CBS"),
            "{}",
            d.reason
        );
    }

    #[test]
    fn the_address_register_comes_before_the_pc4_table() {
        let region = RegionTable::kennemerland();
        // Spaarndam: PC4 2063 says Haarlem, the register knows the house is in Haarlemmermeer.
        let n = notice(None, Some("2063AB"), false);
        assert_eq!(address_to_look_up(&n).map(|a| a.postcode.pc4()), Some(2063));
        let found = AddressLookupResult::Found {
            gemeentecode: gm("GM0394"),
        };
        let d = decide_with_lookup(&region, &n, Some(&found));
        assert_eq!(
            (d.outcome, d.rule),
            (out_of_region("GM0394"), RoutingRule::AddressLookup)
        );
        let found = AddressLookupResult::Found {
            gemeentecode: gm("GM0392"),
        };
        let d = decide_with_lookup(&region, &n, Some(&found));
        assert_eq!(
            (d.outcome, d.rule),
            (routed("GM0392"), RoutingRule::AddressLookup)
        );
        assert_eq!(
            d.reason,
            "the address register places the last address in GM0392 (Haarlem), which is in the \
             region"
        );
    }

    #[test]
    fn without_an_answer_from_the_register_the_pc4_table_decides_and_says_so() {
        let region = RegionTable::kennemerland();
        let n = notice(None, Some("2063AB"), false);
        for (lookup, prefix) in [
            (
                AddressLookupResult::NotFound,
                "the address register does not know the last address; ",
            ),
            (
                AddressLookupResult::Unavailable {
                    why: "no answer within 2s, 3 attempts".to_owned(),
                },
                "the address register could not be asked (no answer within 2s, 3 attempts); ",
            ),
            (
                AddressLookupResult::NotConfigured,
                "no address register is configured, so the address was not looked up; ",
            ),
        ] {
            let d = decide_with_lookup(&region, &n, Some(&lookup));
            assert_eq!(
                (d.outcome, d.rule),
                (routed("GM0392"), RoutingRule::Pc4Table)
            );
            assert!(d.reason.starts_with(prefix), "{}", d.reason);
            assert!(
                d.reason.contains("Spaarndam"),
                "the boundary note is quoted: {}",
                d.reason
            );
        }
    }

    #[test]
    fn an_address_the_register_places_in_several_municipalities_is_flagged() {
        let region = RegionTable::kennemerland();
        let n = notice(None, Some("2063AB"), false);
        let lookup = AddressLookupResult::Ambiguous {
            candidates: vec![gm("GM0392"), gm("GM0394")],
        };
        let d = decide_with_lookup(&region, &n, Some(&lookup));
        assert_eq!(
            (d.outcome, d.rule, d.ambiguous),
            (routed("GM0392"), RoutingRule::Pc4Table, true)
        );
        assert!(
            d.reason.starts_with(
                "the address register places the last address in several municipalities \
                 (GM0392 (Haarlem), GM0394 (Haarlemmermeer)); PC4 2063"
            ),
            "{}",
            d.reason
        );
    }

    #[test]
    fn a_po_box_pc4_routes_to_its_municipality_and_says_it_is_a_po_box() {
        let d = decide(
            &RegionTable::kennemerland(),
            &notice(None, Some("2001AB"), false),
        );
        assert_eq!(
            (d.outcome, d.rule),
            (routed("GM0392"), RoutingRule::Pc4Table)
        );
        assert!(
            d.reason.contains("PO-box area of GM0392 (Haarlem)"),
            "{}",
            d.reason
        );
    }

    #[test]
    fn an_ambiguous_pc4_goes_to_the_first_member_and_is_flagged() {
        let region = overlapping_region();
        let d = decide(&region, &notice(None, Some("1011AB"), false));
        assert_eq!(
            (d.outcome, d.rule, d.ambiguous),
            (routed("GM0002"), RoutingRule::Pc4Table, true)
        );
        assert!(
            d.reason
                .contains("claimed by GM0002 (Tweedorp), GM0005 (Eerstedam)"),
            "{}",
            d.reason
        );
        // The neighbour sorts first, but a member of the region is chosen.
        let d = decide(&region, &notice(None, Some("1021AB"), false));
        assert_eq!((d.outcome, d.ambiguous), (routed("GM0005"), true));
    }

    #[test]
    fn a_pc4_shared_only_by_neighbours_is_unroutable_and_flagged() {
        let d = decide(&overlapping_region(), &notice(None, Some("1031AB"), false));
        assert_eq!(
            (d.outcome, d.rule, d.ambiguous),
            (RoutingOutcome::Unroutable, RoutingRule::NoRule, true)
        );
        assert!(
            d.reason.contains("GM0001 (Buurstad), GM0009 (Verweg)"),
            "{}",
            d.reason
        );
    }

    #[test]
    fn an_unknown_pc4_is_unroutable() {
        let d = decide(
            &RegionTable::kennemerland(),
            &notice(None, Some("1234AB"), false),
        );
        assert_eq!(
            (d.outcome, d.rule, d.ambiguous),
            (RoutingOutcome::Unroutable, RoutingRule::NoRule, false)
        );
        assert!(
            d.reason
                .starts_with("PC4 1234 of the last address is neither"),
            "{}",
            d.reason
        );
    }

    #[test]
    fn no_brp_and_no_address_is_unroutable() {
        let region = RegionTable::kennemerland();
        let d = decide(&region, &notice(None, None, false));
        assert_eq!(
            (d.outcome, d.rule),
            (RoutingOutcome::Unroutable, RoutingRule::NoRule)
        );
        assert_eq!(
            d.reason,
            "the notice carries neither a BRP registration nor an address; an RCN coordinator \
             decides, and may choose the centrumgemeente GM0392 (Haarlem)"
        );
        let d = decide(&region, &notice(None, None, true));
        assert_eq!(
            (d.outcome, d.rule),
            (RoutingOutcome::Unroutable, RoutingRule::NoRule)
        );
        assert!(d.reason.contains("no fixed abode"), "{}", d.reason);
    }

    #[test]
    fn a_brp_registration_routes_someone_without_fixed_abode() {
        let d = decide(
            &RegionTable::kennemerland(),
            &notice(Some("GM0392"), None, true),
        );
        assert_eq!(
            (d.outcome, d.rule),
            (routed("GM0392"), RoutingRule::BrpRegistration)
        );
    }

    #[test]
    fn reasons_never_contain_the_bsn_the_name_or_the_full_postcode() {
        let kennemerland = RegionTable::kennemerland();
        let overlapping = overlapping_region();
        let cases = [
            (&kennemerland, notice(Some("GM0392"), Some("2011QX"), false)),
            (&kennemerland, notice(Some("GM0394"), None, false)),
            (&kennemerland, notice(Some("GM0363"), None, false)),
            (&kennemerland, notice(None, Some("2011QX"), true)),
            (&kennemerland, notice(None, Some("2001QX"), false)),
            (&kennemerland, notice(None, Some("2064QX"), false)),
            (&kennemerland, notice(None, Some("1234QX"), false)),
            (&kennemerland, notice(None, None, true)),
            (&kennemerland, notice(None, None, false)),
            (&overlapping, notice(None, Some("1011QX"), false)),
            (&overlapping, notice(None, Some("1031QX"), false)),
        ];
        let lookups = [
            None,
            Some(AddressLookupResult::Found {
                gemeentecode: gm("GM0392"),
            }),
            Some(AddressLookupResult::NotFound),
            Some(AddressLookupResult::Ambiguous {
                candidates: vec![gm("GM0392"), gm("GM0394")],
            }),
            Some(AddressLookupResult::Unavailable {
                why: "HTTP 500".to_owned(),
            }),
            Some(AddressLookupResult::NotConfigured),
        ];
        for (region, n) in &cases {
            for lookup in &lookups {
                let reason = decide_with_lookup(region, n, lookup.as_ref()).reason;
                for secret in [BSN, "*****6782", FAMILY_NAME, GIVEN_NAMES, "QX"] {
                    assert!(
                        !reason.contains(secret),
                        "{secret:?} leaked into {reason:?}"
                    );
                }
            }
        }
    }
}
