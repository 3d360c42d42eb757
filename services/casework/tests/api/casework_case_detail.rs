//! `case`: opening one case. Staff of the case's municipality see the full BSN (they arrange ID,
//! income and care with it) and no risk flags, and every such read is in the access log with the
//! reason given; staff of another municipality learn nothing, not even that the case exists; the
//! RCN sees the region's cases with the BSN masked and the risk flags.

use rcn_contracts::casework_api::{CaseDetail, CaseStatus, ErrorCode, TaskView};
use rcn_contracts::envelope::ApiReply;
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::{Condition, ConditionStatus, NoticeKind, RiskFlag};
use serde_json::json;
use uuid::Uuid;

use crate::casework_support::{App, CaseworkProblem, one, rcn, staff};
use crate::helpers::days_from_today;

/// The example notice's BSN.
const BSN: &str = "123456782";

/// A case in Haarlem whose notice carries risk flags.
async fn haarlem_case_with_risk_flags(app: &mut App) -> Uuid {
    app.open_case("n1", "GM0392", days_from_today(30), |n| {
        n.risk_flags = vec![RiskFlag::LVB, RiskFlag::DomesticViolence];
    })
    .await
}

/// The reply to `case` as raw JSON, to check what is and is not on the wire.
async fn raw_case(app: &App, who: &Identity, case_id: Uuid) -> String {
    let reply: ApiReply<serde_json::Value> = app
        .raw_call(
            "case",
            Some(&who.to_header()),
            serde_json::to_vec(&json!({"case_id": case_id})).expect("a request serialises"),
        )
        .await;
    serde_json::to_string(&reply).expect("a reply serialises")
}

/// (user, role, gemeentecode, what, why) of each access-log entry for `case_id`, oldest first.
async fn reads_of(
    app: &App,
    case_id: Uuid,
) -> Vec<(String, String, Option<String>, String, Option<String>)> {
    sqlx::query_as(
        "SELECT user_id, role, gemeentecode, what, why FROM casework.access_log
         WHERE case_id = $1 ORDER BY id",
    )
    .bind(case_id)
    .fetch_all(&app.db)
    .await
    .expect("the access log can be read")
}

