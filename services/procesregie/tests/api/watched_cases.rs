//! What procesregie knows of casework's cases, over their end (issue 16): a watched case goes with
//! its conditions and suggestions `RCN_RETENTION_CASE_YEARS` after casework closed it, and not
//! before; an open one stays; one whose application is still kept stays until that application
//! goes, and then goes with the suggestion accepted into it, in the same run; an application never
//! decided (a draft, or waiting for the triage) goes with its case's years, before the case in
//! the same run, and stays while its case is open or closed too recently; the deletion log counts
//! it. A case moved to another municipality takes its suggestions and applications along
//! (the old municipality's staff no longer see them, the new one's do), and a case closed because
//! the person moved out of the region is no longer its municipality's here either.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::sync::Arc;

use chrono::{DateTime, Days, Months, NaiveDate, Utc};
use rcn_contracts::casework_api::CloseReason;
use rcn_contracts::casework_events::CaseClosed;
use rcn_contracts::events::CaseOpened;
use rcn_contracts::identity::Identity;
use rcn_contracts::procesregie_api::{
    ApplicationForm, ApplicationStatus, ApplicationView, SuggestionList, SuggestionView,
    TriageDecision, TriageOutcome,
};
use rcn_contracts::retention::RecordClass;
use rcn_contracts::{Condition, ConditionStatus, SCHEMA_VERSION};
use rcn_procesregie::retention::{ABANDONED_APPLICATIONS, UNDECIDED_APPLICATIONS, WATCHED_CASES};
use rcn_runtime::retention::{Job, ManualClock, Removed};
use serde_json::json;
use uuid::Uuid;

use crate::cases_in::case_opened;
use crate::helpers::{TestProcesregie, complete_form, gm, rcn, regisseur, staff};

fn in_days(n: u64) -> NaiveDate {
    Utc::now()
        .with_timezone(&chrono_tz::Europe::Amsterdam)
        .date_naive()
        + Days::new(n)
}

/// A case of `code` releasing in ten days with three conditions open: the open-conditions rule
/// suggests escalating it.
fn case_with_a_suggestion(code: &str) -> CaseOpened {
    use Condition::*;
    use ConditionStatus::*;
    case_opened(
        code,
        Some(in_days(10)),
        false,
        &[
            (Id, Unknown),
            (Housing, NeedsAction),
            (Income, Unknown),
            (Debts, Arranged),
            (Care, Arranged),
        ],
    )
}

async fn open(p: &TestProcesregie, c: &CaseOpened) {
    p.publish_case_event(
        p.subjects.case_opened(&c.gemeentecode),
        &c.event_id.to_string(),
        c,
    )
    .await;
}

/// Casework closes `c` (in municipality `code`) for `reason`; returns when.
async fn close(
    p: &TestProcesregie,
    c: &CaseOpened,
    code: &str,
    reason: CloseReason,
) -> DateTime<Utc> {
    let now = DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
    close_at(p, c, code, reason, now).await
}

/// Casework closes `c` (in municipality `code`) for `reason`, saying it closed at `closed_at`.
async fn close_at(
    p: &TestProcesregie,
    c: &CaseOpened,
    code: &str,
    reason: CloseReason,
    closed_at: DateTime<Utc>,
) -> DateTime<Utc> {
    let event = CaseClosed {
        schema_version: SCHEMA_VERSION,
        event_id: Uuid::now_v7(),
        case_id: c.case_id,
        episode_key: c.episode_key.clone(),
        gemeentecode: gm(code),
        reason,
        by: "notice:PI-HAARLEM:x".into(),
        open_conditions: vec![Condition::Id],
        closed_at,
    };
    p.publish_case_event(
        p.subjects.case_closed(&gm(code)),
        &event.event_id.to_string(),
        &event,
    )
    .await;
    p.wait_until_caught_up().await;
    event.closed_at
}

