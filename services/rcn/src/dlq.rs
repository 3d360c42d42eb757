//! The operator's view of the dead-letter queue (`rcn dlq …`).
//!
//! `rcn dlq list` reads the queue through the kit's one implementation ([`rcn_runtime::dlq`]):
//! the letters without their payloads, nothing personal.
//!
//! `rcn dlq show`, `replay` and `discard` go through the monitor's dead-letter desk
//! (`rcn.<region>.api.monitor.dead-letters.{show,replay,discard}`), as an RCN coordinator in
//! their own name (`--user`) and with a reason (`--why`), the identity signed with the region's
//! identity key as the gateway signs it — as `rcn privacy who-saw --user` asks as the privacy
//! officer. So a payload read or a letter settled from the command line is logged in
//! `monitor.dead_letter_log` like one from the portal (with the letter's person pseudonyms, so
//! the privacy officer's "who saw this person" finds it), and nothing is shown or done when the
//! desk cannot log it.

use std::time::Duration;

use anyhow::Context as _;
use rcn_contracts::Subjects;
use rcn_contracts::dead_letters_api::{
    DeadLetterActReply, DeadLetterActRequest, DeadLetterAction, DeadLetterShowReply,
};
use rcn_contracts::envelope::{ApiProblem, ApiReply};
use rcn_contracts::identity::{Identity, Role, check_user_id};
pub use rcn_runtime::dlq::{DeadLetter, DlqError, discard, get, list, replay};
use rcn_runtime::signed_identity::IdentitySigner;

/// How long the desk may take to answer.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The dead-letter desk, asked as one RCN coordinator.
pub struct Desk<'a> {
    nats: &'a async_nats::Client,
    subjects: &'a Subjects,
    signer: &'a IdentitySigner,
    who: Identity,
}

impl<'a> Desk<'a> {
    /// The desk as RCN coordinator `user_id` (`--user`, an account id: checked here, before
    /// anything is asked).
    pub fn new(
        nats: &'a async_nats::Client,
        subjects: &'a Subjects,
        signer: &'a IdentitySigner,
        user_id: &str,
    ) -> anyhow::Result<Self> {
        check_user_id(user_id).map_err(|e| anyhow::anyhow!("--user: {}", e.0))?;
        Ok(Self {
            nats,
            subjects,
            signer,
            who: Identity {
                user_id: user_id.to_owned(),
                role: Role::RcnCoordinator,
                gemeentecode: None,
            },
        })
    }

    /// The letter at `sequence` with its payload; the desk logs the read, with `why`, before it
    /// answers.
    pub async fn show(&self, sequence: u64, why: &str) -> anyhow::Result<DeadLetterShowReply> {
        self.ask(self.subjects.dead_letters_show(), sequence, why)
            .await
    }

    /// Replays (publishes to its original subject again) or discards the letter at `sequence`;
    /// the desk logs it with `why`.
    pub async fn settle(
        &self,
        sequence: u64,
        why: &str,
        action: DeadLetterAction,
    ) -> anyhow::Result<DeadLetterActReply> {
        let subject = match action {
            DeadLetterAction::Replayed => self.subjects.dead_letters_replay(),
            DeadLetterAction::Discarded => self.subjects.dead_letters_discard(),
            DeadLetterAction::Inspected => return Err(anyhow::anyhow!("use show to inspect")),
        };
        self.ask(subject, sequence, why).await
    }

    async fn ask<T: serde::de::DeserializeOwned>(
        &self,
        subject: String,
        sequence: u64,
        why: &str,
    ) -> anyhow::Result<T> {
        let request = checked(sequence, why)?;
        let payload = serde_json::to_vec(&request)?;
        let h = self.signer.sign(&self.who.to_header(), &subject, &payload);
        let message = self
            .nats
            .send_request(
                subject,
                async_nats::Request::new()
                    .payload(payload.into())
                    .headers(h)
                    .timeout(Some(TIMEOUT)),
            )
            .await
            .map_err(|e| match e.kind() {
                async_nats::client::RequestErrorKind::NoResponders => anyhow::anyhow!(
                    "the dead-letter desk is not running (the monitor serves it): nothing was shown or done"
                ),
                async_nats::client::RequestErrorKind::TimedOut => anyhow::anyhow!(
                    "the dead-letter desk did not answer in time: see `rcn dlq list` for whether it acted"
                ),
                kind => anyhow::anyhow!("the dead-letter desk cannot be asked: {kind}"),
            })?;
        let reply: ApiReply<T> = serde_json::from_slice(&message.payload)
            .context("the dead-letter desk answered something unreadable")?;
        reply.into_result().map_err(|p| refused(&p))
    }
}

/// What is wrong with the desk's flags (`<sequence>`, `--user`, `--why`), before anything is
/// asked.
pub fn check(sequence: u64, user_id: &str, why: &str) -> anyhow::Result<()> {
    check_user_id(user_id).map_err(|e| anyhow::anyhow!("--user: {}", e.0))?;
    checked(sequence, why).map(|_| ())
}

/// The request, or what is wrong with the flags, named as the operator typed them.
fn checked(sequence: u64, why: &str) -> anyhow::Result<DeadLetterActRequest> {
    if sequence == 0 {
        anyhow::bail!("<sequence>: dead letters are numbered from 1 (see `rcn dlq list`)");
    }
    let request = DeadLetterActRequest {
        sequence,
        why: why.to_owned(),
    };
    if let Some(p) = request.problems().first() {
        anyhow::bail!("--why: {}", p.message);
    }
    Ok(request)
}

/// The desk's refusal in words.
fn refused(p: &ApiProblem) -> anyhow::Error {
    match p.status {
        404 => anyhow::anyhow!("{} (see `rcn dlq list`)", p.detail),
        403 | 401 => anyhow::anyhow!("the dead-letter desk refused: {}", p.detail),
        _ => anyhow::anyhow!("the dead-letter desk said no ({}): {}", p.status, p.detail),
    }
}

/// A shown letter as text for a terminal: its particulars, then the payload.
pub fn describe(shown: &DeadLetterShowReply) -> String {
    let l = &shown.letter;
    format!(
        "sequence:         {}\nservice:          {}\noriginal subject: {}\noriginal id:      {}\ndeliveries:       {}\ntime:             {}\nerror:            {}\n\n{}\n",
        l.sequence,
        l.service,
        l.original_subject,
        shown.original_msg_id.as_deref().unwrap_or("-"),
        l.deliveries,
        l.dead_lettered_at,
        l.error,
        shown.payload
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_reason_or_sequence_is_refused_before_anything_is_asked() {
        let e = checked(7, "  ").unwrap_err().to_string();
        assert!(e.starts_with("--why:"), "{e}");
        let e = checked(7, &"x".repeat(2001)).unwrap_err().to_string();
        assert!(e.starts_with("--why:") && e.contains("2000"), "{e}");
        let e = checked(0, "uitzoeken").unwrap_err().to_string();
        assert!(e.starts_with("<sequence>:"), "{e}");
        let e = check(7, " rcn", "uitzoeken").unwrap_err().to_string();
        assert!(e.starts_with("--user:"), "{e}");
        assert!(check(7, "rcn", "uitzoeken").is_ok());
        assert_eq!(
            checked(7, "uitzoeken").unwrap(),
            DeadLetterActRequest {
                sequence: 7,
                why: "uitzoeken".into()
            }
        );
    }
}
