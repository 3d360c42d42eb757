//! `privacy_accesses`: the privacy officer asks who saw a person. Casework answers with exactly
//! the reads of that person's cases (every episode, found through the person pseudonym) and the
//! earlier questions about them, never another person's, also once retention has deleted the
//! cases; the question itself is logged; nobody but the privacy officer may ask.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::sync::Arc;

use chrono::{DateTime, Months, Utc};
use rcn_contracts::casework_api::{CaseDetail, ErrorCode};
use rcn_contracts::envelope::ApiReply;
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::notice::NoticeKind;
use rcn_contracts::privacy_api::{WHO_SAW_VERB, WhoSawReply};
use rcn_contracts::retention::RecordClass;
use rcn_contracts::{Bsn, Gemeentecode};
use rcn_runtime::retention::ManualClock;
use rcn_runtime::testing::eventually;
use serde_json::json;
use uuid::Uuid;

use crate::casework_support::{App, CaseworkProblem, PATIENCE, rcn, staff};
use crate::helpers::{days_from_today, routed_notice};

const PERSON: &str = "123456782";
const OTHER: &str = "111222333";

/// (user, role, municipality, case, why) of one entry.
type Seen<'a> = (
    &'a str,
    Role,
    Option<&'a str>,
    Option<Uuid>,
    Option<&'a str>,
);

fn officer() -> Identity {
    Identity {
        user_id: "fg-1".into(),
        role: Role::PrivacyOfficer,
        gemeentecode: None,
    }
}

/// Opens a case for the person with `bsn`, in the episode that started on `started` days ago,
/// with the person pseudonym the region's key gives.
async fn case_of(app: &mut App, key: &str, bsn: &str, started_days_ago: u64) -> Uuid {
    let pseudonyms = app.env.config.pseudonym_key.clone().expect("a test key");
    let bsn = Bsn::parse(bsn).unwrap();
    let mut routed = routed_notice(
        &format!("PI-HAARLEM:{key}"),
        &format!("episode-{key}"),
        days_from_today(40),
        |n| {
            n.person.bsn = bsn.clone();
            n.detention.started_on = days_from_today(0) - chrono::Days::new(started_days_ago);
        },
    );
    routed.person_key = pseudonyms.person_key(&bsn);
    app.send_notice(&routed).await
}

/// Cancels the case [`case_of`] opened under `key` (the institution's cancellation notice for the
/// same episode) and waits until it is closed.
async fn cancel(app: &mut App, key: &str, bsn: &str, started_days_ago: u64, case_id: Uuid) {
    let pseudonyms = app.env.config.pseudonym_key.clone().expect("a test key");
    let bsn = Bsn::parse(bsn).unwrap();
    let mut routed = routed_notice(
        &format!("PI-HAARLEM:{key}-cancelled"),
        &format!("episode-{key}"),
        days_from_today(40),
        |n| {
            n.person.bsn = bsn.clone();
            n.detention.started_on = days_from_today(0) - chrono::Days::new(started_days_ago);
            n.kind = NoticeKind::Cancelled;
            n.sent_at += chrono::Duration::minutes(1);
        },
    );
    routed.person_key = pseudonyms.person_key(&bsn);
    assert_eq!(app.send_notice(&routed).await, case_id, "the same episode");
    let db = app.db.clone();
    eventually(PATIENCE, "the case to close", || {
        let db = db.clone();
        async move {
            let status: Option<String> =
                sqlx::query_scalar("SELECT status FROM casework.cases WHERE case_id = $1")
                    .bind(case_id)
                    .fetch_optional(&db)
                    .await
                    .ok()
                    .flatten();
            (status.as_deref() == Some("closed")).then_some(())
        }
    })
    .await;
}

async fn read_case(app: &App, who: &Identity, case_id: Uuid, why: Option<&str>) {
    let _: CaseDetail = app
        .call(who, "case", &json!({"case_id": case_id, "why": why}))
        .await
        .expect("the case can be read");
}

