//! Procesregie's retention job on a controllable clock (issue 16): a closed ICO goes with its plan,
//! reviews and application once its years have passed, and an application that led to no ICO
//! goes as many years after the triage; an open ICO and an application still waiting stay; the
//! access log outlives them by its own, longer period. Every run writes its counts to the
//! deletion log, which the privacy officer (and only she or the administrator) reads over the
//! `retention_log` endpoint; a dry run removes nothing and counts what the run then removes. The
//! ids of casework's events applied are forgotten once CASES can no longer deliver the event
//! again (its maximum age, from the same configuration as `rcn provision`'s).

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Days, Months, Utc};
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::procesregie_api::{
    ApplicationView, CloseIcoRequest, IcoCloseReason, IcoView, TriageDecision, TriageOutcome,
};
use rcn_contracts::retention::{RETENTION_LOG_VERB, RecordClass, RetentionLogReply};
use rcn_procesregie::retention::APPLIED_EVENTS;
use rcn_runtime::retention::{ManualClock, Removed};
use serde_json::json;
use uuid::Uuid;

use crate::cases_in::case_opened;
use crate::helpers::{TestProcesregie, complete_form, rcn, regisseur, staff};

fn officer() -> Identity {
    Identity {
        user_id: "fg-1".into(),
        role: Role::PrivacyOfficer,
        gemeentecode: None,
    }
}

async fn submitted(p: &TestProcesregie) -> ApplicationView {
    p.ask(
        "application_save",
        &staff("anna", "GM0392"),
        &complete_form("GM0392"),
    )
    .await
    .unwrap()
}

async fn triage(p: &TestProcesregie, a: &ApplicationView, outcome: TriageOutcome) -> Option<Uuid> {
    let decided: ApplicationView = p
        .ask(
            "triage_decide",
            &regisseur("pr-1"),
            &TriageDecision {
                application_id: a.application_id,
                outcome,
                reason: "besproken in de triage".into(),
                advice: None,
            },
        )
        .await
        .unwrap();
    decided.outcome.unwrap().ico_id
}

/// (class, count) of what each rule removed, in rule order.
fn counts(report: &[Removed]) -> Vec<(RecordClass, u64)> {
    report.iter().map(|r| (r.class, r.count)).collect()
}

async fn rows(p: &TestProcesregie, table: &str) -> i64 {
    p.count(&format!("SELECT count(*) FROM procesregie.{table}"))
        .await
}

