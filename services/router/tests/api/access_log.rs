//! The router's access log and "who saw this person" (issue 16): reading a case's routing
//! decisions, listing the manual queue and deciding by hand are each logged per person (who,
//! role, organisation, what, why, which notices) in the transaction that answers; the log is
//! append-only; the privacy officer (and only they) gets the person's entries and their own
//! question back, and nothing about anyone else.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use rcn_contracts::envelope::{ApiProblem, ApiReply};
use rcn_contracts::privacy_api::{WHO_SAW_VERB, WhoSawReply};
use rcn_contracts::routing_api::{DecisionsReply, DecisionsRequest, ManualRoutingKind};

use crate::routing_support::{RoutingRouter, accepted, coordinator, decision, unroutable};

const P: &str = "123456782";
const Q: &str = "111222333";
const WHY: &str = "Casus bekijken";
const QUEUE_WHY: &str = "Routeringswachtrij: meldingen zonder gemeente toewijzen";

fn staff(user_id: &str, gemeentecode: &str) -> String {
    serde_json::json!({"user_id": user_id, "role": "municipal_staff", "gemeentecode": gemeentecode})
        .to_string()
}

fn officer() -> String {
    serde_json::json!({"user_id": "fg", "role": "privacy_officer"}).to_string()
}

type Row = (
    String,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    Vec<String>,
);

async fn log_rows(router: &RoutingRouter) -> Vec<Row> {
    sqlx::query_as(
        "SELECT user_id, role, gemeentecode, person_key, what, why, notice_keys
         FROM router.access_log ORDER BY id",
    )
    .fetch_all(&router.db)
    .await
    .unwrap()
}

impl RoutingRouter {
    async fn who_saw_as(&self, identity: &str, bsn: &str) -> Result<WhoSawReply, ApiProblem> {
        let body = serde_json::to_vec(&serde_json::json!({ "bsn": bsn })).unwrap();
        let bytes = self
            .request_as(identity, self.subjects.router_api(WHO_SAW_VERB), body)
            .await;
        serde_json::from_slice::<ApiReply<WhoSawReply>>(&bytes)
            .unwrap()
            .into_result()
    }
}

