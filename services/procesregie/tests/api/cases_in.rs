//! Casework's events in: procesregie keeps its own picture of each case from CASES, each event
//! applied once however often it arrives.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use chrono::{NaiveDate, Utc};
use rcn_contracts::events::{CaseOpened, ConditionState};
use rcn_contracts::{Condition, ConditionStatus, SCHEMA_VERSION};
use uuid::Uuid;

use crate::helpers::{TestProcesregie, gm};

/// A `CaseOpened` as casework publishes it, for municipality `code`.
pub fn case_opened(
    code: &str,
    release: Option<NaiveDate>,
    spoed: bool,
    statuses: &[(Condition, ConditionStatus)],
) -> CaseOpened {
    let case_id = Uuid::now_v7();
    CaseOpened {
        schema_version: SCHEMA_VERSION,
        event_id: Uuid::now_v7(),
        case_id,
        episode_key: format!("episode-{case_id}"),
        person_key: Some(format!("person-{case_id}")),
        gemeentecode: gm(code),
        notice_key: format!("PI-HAARLEM:{case_id}"),
        expected_release_on: release,
        spoed,
        conditions: statuses
            .iter()
            .map(|(condition, status)| ConditionState {
                condition: *condition,
                status: *status,
            })
            .collect(),
        opened_at: Utc::now(),
        notice_received_at: Utc::now(),
    }
}

#[tokio::test]
async fn an_opened_case_is_watched_once_however_often_its_event_arrives() {
    let p = TestProcesregie::spawn().await;
    let opened = case_opened("GM0392", None, false, &[]);
    let subject = p.subjects.case_opened(&opened.gemeentecode);
    p.publish_case_event(subject.clone(), "m-1", &opened).await;
    // The same event again under another message id (a republish after a crash).
    p.publish_case_event(subject, "m-2", &opened).await;
    p.wait_until_caught_up().await;
    assert_eq!(
        p.count(&format!(
            "SELECT count(*) FROM procesregie.watched_cases WHERE case_id = '{}' AND gemeentecode = 'GM0392'",
            opened.case_id
        ))
        .await,
        1
    );
    assert_eq!(
        p.count("SELECT count(*) FROM procesregie.applied_events")
            .await,
        1
    );
    p.stop().await;
}