#[tokio::test]
async fn closed_icos_and_finished_applications_expire_after_their_years_and_the_access_log_later() {
    let p = TestProcesregie::spawn().await;
    // One ICO to close, one to keep open, one application not accepted, one still waiting.
    let closing = submitted(&p).await;
    let closing_ico = triage(&p, &closing, TriageOutcome::Ico).await.unwrap();
    let open = submitted(&p).await;
    let open_ico = triage(&p, &open, TriageOutcome::Ico).await.unwrap();
    let refused = submitted(&p).await;
    assert_eq!(triage(&p, &refused, TriageOutcome::NotAccepted).await, None);
    let waiting = submitted(&p).await;
    let closed: IcoView = p
        .ask(
            "ico_close",
            &regisseur("pr-1"),
            &CloseIcoRequest {
                ico_id: closing_ico,
                reason: IcoCloseReason::GoalReached,
                note: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(closed.ico_id, closing_ico);
    // Reads and a privacy question, for the access log.
    let _: IcoView = p
        .ask("ico_get", &rcn("rcn-1"), &json!({"ico_id": open_ico}))
        .await
        .unwrap();
    let _: rcn_contracts::privacy_api::WhoSawReply = p
        .ask("privacy_accesses", &officer(), &json!({"bsn": "123456782"}))
        .await
        .unwrap();
    let reads = rows(&p, "access_log").await;
    assert!(reads > 0);
    assert_eq!(rows(&p, "privacy_questions").await, 1);
    assert_eq!(rows(&p, "icos").await, 2);
    assert_eq!(rows(&p, "applications").await, 4);

    let now = DateTime::from_timestamp(Utc::now().timestamp() + 1, 0).unwrap();
    let clock = Arc::new(ManualClock::new(now));
    let job = rcn_procesregie::retention_job(p.config())
        .await
        .unwrap()
        .with_clock(clock.clone());

    // Today nothing has expired.
    let today = job.run_once().await.unwrap();
    assert!(
        today.iter().all(|r| r.count == 0 && !r.skipped),
        "{today:?}"
    );

    // Two years and a month on (the default ICO period is 2 years, the access log's 3).
    clock.set(now.checked_add_months(Months::new(25)).unwrap());
    let dry = job.dry_run().await.unwrap();
    assert_eq!(
        counts(&dry),
        [
            (RecordClass::Ico, 1),
            (RecordClass::Ico, 1),
            (RecordClass::Case, 0),
            (RecordClass::Ico, 0),
            (RecordClass::Case, 0),
            (RecordClass::EventIds, 0),
            (RecordClass::AccessLog, 0),
            (RecordClass::AccessLog, 0),
        ],
        "{dry:?}"
    );
    assert_eq!(rows(&p, "icos").await, 2, "a dry run removes nothing");
    let run = job.run_once().await.unwrap();
    assert_eq!(
        counts(&run),
        counts(&dry),
        "the run removes what the dry run said"
    );
    let left: Vec<Uuid> = sqlx::query_scalar("SELECT ico_id FROM procesregie.icos")
        .fetch_all(&p.db)
        .await
        .unwrap();
    assert_eq!(left, [open_ico], "the open ICO stays");
    let mut apps: Vec<Uuid> =
        sqlx::query_scalar("SELECT application_id FROM procesregie.applications")
            .fetch_all(&p.db)
            .await
            .unwrap();
    apps.sort();
    let mut expected = vec![open.application_id, waiting.application_id];
    expected.sort();
    assert_eq!(
        apps, expected,
        "the open ICO's and the waiting application stay"
    );
    for table in ["ico_actions", "ico_reviews"] {
        let n = p
            .count(&format!(
                "SELECT count(*) FROM procesregie.{table} WHERE ico_id = '{closing_ico}'"
            ))
            .await;
        assert_eq!(n, 0, "{table}");
    }
    assert_eq!(
        rows(&p, "access_log").await,
        reads,
        "the log outlives the ICO"
    );

    // Three years and a month on: the access log and the question have expired too.
    clock.set(now.checked_add_months(Months::new(37)).unwrap());
    let later = job.run_once().await.unwrap();
    assert_eq!(
        counts(&later),
        [
            (RecordClass::Ico, 0),
            (RecordClass::Ico, 0),
            (RecordClass::Case, 0),
            (RecordClass::Ico, 0),
            (RecordClass::Case, 0),
            (RecordClass::EventIds, 0),
            (RecordClass::AccessLog, reads as u64),
            (RecordClass::AccessLog, 1),
        ],
        "{later:?}"
    );
    assert_eq!(rows(&p, "access_log").await, 0);
    assert_eq!(rows(&p, "privacy_questions").await, 0);
    // Still append-only for everyone but the job.
    let _: IcoView = p
        .ask("ico_get", &rcn("rcn-1"), &json!({"ico_id": open_ico}))
        .await
        .unwrap();
    let err = sqlx::query("DELETE FROM procesregie.access_log")
        .execute(&p.db)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");

    // The deletion log, over the endpoint: three runs' lines, newest first, no personal data.
    let log: RetentionLogReply = p
        .ask(RETENTION_LOG_VERB, &officer(), &json!({}))
        .await
        .unwrap();
    assert_eq!(log.service, "procesregie");
    assert_eq!(log.lines.len(), 24, "{log:#?}");
    assert_eq!(
        log.lines[0].run_at,
        now.checked_add_months(Months::new(37)).unwrap()
    );
    let removed_at = |months: u32, class: RecordClass| -> i64 {
        let at = now.checked_add_months(Months::new(months)).unwrap();
        log.lines
            .iter()
            .filter(|l| l.run_at == at && l.class == class)
            .map(|l| l.removed)
            .sum()
    };
    assert_eq!(removed_at(25, RecordClass::Ico), 2);
    assert_eq!(removed_at(37, RecordClass::AccessLog), reads + 1);
    let text = serde_json::to_string(&log).unwrap();
    assert!(
        !text.contains("123456782") && !text.contains("Jansen"),
        "{text}"
    );
    for who in [staff("anna", "GM0392"), rcn("rcn-1"), regisseur("pr-1")] {
        let problem = p
            .ask::<_, RetentionLogReply>(RETENTION_LOG_VERB, &who, &json!({}))
            .await
            .unwrap_err();
        assert_eq!(problem.status, 403, "{who:?}");
    }
    let admin = Identity {
        user_id: "beheer".into(),
        role: Role::Administrator,
        gemeentecode: None,
    };
    let limited: RetentionLogReply = p
        .ask(RETENTION_LOG_VERB, &admin, &json!({"limit": 2}))
        .await
        .unwrap();
    assert_eq!(limited.lines, log.lines[..2]);
    job.pool.close().await;
    p.stop().await;
}

/// What the applied-event rule removed in a run (class `event_ids`).
fn event_ids_removed(report: &[Removed]) -> u64 {
    let rule = report
        .iter()
        .find(|r| r.rule == APPLIED_EVENTS)
        .expect("procesregie has an applied-event rule");
    assert_eq!(rule.class, RecordClass::EventIds);
    rule.count
}

#[tokio::test]
async fn applied_event_ids_are_forgotten_once_their_stream_can_no_longer_deliver_them() {
    let p = TestProcesregie::spawn().await;
    for _ in 0..3 {
        let opened = case_opened("GM0392", None, false, &[]);
        p.publish_case_event(
            p.subjects.case_opened(&opened.gemeentecode),
            &opened.event_id.to_string(),
            &opened,
        )
        .await;
    }
    p.wait_until_caught_up().await;
    assert_eq!(rows(&p, "applied_events").await, 3);
    let now = DateTime::from_timestamp(Utc::now().timestamp() + 1, 0).unwrap();

    // CASES keeps a message 90 days, shorter than the notices (6 months) and cases it carries,
    // and a copy dead-lettered on its last day can be replayed for the DLQ's 90 days: that is
    // how long an id is needed, as `rcn provision` derives both limits from the same policy.
    let window = rcn_procesregie::nats_resources(p.config())
        .unwrap()
        .longest_consumed_max_age();
    assert_eq!(window, Some(Duration::from_secs(180 * 24 * 3600)));
    let job = rcn_procesregie::retention_job(p.config()).await.unwrap();
    let at = |days: u64| -> Arc<ManualClock> {
        Arc::new(ManualClock::new(
            now.checked_add_days(Days::new(days)).unwrap(),
        ))
    };
    let early = job.clone().with_clock(at(179));
    assert_eq!(event_ids_removed(&early.run_once().await.unwrap()), 0);
    assert_eq!(rows(&p, "applied_events").await, 3);
    let late = job.clone().with_clock(at(181));
    assert_eq!(event_ids_removed(&late.dry_run().await.unwrap()), 3);
    assert_eq!(
        rows(&p, "applied_events").await,
        3,
        "a dry run removes nothing"
    );
    let run = late.run_once().await.unwrap();
    assert_eq!(event_ids_removed(&run), 3);
    assert!(
        run.iter()
            .filter(|r| r.class != RecordClass::EventIds)
            .all(|r| r.count == 0),
        "nothing else has expired: {run:?}"
    );
    assert_eq!(rows(&p, "applied_events").await, 0);
    let log = rcn_runtime::retention::log(&job.pool, 100).await.unwrap();
    let logged: Vec<(&str, i64)> = log
        .iter()
        .filter(|e| e.rule == APPLIED_EVENTS)
        .map(|e| (e.class.as_str(), e.removed))
        .collect();
    assert_eq!(logged, [("event_ids", 3), ("event_ids", 0)], "{log:?}");
    job.pool.close().await;

    // A shorter stream limit in the configuration shortens how long an id is kept with it
    // (twice the limit: the stream's and the dead-letter stream's).
    let mut config = p.config().clone();
    config.retention.stream_max_age = Some(Duration::from_secs(7 * 24 * 3600));
    let opened = case_opened("GM0392", None, false, &[]);
    p.publish_case_event(
        p.subjects.case_opened(&opened.gemeentecode),
        &opened.event_id.to_string(),
        &opened,
    )
    .await;
    p.wait_until_caught_up().await;
    let job = rcn_procesregie::retention_job(&config).await.unwrap();
    let within = job.clone().with_clock(at(13)).run_once().await.unwrap();
    assert_eq!(event_ids_removed(&within), 0);
    let past = job.clone().with_clock(at(15)).run_once().await.unwrap();
    assert_eq!(event_ids_removed(&past), 1);
    assert_eq!(rows(&p, "applied_events").await, 0);
    job.pool.close().await;
    p.stop().await;
}