#[tokio::test]
async fn staff_of_the_municipality_see_the_full_bsn_and_no_risk_flags_and_the_read_is_logged() {
    let mut app = App::spawn().await;
    let case = haarlem_case_with_risk_flags(&mut app).await;
    let anna = staff("anna", "GM0392");
    let _: TaskView = app
        .call(&anna, "claim", &one(case, Condition::Housing))
        .await
        .unwrap();

    let detail: CaseDetail = app
        .call(
            &anna,
            "case",
            &json!({"case_id": case, "why": "booking an ID appointment"}),
        )
        .await
        .unwrap();
    assert_eq!(detail.case_id, case);
    assert_eq!(detail.status, CaseStatus::Open);
    assert!(!detail.spoed);
    assert_eq!(detail.gemeentecode.as_str(), "GM0392");
    assert_eq!(detail.institution_code, "PI-HAARLEM");
    assert_eq!(detail.started_on.to_string(), "2026-09-01");
    assert_eq!(detail.expected_release_on, Some(days_from_today(30)));
    assert_eq!(detail.released_on, None);
    assert_eq!(detail.person.family_name, "Jansen");
    assert_eq!(detail.person.given_names.as_deref(), Some("Piet"));
    assert_eq!(detail.person.date_of_birth.to_string(), "1990-04-01");
    assert_eq!(
        detail.person.bsn, BSN,
        "the full BSN for the municipality's staff"
    );
    assert!(!detail.person.bsn_masked);
    assert_eq!(detail.risk_flags, None, "no risk flags for municipal staff");
    assert_eq!(
        detail.tasks.iter().map(|t| t.condition).collect::<Vec<_>>(),
        Condition::DEFAULT.to_vec(),
        "one task per condition, in the region's order"
    );
    let housing = &detail.tasks[1];
    assert_eq!(housing.status, ConditionStatus::NeedsAction);
    assert_eq!(housing.claimed_by.as_deref(), Some("anna"));
    assert_eq!(housing.note.as_deref(), Some("Geen woning na vrijlating."));
    assert_eq!(housing.due_on, Some(days_from_today(30)));
    assert_eq!(detail.notices.len(), 1);
    assert_eq!(detail.notices[0].kind, NoticeKind::ReleasePlanned);
    // The notice key, so the router can be asked how the notice was routed.
    let (key, received_at): (String, chrono::DateTime<chrono::Utc>) = sqlx::query_as(
        "SELECT notice_key, received_at FROM casework.case_notices WHERE case_id = $1",
    )
    .bind(case)
    .fetch_one(&app.db)
    .await
    .expect("the case's notice");
    assert_eq!(detail.notices[0].notice_key.as_deref(), Some(key.as_str()));
    assert_eq!(detail.notices[0].received_at, Some(received_at));

    let raw = raw_case(&app, &anna, case).await;
    assert!(!raw.contains("risk_flags") && !raw.contains("LVB"), "{raw}");
    assert!(
        !raw.contains("Meldt") && !raw.contains("casemanager@"),
        "no notice content: {raw}"
    );

    let reads = reads_of(&app, case).await;
    assert_eq!(reads.len(), 2, "{reads:?}");
    for (user, role, gemeente, what, _) in &reads {
        assert_eq!(
            (user.as_str(), role.as_str(), gemeente.as_deref()),
            ("anna", "municipal_staff", Some("GM0392"))
        );
        assert_eq!(
            what,
            "case_detail (bsn: true, risk_flags: false, care_note: false)"
        );
    }
    assert_eq!(reads[0].4.as_deref(), Some("booking an ID appointment"));
    assert_eq!(reads[1].4, None, "why is optional");

    let e = app
        .call::<_, CaseDetail>(
            &anna,
            "case",
            &json!({"case_id": case, "why": "x".repeat(501)}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::BadRequest);
    assert_eq!(
        reads_of(&app, case).await.len(),
        2,
        "a refused read is not logged"
    );
    app.stop_all().await;
}

/// The other reads of a case's person (a task's history, the task list's rows) keep the reason
/// given too, by the same rule: trimmed, at most 500 characters, one line; a refused reason
/// reads and logs nothing.
#[tokio::test]
async fn the_history_and_the_task_list_are_logged_with_the_reason_given() {
    let mut app = App::spawn().await;
    let case = haarlem_case_with_risk_flags(&mut app).await;
    let anna = staff("anna", "GM0392");
    let _: serde_json::Value = app
        .call(
            &anna,
            "task_history",
            &json!({"task": {"case_id": case, "condition": "housing"}, "why": " Casus bekijken "}),
        )
        .await
        .unwrap();
    let _: serde_json::Value = app
        .call(
            &anna,
            "inbox",
            &json!({"scope": "all", "why": "Werkvoorraad van de gemeente"}),
        )
        .await
        .unwrap();
    for why in [
        "x".repeat(501),
        "Casus\tbekijken".to_owned(),
        "Casus\u{7}".to_owned(),
    ] {
        let e = app
            .call::<_, serde_json::Value>(
                &anna,
                "task_history",
                &json!({"task": {"case_id": case, "condition": "housing"}, "why": why}),
            )
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::BadRequest, "{why:?}");
        let e = app
            .call::<_, serde_json::Value>(&anna, "inbox", &json!({"why": why}))
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::BadRequest, "{why:?}");
    }
    let reads: Vec<(String, Option<String>)> = reads_of(&app, case)
        .await
        .into_iter()
        .map(|(_, _, _, what, why)| (what, why))
        .collect();
    assert_eq!(
        reads,
        [
            (
                "task_history (condition: housing, notes: true)".to_owned(),
                Some("Casus bekijken".to_owned())
            ),
            (
                "inbox_row".to_owned(),
                Some("Werkvoorraad van de gemeente".to_owned())
            ),
        ],
        "only the two reads that were answered"
    );
    app.stop_all().await;
}

#[tokio::test]
async fn staff_of_another_municipality_get_not_found_and_nothing_is_logged() {
    let mut app = App::spawn().await;
    let case = haarlem_case_with_risk_flags(&mut app).await;
    let vera = staff("vera", "GM0453");

    let e = app
        .call::<_, CaseDetail>(&vera, "case", &json!({"case_id": case}))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotFound);
    let unknown = app
        .call::<_, CaseDetail>(&vera, "case", &json!({"case_id": Uuid::now_v7()}))
        .await
        .unwrap_err();
    assert_eq!(
        (unknown.code(), unknown.detail),
        (e.code(), e.detail),
        "the same answer as for a case that does not exist"
    );
    // The body cannot widen what the caller sees.
    let e = app
        .call::<_, CaseDetail>(
            &vera,
            "case",
            &json!({"case_id": case, "gemeentecode": "GM0392"}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::BadRequest);
    let raw = raw_case(&app, &vera, case).await;
    assert!(!raw.contains(BSN) && !raw.contains("Jansen"), "{raw}");

    assert_eq!(
        app.count("SELECT count(*) FROM casework.access_log").await,
        0,
        "nothing was read, so nothing is logged"
    );
    app.stop_all().await;
}