async fn suggestions(
    p: &TestProcesregie,
    who: &Identity,
    case: Uuid,
    status: &str,
) -> Vec<SuggestionView> {
    let list: SuggestionList = p
        .ask(
            "suggestion_list",
            who,
            &json!({"case_id": case, "status": status}),
        )
        .await
        .unwrap();
    list.suggestions
}

async fn rows_of(p: &TestProcesregie, case: Uuid) -> Vec<(&'static str, i64)> {
    let mut out = Vec::new();
    for table in [
        "watched_cases",
        "watched_conditions",
        "overdue_conditions",
        "suggestions",
    ] {
        let n = p
            .count(&format!(
                "SELECT count(*) FROM procesregie.{table} WHERE case_id = '{case}'"
            ))
            .await;
        out.push((table, n));
    }
    out
}

fn gone(rows: &[(&'static str, i64)]) -> bool {
    rows.iter().all(|(_, n)| *n == 0)
}

/// The watched-case rule's count in a run.
fn watched_removed(report: &[Removed]) -> u64 {
    let rule = report
        .iter()
        .find(|r| r.rule == WATCHED_CASES)
        .expect("procesregie has a watched-case rule");
    assert_eq!(rule.class, RecordClass::Case);
    rule.count
}

/// The undecided-application rule's count in a run (class `case`, before the watched-case rule).
fn undecided_removed(report: &[Removed]) -> u64 {
    let at = report
        .iter()
        .position(|r| r.rule == UNDECIDED_APPLICATIONS)
        .expect("procesregie has an undecided-application rule");
    let watched = report.iter().position(|r| r.rule == WATCHED_CASES).unwrap();
    assert!(at < watched, "it runs before the watched-case rule");
    assert_eq!(report[at].class, RecordClass::Case);
    report[at].count
}

/// The ids of the applications procesregie holds.
async fn applications(p: &TestProcesregie) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> =
        sqlx::query_scalar("SELECT application_id FROM procesregie.applications")
            .fetch_all(&p.db)
            .await
            .unwrap();
    ids.sort();
    ids
}

fn job_at(job: Job, at: DateTime<Utc>) -> Job {
    job.with_clock(Arc::new(ManualClock::new(at)))
}

#[tokio::test]
async fn a_closed_watched_case_goes_with_its_suggestion_after_the_case_years_and_an_open_one_stays()
{
    let p = TestProcesregie::spawn().await;
    let closing = case_with_a_suggestion("GM0392");
    let staying = case_with_a_suggestion("GM0392");
    open(&p, &closing).await;
    open(&p, &staying).await;
    p.wait_until_caught_up().await;
    let rita = rcn("rita");
    assert_eq!(
        suggestions(&p, &rita, closing.case_id, "open").await.len(),
        1
    );
    assert_eq!(
        suggestions(&p, &rita, staying.case_id, "open").await.len(),
        1
    );
    let closed_at = close(&p, &closing, "GM0392", CloseReason::Completed).await;
    let (at, reason): (Option<DateTime<Utc>>, Option<String>) = sqlx::query_as(
        "SELECT closed_at, closed_reason FROM procesregie.watched_cases WHERE case_id = $1",
    )
    .bind(closing.case_id)
    .fetch_one(&p.db)
    .await
    .unwrap();
    assert_eq!(
        (at, reason.as_deref()),
        (Some(closed_at), Some("completed")),
        "the closure starts the clock"
    );
    let before = rows_of(&p, closing.case_id).await;
    assert!(
        before
            .iter()
            .filter(|(t, _)| *t != "overdue_conditions")
            .all(|(_, n)| *n > 0),
        "{before:?}"
    );

    let job = rcn_procesregie::retention_job(p.config()).await.unwrap();
    // 23 months on: not yet (the default is 2 years).
    let early = job_at(
        job.clone(),
        closed_at.checked_add_months(Months::new(23)).unwrap(),
    );
    assert_eq!(watched_removed(&early.run_once().await.unwrap()), 0);
    assert_eq!(rows_of(&p, closing.case_id).await, before);

    // 25 months on: the dry run counts it and removes nothing; the run removes it whole.
    let at = closed_at.checked_add_months(Months::new(25)).unwrap();
    let late = job_at(job.clone(), at);
    assert_eq!(watched_removed(&late.dry_run().await.unwrap()), 1);
    assert_eq!(
        rows_of(&p, closing.case_id).await,
        before,
        "a dry run removes nothing"
    );
    assert_eq!(watched_removed(&late.run_once().await.unwrap()), 1);
    let after = rows_of(&p, closing.case_id).await;
    assert!(gone(&after), "{after:?}");
    let open_one = rows_of(&p, staying.case_id).await;
    assert!(
        open_one
            .iter()
            .filter(|(t, _)| *t != "overdue_conditions")
            .all(|(_, n)| *n > 0),
        "the open case stays whole: {open_one:?}"
    );

    // The deletion log counts it under its class and rule, and nothing about the person.
    let log = rcn_runtime::retention::log(&job.pool, 100).await.unwrap();
    let at_late: Vec<_> = log
        .iter()
        .filter(|e| e.run_at == at && e.rule == WATCHED_CASES)
        .collect();
    assert_eq!(at_late.len(), 1, "{log:?}");
    assert_eq!((at_late[0].class.as_str(), at_late[0].removed), ("case", 1));
    job.pool.close().await;
    p.stop().await;
}

#[tokio::test]
async fn an_accepted_suggestion_stays_with_its_application_and_goes_with_it_with_the_case() {
    let p = TestProcesregie::spawn().await;
    let case = case_with_a_suggestion("GM0392");
    open(&p, &case).await;
    p.wait_until_caught_up().await;
    let anna = staff("anna", "GM0392");
    let suggestion = suggestions(&p, &anna, case.case_id, "open").await.remove(0);
    let draft: ApplicationView = p
        .ask(
            "suggestion_accept",
            &anna,
            &json!({"suggestion_id": suggestion.suggestion_id}),
        )
        .await
        .unwrap();
    let submitted: ApplicationView = p
        .ask(
            "application_save",
            &anna,
            &ApplicationForm {
                application_id: Some(draft.application_id),
                case_id: Some(case.case_id),
                person: None,
                gemeentecode: None,
                ..complete_form("GM0392")
            },
        )
        .await
        .unwrap();
    assert_eq!(submitted.status, ApplicationStatus::Submitted);
    let _: ApplicationView = p
        .ask(
            "triage_decide",
            &regisseur("pr-1"),
            &TriageDecision {
                application_id: draft.application_id,
                outcome: TriageOutcome::NotAccepted,
                reason: "besproken in de triage".into(),
                advice: None,
            },
        )
        .await
        .unwrap();
    let closed_at = close(&p, &case, "GM0392", CloseReason::Completed).await;

    // The application is kept three years here, the case two.
    let mut config = p.config().clone();
    config.retention.ico_years = 3;
    config.retention.access_log_years = 4;
    let job = rcn_procesregie::retention_job(&config).await.unwrap();
    let at = closed_at.checked_add_months(Months::new(25)).unwrap();
    let run = job_at(job.clone(), at).run_once().await.unwrap();
    assert_eq!(
        watched_removed(&run),
        0,
        "the application keeps its case: {run:?}"
    );
    let kept = rows_of(&p, case.case_id).await;
    assert!(
        kept.iter().any(|(t, n)| *t == "suggestions" && *n == 1),
        "{kept:?}"
    );
    assert!(
        kept.iter().any(|(t, n)| *t == "watched_cases" && *n == 1),
        "{kept:?}"
    );

    // Once the application's own years have passed, it goes, and with it its suggestion and
    // the case it came from, in one run.
    let at = closed_at.checked_add_months(Months::new(37)).unwrap();
    let run = job_at(job.clone(), at).run_once().await.unwrap();
    let applications: u64 = run
        .iter()
        .filter(|r| r.class == RecordClass::Ico)
        .map(|r| r.count)
        .sum();
    assert_eq!((applications, watched_removed(&run)), (1, 1), "{run:?}");
    assert!(gone(&rows_of(&p, case.case_id).await));
    assert_eq!(
        p.count("SELECT count(*) FROM procesregie.applications")
            .await,
        0
    );
    job.pool.close().await;
    p.stop().await;
}

#[tokio::test]
async fn an_undecided_application_goes_with_its_case_s_years_and_takes_the_case_along() {
    let p = TestProcesregie::spawn().await;
    let anna = staff("anna", "GM0392");
    let long_closed = case_with_a_suggestion("GM0392");
    let recently_closed = case_with_a_suggestion("GM0392");
    let still_open = case_with_a_suggestion("GM0392");
    for c in [&long_closed, &recently_closed, &still_open] {
        open(&p, c).await;
    }
    p.wait_until_caught_up().await;
    // A draft of each case, from the suggestion accepted into it; of the long-closed case also an
    // application submitted and waiting for the triage.
    let mut drafts = Vec::new();
    for c in [&long_closed, &recently_closed, &still_open] {
        let suggestion = suggestions(&p, &anna, c.case_id, "open").await.remove(0);
        let draft: ApplicationView = p
            .ask(
                "suggestion_accept",
                &anna,
                &json!({"suggestion_id": suggestion.suggestion_id}),
            )
            .await
            .unwrap();
        assert_eq!(draft.status, ApplicationStatus::Draft);
        drafts.push(draft.application_id);
    }
    let waiting: ApplicationView = p
        .ask(
            "application_save",
            &anna,
            &ApplicationForm {
                case_id: Some(long_closed.case_id),
                person: None,
                gemeentecode: None,
                ..complete_form("GM0392")
            },
        )
        .await
        .unwrap();
    assert_eq!(waiting.status, ApplicationStatus::Submitted);
    let now = DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
    // Closed 25 and 23 months before the job's now (the default case period is 2 years).
    let months_ago = |n: u32| now.checked_sub_months(Months::new(n)).unwrap();
    close_at(
        &p,
        &long_closed,
        "GM0392",
        CloseReason::Completed,
        months_ago(25),
    )
    .await;
    close_at(
        &p,
        &recently_closed,
        "GM0392",
        CloseReason::Completed,
        months_ago(23),
    )
    .await;
    let before = rows_of(&p, long_closed.case_id).await;
    assert!(
        before
            .iter()
            .filter(|(t, _)| *t != "overdue_conditions")
            .all(|(_, n)| *n > 0),
        "{before:?}"
    );
    let mut all = drafts.clone();
    all.push(waiting.application_id);
    all.sort();
    assert_eq!(applications(&p).await, all);

    let job = job_at(
        rcn_procesregie::retention_job(p.config()).await.unwrap(),
        now,
    );
    // The dry run counts both applications and the case they kept, and removes nothing.
    let dry = job.dry_run().await.unwrap();
    assert_eq!(
        (undecided_removed(&dry), watched_removed(&dry)),
        (2, 1),
        "{dry:?}"
    );
    assert_eq!(applications(&p).await, all, "a dry run removes nothing");
    assert_eq!(rows_of(&p, long_closed.case_id).await, before);

    let run = job.run_once().await.unwrap();
    assert_eq!(
        (undecided_removed(&run), watched_removed(&run)),
        (2, 1),
        "{run:?}"
    );
    let after = rows_of(&p, long_closed.case_id).await;
    assert!(
        gone(&after),
        "the case goes whole with its drafts: {after:?}"
    );
    let mut kept = vec![drafts[1], drafts[2]];
    kept.sort();
    assert_eq!(
        applications(&p).await,
        kept,
        "the drafts of the open and the recently closed case stay"
    );
    for case in [&recently_closed, &still_open] {
        let rows = rows_of(&p, case.case_id).await;
        assert!(
            rows.iter()
                .filter(|(t, _)| *t != "overdue_conditions")
                .all(|(_, n)| *n > 0),
            "{rows:?}"
        );
    }

    // The deletion log counts them under class `case` with the rule in words.
    let log = rcn_runtime::retention::log(&job.pool, 100).await.unwrap();
    let line = |rule: &str| -> Vec<(&str, i64)> {
        log.iter()
            .filter(|e| e.run_at == now && e.rule == rule)
            .map(|e| (e.class.as_str(), e.removed))
            .collect()
    };
    assert_eq!(line(UNDECIDED_APPLICATIONS), [("case", 2)], "{log:?}");
    assert_eq!(line(WATCHED_CASES), [("case", 1)], "{log:?}");

    // Once the recently closed case's years have passed too, its draft goes, and it with it; the
    // open case's draft stays.
    let later = job_at(
        job.clone(),
        months_ago(23).checked_add_months(Months::new(25)).unwrap(),
    );
    let run = later.run_once().await.unwrap();
    assert_eq!(
        (undecided_removed(&run), watched_removed(&run)),
        (1, 1),
        "{run:?}"
    );
    assert!(gone(&rows_of(&p, recently_closed.case_id).await));
    assert_eq!(applications(&p).await, [drafts[2]]);
    job.pool.close().await;
    p.stop().await;
}

/// What the abandoned-application rule removed in a run (class `ico`).
fn abandoned_removed(report: &[Removed]) -> u64 {
    let rule = report
        .iter()
        .find(|r| r.rule == ABANDONED_APPLICATIONS)
        .expect("procesregie has an abandoned-application rule");
    assert_eq!(rule.class, RecordClass::Ico);
    rule.count
}

#[tokio::test]
async fn a_draft_about_a_person_not_in_casework_goes_years_after_its_last_change() {
    let p = TestProcesregie::spawn().await;
    let anna = staff("anna", "GM0392");
    let draft: ApplicationView = p
        .ask(
            "application_save",
            &anna,
            &ApplicationForm {
                submit: false,
                ..complete_form("GM0392")
            },
        )
        .await
        .unwrap();
    assert_eq!(draft.status, ApplicationStatus::Draft);
    let mut other = complete_form("GM0392");
    if let Some(person) = other.person.as_mut() {
        person.bsn = Some(rcn_contracts::Bsn::parse("111222333").expect("a valid BSN"));
    }
    let waiting: ApplicationView = p.ask("application_save", &anna, &other).await.unwrap();
    assert_eq!(waiting.status, ApplicationStatus::Submitted);
    // A draft of a case casework still has open stays, however long nobody touches it.
    let case = case_with_a_suggestion("GM0392");
    open(&p, &case).await;
    p.wait_until_caught_up().await;
    let of_case: ApplicationView = p
        .ask(
            "application_save",
            &anna,
            &ApplicationForm {
                case_id: Some(case.case_id),
                person: None,
                gemeentecode: None,
                submit: false,
                ..complete_form("GM0392")
            },
        )
        .await
        .unwrap();
    assert_eq!(applications(&p).await.len(), 3);

    let now = DateTime::from_timestamp(Utc::now().timestamp() + 1, 0).unwrap();
    let job = rcn_procesregie::retention_job(p.config()).await.unwrap();
    // Within the ICO years (2 by default) nothing goes.
    let within = job_at(
        job.clone(),
        now.checked_add_months(Months::new(23)).unwrap(),
    );
    assert_eq!(abandoned_removed(&within.run_once().await.unwrap()), 0);
    assert_eq!(applications(&p).await.len(), 3);
    // Past them, the dry run counts the draft about the person not in casework; the run removes
    // exactly that one. The submitted one waits on the triage agenda; the case's draft goes with
    // its case.
    let past = job_at(
        job.clone(),
        now.checked_add_months(Months::new(25)).unwrap(),
    );
    assert_eq!(abandoned_removed(&past.dry_run().await.unwrap()), 1);
    assert_eq!(applications(&p).await.len(), 3, "a dry run removes nothing");
    let run = past.run_once().await.unwrap();
    assert_eq!(abandoned_removed(&run), 1, "{run:?}");
    assert_eq!(undecided_removed(&run), 0, "{run:?}");
    let mut kept = vec![waiting.application_id, of_case.application_id];
    kept.sort();
    assert_eq!(applications(&p).await, kept);
    let log = rcn_runtime::retention::log(&job.pool, 100).await.unwrap();
    assert!(
        log.iter().any(|e| e.rule == ABANDONED_APPLICATIONS
            && e.class.as_str() == "ico"
            && e.removed == 1),
        "{log:?}"
    );
    job.pool.close().await;
    p.stop().await;
}

#[tokio::test]
async fn a_moved_case_takes_its_suggestion_and_application_along_and_moving_out_ends_velsen_s_view()
{
    let p = TestProcesregie::spawn().await;
    let case = case_with_a_suggestion("GM0392");
    open(&p, &case).await;
    p.wait_until_caught_up().await;
    let (anna, bert, vera) = (
        staff("anna", "GM0392"),
        staff("bert", "GM0392"),
        staff("vera", "GM0453"),
    );
    let suggestion = suggestions(&p, &anna, case.case_id, "open").await.remove(0);
    let draft: ApplicationView = p
        .ask(
            "suggestion_accept",
            &anna,
            &json!({"suggestion_id": suggestion.suggestion_id}),
        )
        .await
        .unwrap();
    let get = |who: Identity| {
        let p = &p;
        async move {
            p.ask::<_, ApplicationView>(
                "application_get",
                &who,
                &json!({"application_id": draft.application_id}),
            )
            .await
            .map(|a| a.application_id)
            .map_err(|e| e.status)
        }
    };
    assert_eq!(get(bert.clone()).await, Ok(draft.application_id));
    assert_eq!(get(vera.clone()).await, Err(404));
    assert_eq!(
        suggestions(&p, &bert, case.case_id, "accepted").await.len(),
        1
    );
    assert!(
        suggestions(&p, &vera, case.case_id, "accepted")
            .await
            .is_empty()
    );

    // Casework moves the case to Velsen: it announces the case opened there.
    let moved = CaseOpened {
        event_id: Uuid::now_v7(),
        gemeentecode: gm("GM0453"),
        opened_at: Utc::now(),
        ..case.clone()
    };
    open(&p, &moved).await;
    p.wait_until_caught_up().await;
    assert!(
        suggestions(&p, &bert, case.case_id, "accepted")
            .await
            .is_empty(),
        "Haarlem no longer sees the case's suggestion"
    );
    assert_eq!(
        suggestions(&p, &vera, case.case_id, "accepted").await.len(),
        1
    );
    assert_eq!(get(bert.clone()).await, Err(404), "nor its application");
    assert_eq!(get(vera.clone()).await, Ok(draft.application_id));
    assert_eq!(
        get(anna.clone()).await,
        Ok(draft.application_id),
        "the applicant keeps her application"
    );

    // The person then moves out of the region: Velsen's staff no longer see the suggestion, the
    // RCN still does until retention.
    close(&p, &case, "GM0453", CloseReason::MovedOutOfRegion).await;
    assert!(
        suggestions(&p, &vera, case.case_id, "accepted")
            .await
            .is_empty()
    );
    assert_eq!(
        suggestions(&p, &rcn("rita"), case.case_id, "accepted")
            .await
            .len(),
        1
    );
    p.stop().await;
}
