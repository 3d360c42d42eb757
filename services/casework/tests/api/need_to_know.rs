//! Need to know per field (issue 16), every role against every personal field, through the real
//! API: one Haarlem case with risk flags, a note on the care condition from the institution's
//! screening and one from the care task's holder, and a housing note; then each kind of caller
//! reads the case, the care task's history and the inbox, and what each field showed is compared
//! with one table. Loosen any rule of `visibility::FieldPolicy` and a row here differs.

use std::collections::BTreeMap;

use rcn_contracts::casework_api::{ErrorCode, TaskView};
use rcn_contracts::envelope::ApiReply;
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::notice::ScreenedCondition;
use rcn_contracts::{Condition, ConditionStatus, RiskFlag};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::casework_support::{App, CaseworkProblem, one, rcn, staff, task};
use crate::helpers::days_from_today;

const BSN: &str = "123456782";
const MASKED: &str = "*****6782";
/// The institution's note on the care condition (health data).
const CARE_NOTE: &str = "Methadonprogramma, overdracht aan verslavingszorg nodig";
/// The care task holder's note when she changed its status.
const CARE_WORK_NOTE: &str = "Zorgverzekering aangevraagd, intake GGZ op 3 maart";
/// The example notice's note on housing.
const HOUSING_NOTE: &str = "Geen woning na vrijlating.";
/// The example notice's address.
const POSTCODE: &str = "2011 AB";

/// A personal field as one reader shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Field {
    /// The BSN on the case page.
    Bsn,
    Name,
    DateOfBirth,
    Address,
    RiskFlags,
    /// The care task's note and reason on the case page.
    CareNote,
    /// The notes in the care task's history.
    CareHistoryNotes,
    /// The housing task's note on the case page and in its history.
    OtherNotes,
    /// The BSN in the inbox row of the case.
    InboxBsn,
}

use Field::*;

/// What a field showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    /// In full.
    Shown,
    /// The BSN as `*****6782`.
    Masked,
    /// Not there, but the reply says something was withheld (a note exists).
    Withheld,
    /// Not there at all.
    Absent,
    /// The read was refused with this kind of problem.
    Refused(ErrorCode),
}

use Seen::*;

fn identity(user: &str, role: Role) -> Identity {
    Identity {
        user_id: user.into(),
        role,
        gemeentecode: None,
    }
}

/// The case: Haarlem, risk flags, a care note; anna holds the care task and wrote a note on it.
async fn the_case(app: &mut App) -> Uuid {
    let case = app
        .open_case("ntk", "GM0392", days_from_today(40), |n| {
            n.risk_flags = vec![RiskFlag::LVB, RiskFlag::DomesticViolence];
            n.conditions.care = Some(ScreenedCondition {
                status: ConditionStatus::NeedsAction,
                note: Some(CARE_NOTE.into()),
            });
        })
        .await;
    let anna = staff("anna", "GM0392");
    let _: TaskView = app
        .call(&anna, "claim", &one(case, Condition::Care))
        .await
        .expect("anna claims the care task");
    let _: TaskView = app
        .call(
            &anna,
            "update_status",
            &json!({"task": task(case, Condition::Care), "status": "in_progress", "note": CARE_WORK_NOTE}),
        )
        .await
        .expect("anna works the care task");
    case
}

async fn ask(
    app: &App,
    who: &Identity,
    verb: &str,
    body: Value,
) -> Result<(Value, String), ErrorCode> {
    let reply: ApiReply<Value> = app
        .raw_call(
            verb,
            Some(&who.to_header()),
            serde_json::to_vec(&body).expect("json"),
        )
        .await;
    match reply {
        ApiReply::Ok(v) => {
            let raw = v.to_string();
            Ok((v, raw))
        }
        ApiReply::Problem(p) => Err(p.code()),
    }
}

/// Shown when the text is in the reply; withheld when not but the reply marks a withheld note.
fn note_seen(raw: &str, text: &str, withheld: bool) -> Seen {
    match (raw.contains(text), withheld) {
        (true, _) => Shown,
        (false, true) => Withheld,
        (false, false) => Absent,
    }
}

