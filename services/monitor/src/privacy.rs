//! "Who saw this person" (issue 16) for the monitor: its dead-letter desk is the one place the
//! monitor lets personal data out, so what it can tell the privacy officer is who inspected,
//! replayed or discarded a dead letter whose payload held the person's BSN — found through the
//! person pseudonym the desk stores with each such log row ([`person_keys`]) — and who asked
//! about the person before (`privacy_questions`).
//!
//! Only a privacy officer may ask; the question is written in the same transaction as the answer
//! is read, so a question that cannot be logged is not answered and the answer already shows it.
//! It must never keep, log or compare a BSN itself: only pseudonyms leave this module.

use std::collections::BTreeSet;

use rcn_contracts::access_log::{Read, What};
use rcn_contracts::dead_letters_api::DeadLetterAction;
use rcn_contracts::envelope::ApiProblem;
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::privacy_api::{AccessEntry, MAX_ENTRIES, WHO_SAW_VERB, WhoSawReply};
use rcn_contracts::pseudonym::PseudonymKey;
use rcn_contracts::{Bsn, Gemeentecode};
use sqlx::PgPool;

/// The service name in every entry the monitor returns.
pub const SERVICE: &str = "monitor";

/// How deep [`person_keys`] looks into a payload: notices and the events carrying them nest a
/// few levels; anything deeper is not one of rcn's messages.
const MAX_DEPTH: usize = 16;

/// The person pseudonyms of every valid BSN in a dead letter's payload (a JSON value under a
/// key `bsn`, at any depth: a notice's `person.bsn`, an event's `notice.person.bsn`), sorted and
/// without repeats; empty when the payload is not JSON or holds no valid BSN.
pub fn person_keys(key: &PseudonymKey, payload: &[u8]) -> Vec<String> {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(payload) else {
        return Vec::new();
    };
    let mut keys = BTreeSet::new();
    collect(key, &value, 0, &mut keys);
    keys.into_iter().collect()
}

fn collect(
    key: &PseudonymKey,
    value: &serde_json::Value,
    depth: usize,
    out: &mut BTreeSet<String>,
) {
    if depth > MAX_DEPTH {
        return;
    }
    match value {
        serde_json::Value::Object(map) => {
            for (name, v) in map {
                if name == "bsn"
                    && let Some(bsn) = v.as_str().and_then(|s| Bsn::parse(s).ok())
                {
                    out.insert(key.person_key(&bsn));
                }
                collect(key, v, depth + 1, out);
            }
        }
        serde_json::Value::Array(items) => {
            for v in items {
                collect(key, v, depth + 1, out);
            }
        }
        _ => {}
    }
}

/// What a desk action on a letter holding the person's BSN was, in the access-log vocabulary.
pub fn what(action: DeadLetterAction) -> String {
    What::new(match action {
        DeadLetterAction::Inspected => Read::DeadLetterInspected,
        DeadLetterAction::Replayed => Read::DeadLetterReplayed,
        DeadLetterAction::Discarded => Read::DeadLetterDiscarded,
    })
    .to_log()
}

fn database(e: sqlx::Error) -> ApiProblem {
    tracing::error!(error = %e, "the monitor cannot answer who saw a person");
    ApiProblem::unavailable("the dead-letter log cannot be read right now; ask again")
}