async fn who_saw(app: &App, who: &Identity, bsn: &str) -> Result<WhoSawReply, ErrorCode> {
    app.call::<_, WhoSawReply>(who, WHO_SAW_VERB, &json!({"bsn": bsn}))
        .await
        .map_err(|e| e.code())
}

#[tokio::test]
async fn who_saw_returns_exactly_the_reads_of_the_persons_cases_and_the_question_itself() {
    let mut app = App::spawn().await;
    let first = case_of(&mut app, "p1", PERSON, 200).await;
    let second = case_of(&mut app, "p2", PERSON, 20).await;
    let other = case_of(&mut app, "o1", OTHER, 20).await;
    let (anna, coordinator) = (staff("anna", "GM0392"), rcn("rcn-1"));

    read_case(&app, &anna, second, Some("afspraak ID-kaart")).await;
    read_case(&app, &coordinator, first, None).await;
    read_case(&app, &coordinator, other, None).await;
    read_case(&app, &anna, other, None).await;

    let reply = who_saw(&app, &officer(), PERSON).await.unwrap();
    assert_eq!(reply.service, "casework");
    assert!(!reply.truncated);
    let seen: Vec<Seen> = reply
        .entries
        .iter()
        .map(|e| {
            (
                e.user_id.as_str(),
                e.role,
                e.gemeentecode.as_ref().map(Gemeentecode::as_str),
                e.case_id,
                e.why.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                "anna",
                Role::MunicipalStaff,
                Some("GM0392"),
                Some(second),
                Some("afspraak ID-kaart")
            ),
            ("rcn-1", Role::RcnCoordinator, None, Some(first), None),
            ("fg-1", Role::PrivacyOfficer, None, None, None),
        ],
        "{reply:#?}"
    );
    assert_eq!(
        reply.entries[0].what,
        "case_detail (bsn: true, risk_flags: false, care_note: false)"
    );
    assert_eq!(reply.entries[2].what, WHO_SAW_VERB, "the question itself");
    assert!(reply.entries.windows(2).all(|w| w[0].at <= w[1].at));

    // Asked again: the first question is there too, and still nothing of the other person.
    let again = who_saw(&app, &officer(), PERSON).await.unwrap();
    assert_eq!(again.entries.len(), 4, "{again:#?}");
    assert_eq!(again.entries[..3], reply.entries[..]);
    let theirs = who_saw(&app, &officer(), OTHER).await.unwrap();
    let cases: Vec<Option<Uuid>> = theirs.entries.iter().map(|e| e.case_id).collect();
    assert_eq!(cases, [Some(other), Some(other), None], "{theirs:#?}");
    app.stop_all().await;
}

#[tokio::test]
async fn only_the_privacy_officer_may_ask_and_a_refused_or_bad_question_logs_nothing() {
    let mut app = App::spawn().await;
    let case = case_of(&mut app, "p1", PERSON, 20).await;
    read_case(&app, &rcn("rcn-1"), case, None).await;
    let procesregisseur = Identity {
        user_id: "pr-1".into(),
        role: Role::Procesregisseur,
        gemeentecode: None,
    };
    let admin = Identity {
        user_id: "admin".into(),
        role: Role::Administrator,
        gemeentecode: None,
    };
    for who in [
        staff("anna", "GM0392"),
        rcn("rcn-1"),
        procesregisseur,
        admin,
    ] {
        assert_eq!(
            who_saw(&app, &who, PERSON).await.unwrap_err(),
            ErrorCode::Forbidden,
            "{who:?}"
        );
    }
    // Not a BSN (fails the 11-proef), no BSN, or more than a BSN: a bad request.
    for body in [
        json!({"bsn": "123456783"}),
        json!({}),
        json!({"bsn": PERSON, "gemeentecode": "GM0392"}),
    ] {
        let reply: ApiReply<WhoSawReply> = app
            .raw_call(
                WHO_SAW_VERB,
                Some(&officer().to_header()),
                serde_json::to_vec(&body).unwrap(),
            )
            .await;
        let problem = reply.into_result().unwrap_err();
        assert_eq!(problem.code(), ErrorCode::BadRequest, "{body}");
        assert!(!format!("{problem:?}").contains("123456783"), "{problem:?}");
    }
    assert_eq!(
        app.count("SELECT count(*) FROM casework.privacy_questions")
            .await,
        0
    );
    let reply = who_saw(&app, &officer(), PERSON).await.unwrap();
    assert_eq!(reply.entries.len(), 2, "{reply:#?}");
    app.stop_all().await;
}

