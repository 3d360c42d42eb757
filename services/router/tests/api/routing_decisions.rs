//! `api.router.decisions`: the people of a case ask why each of its notices went where it went.
//! The RCN sees every decision; municipal staff only those of an episode routed to their own
//! municipality (by a rule or by hand); a notice they may not see is absent, as an unknown one.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use rcn_contracts::envelope::{ApiProblem, ApiReply};
use rcn_contracts::events::{RoutingOutcome, RoutingRule};
use rcn_contracts::routing_api::{
    DecisionsReply, DecisionsRequest, ManualRoutingKind, NoticeDecision,
};

use crate::routing_support::{RoutingRouter, accepted, coordinator, decision, gm, unroutable};

fn staff(user_id: &str, gemeentecode: &str) -> String {
    serde_json::json!({"user_id": user_id, "role": "municipal_staff", "gemeentecode": gemeentecode})
        .to_string()
}

impl RoutingRouter {
    /// The decisions about `keys` as `identity` is shown them.
    async fn decisions_as(
        &self,
        identity: &str,
        keys: &[&str],
    ) -> Result<Vec<NoticeDecision>, ApiProblem> {
        let body = serde_json::to_vec(&DecisionsRequest {
            notice_keys: keys.iter().map(|k| (*k).to_owned()).collect(),
            why: None,
        })
        .unwrap();
        self.decisions_raw(identity, body).await
    }

    async fn decisions_raw(
        &self,
        identity: &str,
        body: Vec<u8>,
    ) -> Result<Vec<NoticeDecision>, ApiProblem> {
        let bytes = self
            .request_as(identity, self.subjects.router_decisions(), body)
            .await;
        serde_json::from_slice::<ApiReply<DecisionsReply>>(&bytes)
            .expect("a DecisionsReply in the envelope")
            .into_result()
            .map(|DecisionsReply::Decisions { decisions }| decisions)
    }
}

fn keys(decisions: &[NoticeDecision]) -> Vec<&str> {
    decisions.iter().map(|d| d.notice_key.as_str()).collect()
}

