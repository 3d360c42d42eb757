//! The region table's unit tests: the built-in file against DOMAIN.md's table, typed in by hand,
//! and every refusal's exact message. They must never read the built-in file to decide what it
//! should say.

use super::file::{PC4_NOT_NUMERIC, PC4_OUT_OF_RANGE};
use super::*;
use crate::municipality::MunicipalityList;

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

/// The invented municipalities of [`SMALL`], as a CBS list of their own.
fn invented_municipalities() -> &'static MunicipalityList {
    static LIST: std::sync::OnceLock<MunicipalityList> = std::sync::OnceLock::new();
    LIST.get_or_init(|| {
        MunicipalityList::parse(
            "# list-date: 2026-01-01\ncode;name;valid_from;valid_until;successor\n\
             GM0001;Eerstedam;;;\nGM0002;Tweedorp;;;\nGM0009;Buurstad;;;\n",
        )
        .expect("test list is valid")
    })
}

fn from_test_toml(text: &str) -> Result<RegionTable, RegionFileError> {
    RegionTable::from_toml_with(text, invented_municipalities())
}

/// [`SMALL`] with real municipalities, for the built-in CBS list.
fn small_with_real_codes() -> String {
    SMALL
        .replace("GM0001", "GM0392")
        .replace("GM0002", "GM0473")
        .replace("GM0009", "GM0394")
}

#[test]
fn a_region_naming_a_code_cbs_never_gave_is_refused() {
    let text = small_with_real_codes();
    assert!(RegionTable::from_toml(&text).is_ok());
    let msg = RegionTable::from_toml(&text.replace("GM0473", "GM9999"))
        .expect_err("refused")
        .to_string();
    assert_eq!(
        msg,
        "municipality Tweedorp: code GM9999 is not a municipality in the CBS list of Dutch \
         municipalities (shared/contracts/municipalities/cbs.csv); check the code"
    );
    let msg = RegionTable::from_toml(&text.replace("GM0394", "GM0000"))
        .expect_err("refused")
        .to_string();
    assert!(
        msg.starts_with("neighbour Buurstad: code GM0000 is not"),
        "{msg}"
    );
}

#[test]
fn a_region_naming_a_merged_municipality_is_told_its_successor() {
    let msg = RegionTable::from_toml(&small_with_real_codes().replace("GM0394", "GM0457"))
        .expect_err("refused")
        .to_string();
    assert_eq!(
        msg,
        "neighbour Buurstad: code GM0457 merged into GM0363 (Amsterdam) on 2022-03-24; list \
         GM0363 (Amsterdam) instead"
    );
}

fn refusal(text: &str) -> String {
    from_test_toml(text)
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
    let r = from_test_toml(SMALL).expect("valid");
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
    let r = from_test_toml(&text).expect("an overlap is not an error");
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
    let r = from_test_toml(&text).expect("valid");
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
    let small = small_with_real_codes();
    std::fs::write(&good, &small).expect("write");
    std::fs::write(&bad, small.replace("1001-1003", "1003-1001")).expect("write");

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