/// `privacy_accesses`: the desk's actions on letters holding the person's BSN and the privacy
/// questions about them, oldest first, at most [`MAX_ENTRIES`]; the question logged first.
pub async fn who_saw(
    pool: &PgPool,
    key: &PseudonymKey,
    who: &Identity,
    bsn: &Bsn,
) -> Result<WhoSawReply, ApiProblem> {
    if who.role != Role::PrivacyOfficer {
        return Err(ApiProblem::forbidden(
            "only the privacy officer may ask who saw a person",
        ));
    }
    let person_key = key.person_key(bsn);
    let mut tx = pool.begin().await.map_err(database)?;
    sqlx::query!(
        "INSERT INTO privacy_questions (user_id, role, gemeentecode, person_key, question)
         VALUES ($1, $2, $3, $4, $5)",
        who.user_id,
        who.role as Role,
        who.gemeentecode.as_ref() as Option<&Gemeentecode>,
        person_key,
        WHO_SAW_VERB,
    )
    .execute(&mut *tx)
    .await
    .map_err(database)?;
    let rows = sqlx::query!(
        r#"SELECT at AS "at!", user_id AS "user_id!", role AS "role!: Role",
                  gemeentecode AS "gemeentecode: Gemeentecode", action, why
           FROM (
               SELECT l.at, l.user_id, l.role, l.gemeentecode, l.action, l.why
               FROM dead_letter_log l WHERE l.person_keys @> ARRAY[$1::text]
               UNION ALL
               SELECT q.at, q.user_id, q.role, q.gemeentecode, q.question, NULL
               FROM privacy_questions q WHERE q.person_key = $1
           ) e
           ORDER BY at, action
           LIMIT $2"#,
        person_key,
        (MAX_ENTRIES + 1) as i64,
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(database)?;
    tx.commit().await.map_err(database)?;
    let mut entries: Vec<AccessEntry> = rows
        .into_iter()
        .map(|r| {
            let action = r.action.unwrap_or_default();
            let what = match action.as_str() {
                "inspected" => what(DeadLetterAction::Inspected),
                "replayed" => what(DeadLetterAction::Replayed),
                "discarded" => what(DeadLetterAction::Discarded),
                // A question: its own word (`privacy_accesses`).
                other => other.to_owned(),
            };
            AccessEntry {
                at: r.at,
                service: SERVICE.into(),
                user_id: r.user_id,
                role: r.role,
                gemeentecode: r.gemeentecode,
                what,
                why: r.why,
                case_id: None,
                application_id: None,
                ico_id: None,
            }
        })
        .collect();
    let truncated = entries.len() > MAX_ENTRIES;
    entries.truncate(MAX_ENTRIES);
    Ok(WhoSawReply {
        service: SERVICE.into(),
        entries,
        truncated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_valid_bsn_in_a_payload_becomes_its_pseudonym_and_nothing_else_does() {
        let key = PseudonymKey::new("test-key-for-the-desk");
        let p = |bsn: &str| key.person_key(&Bsn::parse(bsn).unwrap());
        // An event carrying a notice, as the router dead-letters one.
        let accepted = br#"{"notice_key":"PI-HAARLEM:1","person_key":"x",
            "notice":{"person":{"bsn":"123456782","family_name":"Jansen"}}}"#;
        assert_eq!(person_keys(&key, accepted), [p("123456782")]);
        // Two persons, one of them twice, and a BSN failing the 11-proef.
        let several = br#"[{"bsn":"111222333"},{"person":{"bsn":"123456782"}},
            {"bsn":"123456782"},{"bsn":"111222334"}]"#;
        let mut both = vec![p("111222333"), p("123456782")];
        both.sort();
        assert_eq!(person_keys(&key, several), both);
        // Not JSON, no BSN, a BSN that is not a string, a masked one.
        for nothing in [
            &b"{not a notice"[..],
            br#"{"person":{"family_name":"Jansen"}}"#,
            br#"{"bsn":123456782}"#,
            br#"{"bsn":"*****6782"}"#,
            b"",
        ] {
            assert!(person_keys(&key, nothing).is_empty());
        }
        // The pseudonym, never the number.
        assert!(!p("123456782").contains("123456782"));
    }

    #[test]
    fn each_desk_action_has_its_word_in_the_shared_vocabulary() {
        for action in [
            DeadLetterAction::Inspected,
            DeadLetterAction::Replayed,
            DeadLetterAction::Discarded,
        ] {
            let word = what(action);
            assert!(What::parse(&word).is_some(), "{word}");
        }
        assert_eq!(what(DeadLetterAction::Inspected), "dead_letter_inspected");
    }
}
