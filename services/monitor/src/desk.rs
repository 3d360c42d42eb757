//! The RCN's dead-letter desk (service `rcn-dead-letters`, subjects
//! `rcn.<region>.api.monitor.dead-letters.{list,show,replay,discard}`): what the services gave up
//! on, for RCN coordinators only, through the kit's one dead-letter implementation
//! ([`rcn_runtime::dlq`]).
//!
//! It is the one part of the monitor that lets personal data out: `show` answers a letter's
//! payload. So every `show` is written to `dead_letter_log` (who, role, organisation, which
//! letter, why) *before* it is answered, and a replay or discard is written there after it is
//! done, with the coordinator's reason; the list shows who settled what. The list itself carries
//! no payload. Nothing here logs a payload. Each log row keeps the person pseudonyms of the BSNs
//! the payload holds (`crate::privacy::person_keys`), so the privacy officer's "who saw this
//! person" finds it: `rcn.<region>.api.monitor.privacy_accesses`, served here too, as is the
//! monitor's deletion log for the privacy officer and the administrator
//! (`rcn.<region>.api.monitor.retention_log`, the kit's endpoint: what retention removed of this
//! log and of the privacy questions; counts only).

use std::sync::Arc;

use async_nats::jetstream;
use chrono::{DateTime, Utc};
use rcn_contracts::dead_letters_api::{
    DeadLetterActReply, DeadLetterActRequest, DeadLetterAction, DeadLetterListReply,
    DeadLetterListRequest, DeadLetterShowReply, DeadLetterSummary, SETTLED_SHOWN,
    SettledDeadLetter,
};
use rcn_contracts::envelope::ApiProblem;
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::privacy_api::{WHO_SAW_VERB, WhoSawRequest};
use rcn_contracts::pseudonym::PseudonymKey;
use rcn_contracts::{Gemeentecode, Subjects};
use rcn_runtime::dlq::{self, DeadLetter, DlqError};
use rcn_runtime::endpoint::{Caller, Endpoint, Request, ServiceSpec};
use sqlx::PgPool;

/// What the desk needs.
pub struct Desk {
    pub pool: PgPool,
    pub js: jetstream::Context,
    pub subjects: Subjects,
    /// The region's pseudonym key: turns the BSNs in a payload into the person pseudonyms kept
    /// with the log row, and the privacy officer's BSN into the one to look for.
    pub pseudonyms: PseudonymKey,
}

/// The desk's service; start it with `.start(&nats, verifier)`.
pub fn service(subjects: &Subjects, desk: Arc<Desk>) -> ServiceSpec {
    let log = rcn_runtime::retention::log_endpoint(
        crate::SCHEMA,
        subjects.monitor_api(rcn_contracts::retention::RETENTION_LOG_VERB),
        desk.pool.clone(),
    );
    let (d1, d2, d3, d4, d5) = (desk.clone(), desk.clone(), desk.clone(), desk.clone(), desk);
    ServiceSpec::new(
        "rcn-dead-letters",
        env!("CARGO_PKG_VERSION"),
        "rcn dead-letter desk: list, inspect (logged), replay and discard, for RCN coordinators; who saw a person and the deletion log, for the privacy officer",
    )
    .endpoint(Endpoint::new(
        "list",
        subjects.dead_letters_list(),
        Caller::Person,
        move |r: Request<DeadLetterListRequest>| {
            let d = d1.clone();
            async move { d.list(&r).await }
        },
    ))
    .endpoint(Endpoint::new(
        "show",
        subjects.dead_letters_show(),
        Caller::Person,
        move |r: Request<DeadLetterActRequest>| {
            let d = d2.clone();
            async move { d.show(&r).await }
        },
    ))
    .endpoint(Endpoint::new(
        "replay",
        subjects.dead_letters_replay(),
        Caller::Person,
        move |r: Request<DeadLetterActRequest>| {
            let d = d3.clone();
            async move { d.settle(&r, DeadLetterAction::Replayed).await }
        },
    ))
    .endpoint(Endpoint::new(
        "discard",
        subjects.dead_letters_discard(),
        Caller::Person,
        move |r: Request<DeadLetterActRequest>| {
            let d = d4.clone();
            async move { d.settle(&r, DeadLetterAction::Discarded).await }
        },
    ))
    .endpoint(Endpoint::new(
        "privacy-accesses",
        subjects.monitor_api(WHO_SAW_VERB),
        Caller::Person,
        move |r: Request<WhoSawRequest>| {
            let d = d5.clone();
            async move {
                crate::privacy::who_saw(&d.pool, &d.pseudonyms, r.person()?, &r.body.bsn).await
            }
        },
    ))
    .endpoint(log)
}

fn coordinator<T>(r: &Request<T>) -> Result<&Identity, ApiProblem> {
    let who = r.person()?;
    if who.role == Role::RcnCoordinator {
        Ok(who)
    } else {
        Err(ApiProblem::forbidden(
            "only RCN coordinators work the dead-letter queue",
        ))
    }
}