#[tokio::test]
async fn the_rcn_sees_the_bsn_masked_and_the_risk_flags() {
    let mut app = App::spawn().await;
    let haarlem = haarlem_case_with_risk_flags(&mut app).await;
    let velsen = app
        .open_case("n2", "GM0453", days_from_today(3), |_| {})
        .await;
    let coordinator = rcn("rcn-1");

    let detail: CaseDetail = app
        .call(&coordinator, "case", &json!({"case_id": haarlem}))
        .await
        .unwrap();
    assert_eq!(detail.person.bsn, "*****6782");
    assert!(detail.person.bsn_masked);
    assert_eq!(
        detail.risk_flags,
        Some(vec![RiskFlag::LVB, RiskFlag::DomesticViolence])
    );
    assert_eq!(detail.tasks.len(), 5);
    let raw = raw_case(&app, &coordinator, haarlem).await;
    assert!(
        !raw.contains(BSN),
        "the full BSN never reaches the RCN: {raw}"
    );

    // Every case of the region, also one without flags, and spoed as the release comes near.
    let other: CaseDetail = app
        .call(&coordinator, "case", &json!({"case_id": velsen}))
        .await
        .unwrap();
    assert_eq!(other.gemeentecode.as_str(), "GM0453");
    assert_eq!(other.risk_flags, Some(vec![]));
    assert!(other.spoed);
    let procesregisseur = Identity {
        user_id: "pr-1".into(),
        role: Role::Procesregisseur,
        gemeentecode: None,
    };
    let pr: CaseDetail = app
        .call(&procesregisseur, "case", &json!({"case_id": haarlem}))
        .await
        .unwrap();
    assert!(pr.person.bsn_masked && pr.risk_flags.is_some());

    let reads = reads_of(&app, haarlem).await;
    assert_eq!(reads.len(), 3, "{reads:?}");
    assert_eq!(
        (
            reads[0].0.as_str(),
            reads[0].1.as_str(),
            reads[0].2.as_deref()
        ),
        ("rcn-1", "rcn_coordinator", None)
    );
    // The RCN coordinator supervises the care task and reads its notes; the procesregisseur not.
    let care_note = |user: &str| if user == "pr-1" { "false" } else { "true" };
    assert!(
        reads.iter().all(|r| r.3
            == format!(
                "case_detail (bsn: false, risk_flags: true, care_note: {})",
                care_note(&r.0)
            )),
        "{reads:?}"
    );
    app.stop_all().await;
}

#[tokio::test]
async fn a_case_request_without_identity_is_unauthenticated_and_reads_nothing() {
    let mut app = App::spawn().await;
    let case = haarlem_case_with_risk_flags(&mut app).await;
    let body = serde_json::to_vec(&json!({"case_id": case})).unwrap();

    let none: ApiReply<CaseDetail> = app.raw_call("case", None, body.clone()).await;
    assert_eq!(
        none.into_result().unwrap_err().code(),
        ErrorCode::Unauthenticated
    );
    let incomplete: ApiReply<CaseDetail> = app
        .raw_call(
            "case",
            Some(r#"{"user_id":"anna","role":"municipal_staff"}"#),
            body,
        )
        .await;
    assert_eq!(
        incomplete.into_result().unwrap_err().code(),
        ErrorCode::Unauthenticated
    );
    assert_eq!(
        app.count("SELECT count(*) FROM casework.access_log").await,
        0
    );
    app.stop_all().await;
}

/// Statuses are enums on both sides: the table refuses a word no variant has, and a word that got
/// in anyway (here: with the constraint dropped by hand) fails the read as an internal error,
/// never shown as a guess.
#[tokio::test]
async fn a_stored_status_no_enum_has_is_refused_by_the_table_and_never_read_as_a_guess() {
    let mut app = App::spawn().await;
    let case = haarlem_case_with_risk_flags(&mut app).await;
    let archive = || {
        sqlx::query("UPDATE casework.cases SET status = 'archived' WHERE case_id = $1").bind(case)
    };
    let refused = archive()
        .execute(&app.db)
        .await
        .expect_err("the CHECK refuses a status no CaseStatus has");
    assert!(
        refused.to_string().contains("cases_status_known"),
        "{refused}"
    );

    sqlx::query("ALTER TABLE casework.cases DROP CONSTRAINT cases_status_known")
        .execute(&app.db)
        .await
        .expect("the constraint can be dropped");
    archive()
        .execute(&app.db)
        .await
        .expect("without its CHECK the table takes any word");
    let read = app
        .call::<_, CaseDetail>(&rcn("rita"), "case", &json!({"case_id": case}))
        .await
        .expect_err("a status casework does not know is not shown");
    assert_eq!(read.code(), ErrorCode::Internal, "{read:?}");
}