#[tokio::test]
async fn who_saw_still_finds_the_reads_of_cases_retention_has_deleted_and_never_anothers() {
    let mut app = App::spawn().await;
    let mine = case_of(&mut app, "p1", PERSON, 200).await;
    let theirs = case_of(&mut app, "o1", OTHER, 200).await;
    let (anna, coordinator) = (staff("anna", "GM0392"), rcn("rcn-1"));
    read_case(&app, &anna, mine, Some("huisbezoek")).await;
    read_case(&app, &coordinator, theirs, None).await;
    read_case(&app, &coordinator, mine, None).await;
    read_case(&app, &anna, theirs, Some("afspraak")).await;
    cancel(&mut app, "p1", PERSON, 200, mine).await;
    cancel(&mut app, "o1", OTHER, 200, theirs).await;
    let before = who_saw(&app, &officer(), PERSON).await.unwrap();
    let reads: Vec<(&str, Option<Uuid>, Option<&str>)> = before
        .entries
        .iter()
        .map(|e| (e.user_id.as_str(), e.case_id, e.why.as_deref()))
        .collect();
    assert_eq!(
        reads,
        [
            ("anna", Some(mine), Some("huisbezoek")),
            ("rcn-1", Some(mine), None),
            ("fg-1", None, None),
        ],
        "{before:#?}"
    );

    // Past the case years (2 by default) but within the access log's (3): both cases go, every
    // read of them stays.
    let now = DateTime::from_timestamp(Utc::now().timestamp() + 1, 0).unwrap();
    let job = rcn_casework::retention_job(&app.env.config)
        .await
        .unwrap()
        .with_clock(Arc::new(ManualClock::new(
            now.checked_add_months(Months::new(25)).unwrap(),
        )));
    let run = job.run_once().await.unwrap();
    let removed = |class: RecordClass| -> u64 {
        run.iter()
            .filter(|r| r.class == class)
            .map(|r| r.count)
            .sum()
    };
    assert_eq!(
        (removed(RecordClass::Case), removed(RecordClass::AccessLog)),
        (2, 0),
        "{run:?}"
    );
    job.pool.close().await;
    assert_eq!(
        app.count("SELECT count(*) FROM casework.cases").await,
        0,
        "the cases are gone"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM casework.access_log").await,
        4,
        "their reads are not"
    );

    // The same reads and the first question, in the same order, then the second question.
    let after = who_saw(&app, &officer(), PERSON).await.unwrap();
    assert!(!after.truncated);
    assert_eq!(after.entries.len(), before.entries.len() + 1, "{after:#?}");
    assert_eq!(after.entries[..before.entries.len()], before.entries[..]);
    let last = after.entries.last().unwrap();
    assert_eq!(
        (last.user_id.as_str(), last.what.as_str(), last.case_id),
        ("fg-1", WHO_SAW_VERB, None)
    );
    // The other person: exactly their own two reads and the question, none of the first's.
    let other = who_saw(&app, &officer(), OTHER).await.unwrap();
    let seen: Vec<(&str, Option<Uuid>, Option<&str>)> = other
        .entries
        .iter()
        .map(|e| (e.user_id.as_str(), e.case_id, e.why.as_deref()))
        .collect();
    assert_eq!(
        seen,
        [
            ("rcn-1", Some(theirs), None),
            ("anna", Some(theirs), Some("afspraak")),
            ("fg-1", None, None),
        ],
        "{other:#?}"
    );
    app.stop_all().await;
}