fn summary(l: &DeadLetter) -> DeadLetterSummary {
    DeadLetterSummary {
        sequence: l.sequence,
        service: l.service.clone(),
        dead_lettered_at: l.time,
        error: l.error.clone(),
        original_subject: l.original_subject.clone(),
        deliveries: l.delivered.clone(),
    }
}

fn problem(e: DlqError) -> ApiProblem {
    match e {
        DlqError::NotFound(seq) => ApiProblem::not_found(format!(
            "there is no dead letter {seq} (any more): it may have been replayed or discarded"
        )),
        DlqError::NoOrigin(seq) => ApiProblem::conflict(format!(
            "dead letter {seq} does not say where it came from; it cannot be replayed"
        )),
        DlqError::Nats(e) => {
            tracing::warn!(error = %e, "the dead-letter stream cannot be used");
            ApiProblem::unavailable("the dead-letter queue cannot be read right now; ask again")
        }
    }
}

fn database(e: sqlx::Error) -> ApiProblem {
    tracing::error!(error = %e, "the dead-letter log cannot be written or read");
    ApiProblem::unavailable("the dead-letter log cannot be used right now; nothing was done")
}

impl Desk {
    async fn list(
        &self,
        r: &Request<DeadLetterListRequest>,
    ) -> Result<DeadLetterListReply, ApiProblem> {
        coordinator(r)?;
        let waiting = dlq::list(&self.js, &self.subjects, r.body.service.as_deref())
            .await
            .map_err(problem)?
            .iter()
            .map(summary)
            .collect();
        let settled = sqlx::query!(
            r#"SELECT sequence, service, action AS "action: DeadLetterAction", user_id, at, why
               FROM dead_letter_log
               WHERE action <> $1 AND ($2::text IS NULL OR service = $2)
               ORDER BY at DESC, id DESC LIMIT $3"#,
            DeadLetterAction::Inspected as DeadLetterAction,
            r.body.service.as_deref(),
            SETTLED_SHOWN,
        )
        .fetch_all(&self.pool)
        .await
        .map_err(database)?
        .into_iter()
        .map(|row| SettledDeadLetter {
            sequence: u64::try_from(row.sequence).unwrap_or_default(),
            service: row.service,
            action: row.action,
            by: row.user_id,
            at: row.at,
            why: row.why,
        })
        .collect();
        Ok(DeadLetterListReply { waiting, settled })
    }

    async fn show(
        &self,
        r: &Request<DeadLetterActRequest>,
    ) -> Result<DeadLetterShowReply, ApiProblem> {
        let who = coordinator(r)?;
        let problems = r.body.problems();
        if !problems.is_empty() {
            return Err(ApiProblem::invalid(problems));
        }
        let letter = dlq::get(&self.js, &self.subjects, r.body.sequence)
            .await
            .map_err(problem)?;
        // Logged before it is answered: no payload leaves without its record.
        self.log(who, &letter, DeadLetterAction::Inspected, &r.body.why)
            .await?;
        Ok(DeadLetterShowReply {
            letter: summary(&letter),
            original_msg_id: letter.original_msg_id.clone(),
            payload: String::from_utf8_lossy(&letter.payload).into_owned(),
        })
    }

    async fn settle(
        &self,
        r: &Request<DeadLetterActRequest>,
        action: DeadLetterAction,
    ) -> Result<DeadLetterActReply, ApiProblem> {
        let who = coordinator(r)?;
        let problems = r.body.problems();
        if !problems.is_empty() {
            return Err(ApiProblem::invalid(problems));
        }
        let seq = r.body.sequence;
        let letter = match action {
            DeadLetterAction::Replayed => dlq::replay(&self.js, &self.subjects, seq).await,
            _ => dlq::discard(&self.js, &self.subjects, seq).await,
        }
        .map_err(problem)?;
        tracing::info!(
            sequence = seq,
            service = %letter.service,
            action = action.as_str(),
            user = %who.user_id,
            "dead letter settled"
        );
        let at = self.log(who, &letter, action, &r.body.why).await?;
        Ok(DeadLetterActReply {
            settled: SettledDeadLetter {
                sequence: seq,
                service: letter.service,
                action,
                by: who.user_id.clone(),
                at,
                why: r.body.why.trim().to_owned(),
            },
        })
    }

    async fn log(
        &self,
        who: &Identity,
        letter: &DeadLetter,
        action: DeadLetterAction,
        why: &str,
    ) -> Result<DateTime<Utc>, ApiProblem> {
        // The persons the payload is about, by pseudonym; none (NULL) for a payload without a BSN.
        let persons = crate::privacy::person_keys(&self.pseudonyms, &letter.payload);
        let persons = (!persons.is_empty()).then_some(persons);
        sqlx::query_scalar!(
            "INSERT INTO dead_letter_log (sequence, service, action, user_id, role, gemeentecode, why, person_keys)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING at",
            i64::try_from(letter.sequence).unwrap_or(i64::MAX),
            &letter.service,
            action as DeadLetterAction,
            &who.user_id,
            who.role as Role,
            who.gemeentecode.as_ref() as Option<&Gemeentecode>,
            why.trim(),
            persons.as_deref(),
        )
        .fetch_one(&self.pool)
        .await
        .map_err(database)
    }
}