#[tokio::test]
async fn reads_and_decisions_by_hand_are_logged_per_person_and_found_only_by_the_privacy_officer() {
    let router = RoutingRouter::spawn_with(|_| {}).await;
    let (p, q) = (router.person_key(P), router.person_key(Q));
    // P: a notice the BRP registration routes to Haarlem, and one no rule can route.
    let mut routed = accepted("PI-HAARLEM:p1", |_| {});
    routed.person_key = p.clone();
    let mut waiting = unroutable("PI-HAARLEM:p2");
    waiting.person_key = p.clone();
    // Q: a notice no rule can route.
    let mut other = unroutable("PI-HAARLEM:q1");
    other.person_key = q.clone();
    for n in [&routed, &waiting, &other] {
        router.route(n).await;
    }
    assert!(
        log_rows(&router).await.is_empty(),
        "routing itself reads nobody's data"
    );

    // A reason that is not one line of at most 500 characters is refused before anything is
    // read, so nothing is logged.
    let too_long = format!(r#"{{"why": "{}"}}"#, "x".repeat(501))
        .leak()
        .as_bytes();
    for body in [too_long, br#"{"why": "wachtrij\nbekijken"}"#.as_slice()] {
        let refused = router.list_raw(body).await.1.unwrap_err();
        assert_eq!(refused.status, 400, "{refused:?}");
        assert_eq!(refused.invalid_params[0].name, "why", "{refused:?}");
    }
    assert!(log_rows(&router).await.is_empty());

    // The coordinator lists the queue with the page's reason: one row per person shown, BSN
    // masked.
    let listing = format!(r#"{{"why": "  {QUEUE_WHY} "}}"#).leak().as_bytes();
    match router.list_raw(listing).await.1.unwrap() {
        rcn_contracts::routing_api::QueueListReply::Waiting { notices, .. } => {
            assert_eq!(notices.len(), 2);
        }
    }
    // Haarlem staff read the routed notice's decision with the case page's reason.
    let body = serde_json::to_vec(&DecisionsRequest {
        notice_keys: vec!["PI-HAARLEM:p1".into(), "PI-HAARLEM:q1".into()],
        why: Some(WHY.into()),
    })
    .unwrap();
    let bytes = router
        .request_as(
            &staff("anna", "GM0392"),
            router.subjects.router_decisions(),
            body,
        )
        .await;
    let DecisionsReply::Decisions { decisions } =
        serde_json::from_slice::<ApiReply<DecisionsReply>>(&bytes)
            .unwrap()
            .into_result()
            .unwrap();
    assert_eq!(decisions.len(), 1, "Q's unrouted notice is not Haarlem's");
    // The coordinator decides P's waiting notice by hand.
    router
        .decide(&decision(
            "PI-HAARLEM:p2",
            ManualRoutingKind::Municipality,
            "GM0392",
            "rita",
        ))
        .await
        .unwrap();

    let rows = log_rows(&router).await;
    let coordinator_row = |person: &str, what: &str, why: Option<&str>, keys: &[&str]| -> Row {
        (
            crate::routing_support::COORDINATOR.to_owned(),
            "rcn_coordinator".into(),
            None,
            person.to_owned(),
            what.into(),
            why.map(str::to_owned),
            keys.iter().map(|k| (*k).to_owned()).collect(),
        )
    };
    let mut listed = vec![
        coordinator_row(
            &p,
            "routing_queue (bsn: false)",
            Some(QUEUE_WHY),
            &["PI-HAARLEM:p2"],
        ),
        coordinator_row(
            &q,
            "routing_queue (bsn: false)",
            Some(QUEUE_WHY),
            &["PI-HAARLEM:q1"],
        ),
    ];
    listed.sort_by(|a, b| a.3.cmp(&b.3));
    let mut expected = listed;
    expected.push((
        "anna".into(),
        "municipal_staff".into(),
        Some("GM0392".into()),
        p.clone(),
        "routing_decisions".into(),
        Some(WHY.into()),
        vec!["PI-HAARLEM:p1".into()],
    ));
    let decide_why = rows.last().and_then(|r| r.5.clone());
    expected.push((
        "rita".into(),
        "rcn_coordinator".into(),
        None,
        p.clone(),
        "manual_routing".into(),
        decide_why.clone(),
        vec!["PI-HAARLEM:p2".into()],
    ));
    assert_eq!(rows, expected);
    assert!(
        decide_why.is_some_and(|w| !w.is_empty()),
        "the coordinator's reason"
    );
    for row in &rows {
        assert!(!format!("{row:?}").contains(P) && !format!("{row:?}").contains(Q));
    }

    // Append-only.
    for statement in [
        "UPDATE router.access_log SET why = 'x'",
        "DELETE FROM router.access_log",
        "TRUNCATE router.access_log",
    ] {
        assert!(
            sqlx::query(statement).execute(&router.db).await.is_err(),
            "{statement} is refused"
        );
    }

    // Only the privacy officer asks; a refusal logs no question.
    for who in [coordinator("rita"), staff("anna", "GM0392")] {
        let refused = router.who_saw_as(&who, P).await.unwrap_err();
        assert_eq!(refused.status, 403, "{refused:?}");
    }
    let answer = router.who_saw_as(&officer(), P).await.unwrap();
    assert_eq!(answer.service, "router");
    assert!(!answer.truncated);
    let seen: Vec<(&str, &str)> = answer
        .entries
        .iter()
        .map(|e| (e.user_id.as_str(), e.what.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            (
                crate::routing_support::COORDINATOR,
                "routing_queue (bsn: false)"
            ),
            ("anna", "routing_decisions"),
            ("rita", "manual_routing"),
            ("fg", WHO_SAW_VERB),
        ]
    );
    assert_eq!(answer.entries[0].why.as_deref(), Some(QUEUE_WHY));
    assert_eq!(answer.entries[1].why.as_deref(), Some(WHY));
    // The question shows on the next ask, and Q's answer holds only Q's listing and question.
    let again = router.who_saw_as(&officer(), P).await.unwrap();
    assert_eq!(
        again
            .entries
            .iter()
            .filter(|e| e.what == WHO_SAW_VERB)
            .count(),
        2
    );
    let theirs = router.who_saw_as(&officer(), Q).await.unwrap();
    let seen: Vec<&str> = theirs.entries.iter().map(|e| e.what.as_str()).collect();
    assert_eq!(seen, ["routing_queue (bsn: false)", WHO_SAW_VERB]);
    router.stop().await;
}