/// What `who` is shown of each field of `case`, by asking casework as they would.
async fn observe(app: &App, who: &Identity, case: Uuid) -> BTreeMap<Field, Seen> {
    let mut seen = BTreeMap::new();
    match ask(app, who, "case", json!({"case_id": case})).await {
        Err(code) => {
            for f in [
                Bsn,
                Name,
                DateOfBirth,
                Address,
                RiskFlags,
                CareNote,
                OtherNotes,
            ] {
                seen.insert(f, Refused(code));
            }
        }
        Ok((v, raw)) => {
            let person = &v["person"];
            let bsn = person["bsn"].as_str().unwrap_or_default();
            seen.insert(
                Bsn,
                match (bsn, raw.contains(BSN)) {
                    (_, true) => Shown,
                    (MASKED, false) => Masked,
                    _ => Absent,
                },
            );
            let shown = |yes: bool| if yes { Shown } else { Absent };
            seen.insert(Name, shown(person["family_name"] == "Jansen"));
            seen.insert(DateOfBirth, shown(raw.contains("1990-04-01")));
            seen.insert(
                Address,
                shown(
                    raw.contains(POSTCODE) || raw.contains("postcode") || raw.contains("address"),
                ),
            );
            seen.insert(
                RiskFlags,
                shown(raw.contains("LVB") || raw.contains("DOMESTIC_VIOLENCE")),
            );
            let care = v["tasks"]
                .as_array()
                .and_then(|ts| ts.iter().find(|t| t["condition"] == "care"))
                .cloned()
                .unwrap_or_default();
            // The task's note is the latest one written (the holder's replaced the screening's).
            seen.insert(
                CareNote,
                note_seen(&raw, CARE_WORK_NOTE, care["note_withheld"] == true),
            );
            if raw.contains(CARE_NOTE) && seen.get(&CareNote) != Some(&Shown) {
                panic!("{who:?}: the screening's care note leaks on the case page: {raw}");
            }
            seen.insert(OtherNotes, note_seen(&raw, HOUSING_NOTE, false));
        }
    }
    let history = |condition: Condition| {
        ask(
            app,
            who,
            "task_history",
            json!({"task": task(case, condition)}),
        )
    };
    seen.insert(
        CareHistoryNotes,
        match history(Condition::Care).await {
            Err(code) => Refused(code),
            Ok((v, raw)) => {
                let withheld = v["entries"]
                    .as_array()
                    .is_some_and(|es| es.iter().any(|e| e["note_withheld"] == true));
                match (
                    note_seen(&raw, CARE_NOTE, withheld),
                    note_seen(&raw, CARE_WORK_NOTE, withheld),
                ) {
                    (a, b) if a == b => a,
                    (a, b) => panic!(
                        "{who:?}: the care history shows one note ({a:?}) and not the other ({b:?})"
                    ),
                }
            }
        },
    );
    if let Ok((_, raw)) = history(Condition::Housing).await {
        // The housing history must agree with the housing note on the case page.
        let on_page = seen.get(&OtherNotes).copied();
        let in_history = note_seen(&raw, HOUSING_NOTE, false);
        if on_page != Some(in_history) {
            seen.insert(OtherNotes, in_history);
        }
    }
    seen.insert(
        InboxBsn,
        match ask(app, who, "inbox", json!({"scope": "all", "page_size": 100})).await {
            Err(code) => Refused(code),
            Ok((v, raw)) => {
                let row = v["rows"]
                    .as_array()
                    .and_then(|rows| rows.iter().find(|r| r["case_id"] == case.to_string()));
                match row {
                    _ if raw.contains(BSN) => Shown,
                    Some(r) if r["person"]["bsn_masked"] == MASKED => Masked,
                    _ => Absent,
                }
            }
        },
    );
    seen
}