#[tokio::test]
async fn the_people_of_a_case_see_why_each_notice_went_where_it_went_and_no_one_else_does() {
    let router = RoutingRouter::spawn_with(|_| {}).await;
    // One episode in Haarlem: a notice the BRP registration routed, and a later one no rule
    // could route that a coordinator sent to Haarlem by hand.
    let mut by_brp = accepted("PI-HAARLEM:d1", |_| {});
    by_brp.episode_key = "episode-haarlem".into();
    let mut by_hand = unroutable("PI-HAARLEM:d2");
    by_hand.episode_key = "episode-haarlem".into();
    // Another person, registered in Bloemendaal; and one registered in Weesp, which merged into
    // Amsterdam (outside the region).
    let bloemendaal = accepted("PI-HAARLEM:d3", |n| {
        n.person.brp_municipality = Some(gm("GM0377"));
    });
    let weesp = accepted("PI-HAARLEM:d4", |n| {
        n.person.brp_municipality = Some(gm("GM0457"));
    });
    for n in [&by_brp, &by_hand, &bloemendaal, &weesp] {
        router.route(n).await;
    }
    let decided = router
        .decide(&decision(
            "PI-HAARLEM:d2",
            ManualRoutingKind::Municipality,
            "GM0392",
            "rita",
        ))
        .await;
    assert!(decided.is_ok(), "{decided:?}");

    let asked = [
        "PI-HAARLEM:d4",
        "PI-HAARLEM:d1",
        "PI-HAARLEM:d2",
        "PI-HAARLEM:nobody-sent-this",
        "PI-HAARLEM:d3",
    ];
    // The RCN sees all four it knows, in the order asked.
    let all = router
        .decisions_as(&coordinator("rita"), &asked)
        .await
        .unwrap();
    assert_eq!(
        keys(&all),
        [
            "PI-HAARLEM:d4",
            "PI-HAARLEM:d1",
            "PI-HAARLEM:d2",
            "PI-HAARLEM:d3"
        ]
    );
    let (weesp, brp, manual, bloemendaal) = (&all[0], &all[1], &all[2], &all[3]);
    assert_eq!(brp.rule, RoutingRule::BrpRegistration);
    assert_eq!(
        brp.outcome,
        RoutingOutcome::Routed {
            gemeentecode: gm("GM0392")
        }
    );
    assert_eq!(brp.named_municipality, Some(gm("GM0392")));
    assert_eq!(brp.pc4, Some(2011), "the PC4 of the example's address");
    assert!(brp.manual.is_none());
    assert!(brp.reason.contains("BRP registration"), "{}", brp.reason);

    // Decided by hand: the outcome is the coordinator's, with who, when and why.
    assert_eq!(manual.rule, RoutingRule::Manual);
    assert_eq!(
        manual.outcome,
        RoutingOutcome::Routed {
            gemeentecode: gm("GM0392")
        }
    );
    let note = manual.manual.as_ref().expect("the coordinator's decision");
    assert_eq!(note.decided_by, "rita");
    assert_eq!(
        note.why,
        "Laatst bekend in de daklozenopvang van deze gemeente."
    );
    assert!(note.decided_at >= manual.decided_at);
    assert_eq!(manual.pc4, None, "no address, so no PC4");

    // A merged municipality: named as registered, routed to its successor, out of region.
    assert_eq!(weesp.rule, RoutingRule::BrpRegistration);
    assert_eq!(weesp.named_municipality, Some(gm("GM0457")));
    assert_eq!(
        weesp.outcome,
        RoutingOutcome::OutOfRegion {
            gemeentecode: gm("GM0363")
        }
    );
    assert_eq!(bloemendaal.named_municipality, Some(gm("GM0377")));

    // Procesregie sees the region too.
    let procesregie = serde_json::json!({"user_id": "pim", "role": "procesregisseur"}).to_string();
    assert_eq!(
        router
            .decisions_as(&procesregie, &asked)
            .await
            .unwrap()
            .len(),
        4
    );

    // Haarlem's staff see Haarlem's episode only; Bloemendaal's only theirs.
    let haarlem = router
        .decisions_as(&staff("anna", "GM0392"), &asked)
        .await
        .unwrap();
    assert_eq!(keys(&haarlem), ["PI-HAARLEM:d1", "PI-HAARLEM:d2"]);
    let bloemendaal = router
        .decisions_as(&staff("carla", "GM0377"), &asked)
        .await
        .unwrap();
    assert_eq!(keys(&bloemendaal), ["PI-HAARLEM:d3"]);
    let heemstede = router
        .decisions_as(&staff("hans", "GM0397"), &["PI-HAARLEM:d1"])
        .await
        .unwrap();
    assert!(
        heemstede.is_empty(),
        "another municipality's notice is absent, like an unknown one"
    );

    // Roles without cases are refused; so is a caller without an identity.
    let privacy = serde_json::json!({"user_id": "pia", "role": "privacy_officer"}).to_string();
    let refused = router
        .decisions_as(&privacy, &["PI-HAARLEM:d1"])
        .await
        .unwrap_err();
    assert_eq!(refused.status, 403, "{refused:?}");
    let anonymous = router
        .decisions_raw("", br#"{"notice_keys": ["PI-HAARLEM:d1"]}"#.to_vec())
        .await
        .unwrap_err();
    assert_eq!(anonymous.status, 401, "{anonymous:?}");
    router.stop().await;
}

#[tokio::test]
async fn a_decisions_request_without_notices_or_with_too_many_is_refused_naming_the_field() {
    let router = RoutingRouter::spawn_with(|_| {}).await;
    let empty = router
        .decisions_raw(&coordinator("rita"), br#"{"notice_keys": []}"#.to_vec())
        .await
        .unwrap_err();
    assert_eq!(empty.status, 400);
    assert_eq!(empty.invalid_params[0].name, "notice_keys", "{empty:?}");
    let many: Vec<String> = (0..101).map(|i| format!("PI-HAARLEM:{i}")).collect();
    let too_many = router
        .decisions_raw(
            &coordinator("rita"),
            serde_json::to_vec(&serde_json::json!({ "notice_keys": many })).unwrap(),
        )
        .await
        .unwrap_err();
    assert_eq!(too_many.invalid_params[0].name, "notice_keys");
    router.stop().await;
}
