//! End-to-end: `rcn dlq show|replay|discard` go through the monitor's dead-letter desk as an RCN
//! coordinator (`rcn::dlq::Desk`, what the command runs), so every read and every settlement from
//! the command line is in `monitor.dead_letter_log` with who and why and the letter's person
//! pseudonym — and the privacy officer's "who saw this person" finds it, as it finds the
//! portal's. A missing reason or user, a sequence that is not there, and a desk that is not
//! running are refused in words, with nothing shown and nothing logged.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use rcn_contracts::Bsn;
use rcn_contracts::dead_letters_api::DeadLetterAction;
use rcn_runtime::testing::eventually;
use rcn_tests::{PATIENCE, TestStack};

const P_BSN: &str = "123456782";
const COORDINATOR: &str = "rita@zvh.nl";

/// The desk's log: action, user, role, why and person pseudonyms, in order.
async fn desk_log(
    stack: &TestStack,
) -> Vec<(i64, String, String, String, String, Option<Vec<String>>)> {
    sqlx::query_as(
        "SELECT sequence, action, user_id, role, why, person_keys
           FROM monitor.dead_letter_log ORDER BY id",
    )
    .fetch_all(&stack.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn the_command_lines_reads_and_settlements_are_logged_by_the_desk_and_found_by_who_saw() {
    let stack = TestStack::spawn().await;
    let subjects = stack.env.config.region.subjects();
    let js = async_nats::jetstream::new(stack.nats.clone());
    let p_letter = stack.router_dead_letter("PI-HAARLEM:dead-p", P_BSN).await;
    let other = stack
        .router_dead_letter("PI-HAARLEM:dead-q", "111222333")
        .await;
    // `rcn dlq list` (the kit's, no payload) shows both.
    let listed: Vec<u64> = rcn::dlq::list(&js, &subjects, Some("router"))
        .await
        .unwrap()
        .iter()
        .map(|l| l.sequence)
        .collect();
    assert_eq!(listed, [p_letter, other]);

    // Who acts must be an account id, and the reason must be given: refused before asking.
    let signer = stack.env.signer();
    let e = rcn::dlq::Desk::new(&stack.nats, &subjects, signer, "")
        .err()
        .unwrap()
        .to_string();
    assert!(e.starts_with("--user:"), "{e}");
    let desk = rcn::dlq::Desk::new(&stack.nats, &subjects, signer, COORDINATOR).unwrap();
    let e = desk.show(p_letter, "   ").await.unwrap_err().to_string();
    assert!(e.starts_with("--why:"), "{e}");
    // A letter that is not there: the desk says so, and shows nothing.
    let e = desk
        .show(p_letter + 1000, "uitzoeken")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(&format!("no dead letter {}", p_letter + 1000)) && e.contains("rcn dlq list"),
        "{e}"
    );
    assert!(
        desk_log(&stack).await.is_empty(),
        "nothing shown, nothing logged"
    );

    // Shown, through the desk: logged with who, role, why and P's pseudonym.
    let p_key = stack
        .env
        .config
        .pseudonym_key()
        .unwrap()
        .person_key(&Bsn::parse(P_BSN).unwrap());
    let shown = desk
        .show(p_letter, "uitzoeken waarom de router weigert")
        .await
        .unwrap();
    assert!(shown.payload.contains(P_BSN));
    assert_eq!(shown.letter.sequence, p_letter);
    let text = rcn::dlq::describe(&shown);
    assert!(
        text.contains("database said no") && text.contains(P_BSN),
        "{text}"
    );
    // Discarded and the other replayed, each with its reason.
    let discarded = desk
        .settle(p_letter, "dubbel, al verwerkt", DeadLetterAction::Discarded)
        .await
        .unwrap();
    assert_eq!(
        (
            discarded.settled.by.as_str(),
            discarded.settled.action,
            discarded.settled.service.as_str()
        ),
        (COORDINATOR, DeadLetterAction::Discarded, "router")
    );
    desk.settle(
        other,
        "database weer bereikbaar",
        DeadLetterAction::Replayed,
    )
    .await
    .unwrap();
    let q_key = stack
        .env
        .config
        .pseudonym_key()
        .unwrap()
        .person_key(&Bsn::parse("111222333").unwrap());
    let as_i64 = |s: u64| i64::try_from(s).unwrap();
    let row = |seq: u64, action: &str, why: &str, person: &str| {
        (
            as_i64(seq),
            action.to_owned(),
            COORDINATOR.to_owned(),
            "rcn_coordinator".to_owned(),
            why.to_owned(),
            Some(vec![person.to_owned()]),
        )
    };
    assert_eq!(
        desk_log(&stack).await,
        [
            row(
                p_letter,
                "inspected",
                "uitzoeken waarom de router weigert",
                &p_key
            ),
            row(p_letter, "discarded", "dubbel, al verwerkt", &p_key),
            row(other, "replayed", "database weer bereikbaar", &q_key),
        ]
    );
    eventually(PATIENCE, "both letters to leave the queue", || async {
        let left = rcn::dlq::list(&js, &subjects, Some("router")).await.ok()?;
        left.iter()
            .all(|l| l.sequence != p_letter && l.sequence != other)
            .then_some(())
    })
    .await;
    // Settled once: a second discard is refused in words, and not logged.
    let e = desk
        .settle(p_letter, "nog eens", DeadLetterAction::Discarded)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains(&format!("no dead letter {p_letter}")), "{e}");
    assert_eq!(desk_log(&stack).await.len(), 3);

    // The privacy officer's "who saw P" (as `rcn privacy who-saw` asks) finds the command
    // line's read and discard, and nothing of the other letter.
    let answer = rcn::privacy::who_saw(
        &stack.nats,
        &subjects,
        signer,
        "fg",
        &Bsn::parse(P_BSN).unwrap(),
    )
    .await
    .unwrap();
    let desk_entries: Vec<(&str, &str, Option<&str>)> = answer
        .entries
        .iter()
        .filter(|e| e.service == "monitor" && e.what.starts_with("dead_letter"))
        .map(|e| (e.user_id.as_str(), e.what.as_str(), e.why.as_deref()))
        .collect();
    assert_eq!(
        desk_entries,
        [
            (
                COORDINATOR,
                "dead_letter_inspected",
                Some("uitzoeken waarom de router weigert")
            ),
            (
                COORDINATOR,
                "dead_letter_discarded",
                Some("dubbel, al verwerkt")
            ),
        ]
    );
    stack.stop().await;
}

#[tokio::test]
async fn without_a_running_desk_nothing_is_shown() {
    let env = rcn_runtime::testing::TestEnv::new().await;
    let nats = env.ctx("rcn-dlq").await.nats;
    let subjects = env.config.region.subjects();
    let desk = rcn::dlq::Desk::new(&nats, &subjects, env.signer(), COORDINATOR).unwrap();
    let e = desk.show(1, "uitzoeken").await.unwrap_err().to_string();
    assert!(
        e.contains("not running") || e.contains("did not answer"),
        "{e}"
    );
}