#[tokio::test]
async fn every_role_sees_each_personal_field_exactly_as_need_to_know_allows() {
    let mut app = App::spawn().await;
    let case = the_case(&mut app).await;

    let not_found = Refused(ErrorCode::NotFound);
    let forbidden = Refused(ErrorCode::Forbidden);
    // (who, [Bsn, Name, DateOfBirth, Address, RiskFlags, CareNote, CareHistoryNotes, OtherNotes, InboxBsn])
    let table: Vec<(&str, Identity, [Seen; 9])> = vec![
        (
            "staff of the municipality holding the care task",
            staff("anna", "GM0392"),
            [
                Shown, Shown, Shown, Absent, Absent, Shown, Shown, Shown, Masked,
            ],
        ),
        (
            "staff of the municipality not holding the care task",
            staff("bert", "GM0392"),
            [
                Shown, Shown, Shown, Absent, Absent, Withheld, Withheld, Shown, Masked,
            ],
        ),
        (
            "staff of another municipality",
            staff("vera", "GM0453"),
            [
                not_found, not_found, not_found, not_found, not_found, not_found, not_found,
                not_found, Absent,
            ],
        ),
        (
            "the RCN coordinator",
            rcn("rita"),
            [
                Masked, Shown, Shown, Absent, Shown, Shown, Shown, Shown, Masked,
            ],
        ),
        (
            "the procesregisseur",
            identity("paul", Role::Procesregisseur),
            [
                Masked, Shown, Shown, Absent, Shown, Withheld, Withheld, Shown, Masked,
            ],
        ),
        (
            "the privacy officer",
            identity("fg", Role::PrivacyOfficer),
            [forbidden; 9],
        ),
        (
            "the administrator",
            identity("beheer", Role::Administrator),
            [forbidden; 9],
        ),
    ];
    let fields = [
        Bsn,
        Name,
        DateOfBirth,
        Address,
        RiskFlags,
        CareNote,
        CareHistoryNotes,
        OtherNotes,
        InboxBsn,
    ];
    let mut wrong = Vec::new();
    for (label, who, expected) in &table {
        let seen = observe(&app, who, case).await;
        for (field, want) in fields.iter().zip(expected) {
            let got = seen.get(field).copied();
            if got != Some(*want) {
                wrong.push(format!(
                    "{label}, {field:?}: expected {want:?}, saw {got:?}"
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "need to know broken:\n{}",
        wrong.join("\n")
    );

    // The log says what each read showed: bert's case page without the care note, his look at
    // the care task's history without its notes.
    let logged: Vec<String> = sqlx::query_scalar(
        "SELECT what FROM casework.access_log WHERE case_id = $1 AND user_id = 'bert' ORDER BY id",
    )
    .bind(case)
    .fetch_all(&app.db)
    .await
    .expect("the access log");
    assert!(
        logged.contains(&"case_detail (bsn: true, risk_flags: false, care_note: false)".to_owned()),
        "{logged:?}"
    );
    assert!(
        logged.contains(&"task_history (condition: care, notes: false)".to_owned()),
        "{logged:?}"
    );
    let rita: Vec<String> = sqlx::query_scalar(
        "SELECT what FROM casework.access_log WHERE case_id = $1 AND user_id = 'rita' ORDER BY id",
    )
    .bind(case)
    .fetch_all(&app.db)
    .await
    .expect("the access log");
    assert!(
        rita.contains(&"case_detail (bsn: false, risk_flags: true, care_note: true)".to_owned()),
        "{rita:?}"
    );
    let refused: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM casework.access_log WHERE user_id IN ('fg', 'beheer', 'vera')",
    )
    .fetch_one(&app.db)
    .await
    .expect("the access log");
    assert_eq!(
        refused, 0,
        "a refused read shows nothing, so nothing is logged"
    );

    // No event carries a note: the care note never leaves casework on a stream.
    for m in app.events("").await {
        let payload = String::from_utf8_lossy(&m.payload);
        assert!(
            !payload.contains(CARE_NOTE) && !payload.contains(CARE_WORK_NOTE),
            "{}: {payload}",
            m.subject
        );
    }
    app.stop_all().await;
}
