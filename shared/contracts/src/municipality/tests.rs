use chrono::NaiveDate;

use super::*;

fn gm(s: &str) -> Gemeentecode {
    Gemeentecode::parse(s).expect("test gemeentecode is valid")
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
}

const HEADER: &str = "# list-date: 2026-01-01\ncode;name;valid_from;valid_until;successor\n";

fn parse(rows: &str) -> Result<MunicipalityList, ListError> {
    MunicipalityList::parse(&format!("{HEADER}{rows}"))
}

#[test]
fn the_built_in_list_parses_and_its_successors_exist_after_each_merger() {
    let list = MunicipalityList::parse(CBS_CSV).expect("the built-in list is valid");
    assert_eq!(list.list_date, day("2026-01-01"));
    // 352 municipalities on 1 January 2021 and four formed since (CBS).
    assert_eq!(list.all().len(), 356);
    for m in list.all() {
        if let (Some(successor), Some(merged_on)) = (&m.successor, m.merged_on()) {
            let next = list.get(successor).expect("successor listed");
            assert!(next.exists_on(merged_on), "{m} → {next}");
        }
    }
}

#[test]
fn the_built_in_list_counts_what_cbs_counts() {
    let list = MunicipalityList::builtin();
    let count = |d: &str| list.all().iter().filter(|m| m.exists_on(day(d))).count();
    assert_eq!(count("2021-12-31"), 352);
    assert_eq!(count("2022-01-01"), 345);
    assert_eq!(count("2022-03-24"), 344);
    assert_eq!(count("2023-01-01"), 342);
    assert_eq!(count("2026-01-01"), 342);
}

#[test]
fn the_region_kennemerland_municipalities_are_current() {
    let list = MunicipalityList::builtin();
    for (code, name) in [
        ("GM0392", "Haarlem"),
        ("GM0473", "Zandvoort"),
        ("GM0377", "Bloemendaal"),
        ("GM0397", "Heemstede"),
        ("GM0453", "Velsen"),
        ("GM0375", "Beverwijk"),
        ("GM0396", "Heemskerk"),
        ("GM0450", "Uitgeest"),
        ("GM0394", "Haarlemmermeer"),
    ] {
        let m = list.current_entry(&gm(code)).expect(code);
        assert_eq!(m.name, name);
    }
}

#[test]
fn a_merged_code_resolves_to_its_successor_from_the_day_of_the_merger() {
    let list = MunicipalityList::builtin();
    let weesp = gm("GM0457");
    assert_eq!(
        list.resolve(&weesp, day("2022-03-23"))
            .current()
            .unwrap()
            .name,
        "Weesp"
    );
    let r = list.resolve(&weesp, day("2022-03-24"));
    assert_eq!(r.current().unwrap().code, gm("GM0363"));
    assert_eq!(
        r.merger_in_words().unwrap(),
        "GM0457 (Weesp) merged into GM0363 (Amsterdam) on 2022-03-24"
    );
    let r = list.resolve(&gm("GM0530"), day("2026-11-20"));
    assert_eq!(r.current().unwrap().name, "Voorne aan Zee");
}

#[test]
fn unknown_and_not_yet_existing_codes_are_told_apart() {
    let list = MunicipalityList::builtin();
    assert_eq!(
        list.resolve(&gm("GM9999"), day("2026-11-20")),
        Resolution::Unknown
    );
    assert!(matches!(
        list.resolve(&gm("GM1992"), day("2022-06-01")),
        Resolution::NotYet(m) if m.name == "Voorne aan Zee"
    ));
    let why = refusal(&gm("GM9999"), day("2026-11-20")).expect("refused");
    assert!(why.contains("CBS list"), "{why}");
    assert!(!why.contains("9999"), "never echoes the code: {why}");
    assert_eq!(refusal(&gm("GM0457"), day("2026-11-20")), None);
    assert_eq!(refusal(&gm("GM0392"), day("2026-11-20")), None);
}

#[test]
fn chains_of_mergers_are_followed_to_the_end() {
    let list = parse(
        "GM0001;Een;;2020-12-31;GM0002\n\
         GM0002;Twee;2021-01-01;2023-12-31;GM0003\n\
         GM0003;Drie;2024-01-01;;\n",
    )
    .expect("valid");
    let r = list.resolve(&gm("GM0001"), day("2025-05-05"));
    assert_eq!(r.current().unwrap().code, gm("GM0003"));
    assert_eq!(
        r.merger_in_words().unwrap(),
        "GM0001 (Een) merged into GM0002 (Twee) on 2021-01-01, which merged into GM0003 (Drie) \
         on 2024-01-01"
    );
    let r = list.resolve(&gm("GM0001"), day("2022-05-05"));
    assert_eq!(r.current().unwrap().code, gm("GM0002"));
}

#[test]
fn a_broken_list_is_refused_with_the_line_or_entry_to_fix() {
    let refused = |rows: &str| parse(rows).expect_err("refused").to_string();
    assert_eq!(
        refused("GM0001;Een;;;\nGM0001;Een;;;\n"),
        "line 4: GM0001 is listed twice"
    );
    assert!(refused("GM0001;Een;;\n").contains("expected 5 fields"));
    assert!(refused("GM001;Een;;;\n").starts_with("line 3: a gemeentecode"));
    assert!(refused("GM0001;Een;;2021-13-01;GM0002\n").contains("is not a date"));
    assert!(refused("GM0001;Een;;2021-12-31;\n").contains("needs a successor"));
    assert_eq!(
        refused("GM0001;Een;;2021-12-31;GM0002\n"),
        "GM0001: its successor GM0002 is not in the list; add it"
    );
    assert_eq!(
        refused("GM0001;Een;;2021-12-31;GM0002\nGM0002;Twee;2023-01-01;;\n"),
        "GM0001: its successor GM0002 (Twee) does not exist on 2022-01-01, the day of the merger"
    );
    // A loop cannot pass: a successor must outlive its predecessor.
    assert!(
        refused("GM0001;Een;;2021-12-31;GM0002\nGM0002;Twee;;2021-12-31;GM0001\n")
            .contains("does not exist on 2022-01-01")
    );
    assert_eq!(
        MunicipalityList::parse("code;name;valid_from;valid_until;successor\n")
            .expect_err("no date")
            .to_string(),
        "the municipality list has no `# list-date: YYYY-MM-DD` line"
    );
}
