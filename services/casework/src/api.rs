//! Casework's request-reply API over NATS (service `rcn-casework`, so `nats micro ls` lists it):
//! one endpoint per verb on `rcn.<region>.api.casework.<verb>`.
//!
//! Every request carries the caller's identity in the `Rcn-Identity` header, signed by the gateway
//! for this subject and body (checked by the kit's `caller_identity`); a request without a valid
//! one is refused before anything is read, and a request without a reply subject is not
//! carried out at all. Replies are `{"ok": …}` or `{"error": {code,
//! message}}`; database errors are logged here and answered with a code and a plain sentence,
//! never with their text.

use std::sync::Arc;

use async_nats::HeaderMap;
use async_nats::service::ServiceExt;
use futures::StreamExt;
use rcn_contracts::casework_api::{
    CaseRequest, ClaimCaseRequest, ClaimManyRequest, CloseCaseRequest, ErrorCode, HandoverRequest,
    InboxQuery, ReassignRequest, Reply, TaskRequest, UpdateStatusRequest, VERBS,
};
use rcn_contracts::identity::Identity;
use rcn_runtime::signed_identity::IdentityVerifier;
use rcn_runtime::{CancellationToken, Ctx};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::cases::{Casework, today};
use crate::error::{CaseworkError, Result, refuse};
use crate::retry::retrying;
use crate::{case_detail, claims, closing, inbox, tasks};

/// Requests handled at once per instance.
const CONCURRENT_REQUESTS: usize = 64;
/// The largest request body accepted, in bytes.
const MAX_REQUEST_BYTES: usize = 256 * 1024;

/// Serves the API until `shutdown`, then stops the service (NATS stops sending it requests).
pub async fn serve(
    ctx: &Ctx,
    cw: Arc<Casework>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let subjects = ctx.subjects();
    let identities = ctx.config.identity_verifier()?.clone();
    let service = ctx
        .nats
        .service_builder()
        .description("rcn casework: inbox, claiming and working condition tasks")
        .start("rcn-casework", env!("CARGO_PKG_VERSION"))
        .await
        .map_err(|e| anyhow::anyhow!("cannot start the casework NATS service: {e}"))?;
    let mut endpoints = Vec::with_capacity(VERBS.len());
    for verb in VERBS {
        let endpoint = service
            .endpoint_builder()
            .name(verb)
            .add(subjects.casework_api(verb))
            .await
            .map_err(|e| anyhow::anyhow!("cannot add the casework endpoint {verb}: {e}"))?;
        endpoints.push(endpoint.map(move |request| (verb, request)));
    }
    tracing::info!(subjects = %subjects.casework_api("*"), "casework API listening");
    futures::stream::select_all(endpoints)
        .take_until(shutdown.cancelled_owned())
        .for_each_concurrent(CONCURRENT_REQUESTS, |(verb, request)| {
            let (cw, identities) = (cw.clone(), identities.clone());
            async move {
                // Nobody would hear the outcome, so nobody could safely retry it: a change asked
                // for without a reply subject is not carried out (the router's kit does the same).
                if request.message.reply.is_none() {
                    tracing::warn!(verb, "casework request without a reply subject refused");
                    return;
                }
                let m = &request.message;
                let who = identity(
                    &identities,
                    m.subject.as_str(),
                    m.headers.as_ref(),
                    &m.payload,
                );
                let body = handle(&cw, verb, who, &m.payload).await;
                if let Err(e) = request.respond(Ok(body.into())).await {
                    tracing::warn!(verb, error = %e, "could not answer a casework request");
                }
            }
        })
        .await;
    service
        .stop()
        .await
        .map_err(|e| anyhow::anyhow!("stopping the casework service: {e}"))?;
    Ok(())
}

/// Answers one request from `who` (its checked identity, see [`identity`]): the reply body. A
/// request PostgreSQL aborted because of a concurrent one (a deadlock or serialization failure)
/// runs again ([`retrying`]).
pub async fn handle(cw: &Casework, verb: &str, who: Result<Identity>, payload: &[u8]) -> Vec<u8> {
    let who = match who {
        Ok(who) => who,
        Err(e) => return encode::<()>(verb, None, Err(e)),
    };
    let w = &who;
    match verb {
        "inbox" => encode(
            verb,
            Some(w),
            retrying(|| async {
                inbox::inbox(cw, w, &parse::<InboxQuery>(payload)?, today()).await
            })
            .await,
        ),
        "case" => encode(
            verb,
            Some(w),
            retrying(|| async {
                case_detail::case_detail(cw, w, &parse::<CaseRequest>(payload)?, today()).await
            })
            .await,
        ),
        "claim" => encode(
            verb,
            Some(w),
            retrying(|| async { claims::claim(cw, w, parse::<TaskRequest>(payload)?.task).await })
                .await,
        ),
        "unclaim" => encode(
            verb,
            Some(w),
            retrying(|| async {
                claims::unclaim(cw, w, parse::<TaskRequest>(payload)?.task).await
            })
            .await,
        ),
        "handover" => encode(
            verb,
            Some(w),
            retrying(|| async {
                let r = parse::<HandoverRequest>(payload)?;
                claims::handover(cw, w, r.task, &r.to_user_id, r.note.as_deref()).await
            })
            .await,
        ),
        "claim_case" => encode(
            verb,
            Some(w),
            retrying(|| async {
                claims::claim_case(cw, w, parse::<ClaimCaseRequest>(payload)?.case_id).await
            })
            .await,
        ),
        "claim_many" => encode(
            verb,
            Some(w),
            retrying(|| async {
                claims::claim_many(cw, w, &parse::<ClaimManyRequest>(payload)?.tasks).await
            })
            .await,
        ),
        "reassign" => encode(
            verb,
            Some(w),
            retrying(|| async {
                let r = parse::<ReassignRequest>(payload)?;
                claims::reassign(
                    cw,
                    w,
                    &r.tasks,
                    r.expected_holder.as_deref(),
                    r.to_user_id.as_deref(),
                    r.note.as_deref(),
                )
                .await
            })
            .await,
        ),
        "update_status" => encode(
            verb,
            Some(w),
            retrying(|| async {
                tasks::update_status(cw, w, &parse::<UpdateStatusRequest>(payload)?).await
            })
            .await,
        ),
        "close_case" => encode(
            verb,
            Some(w),
            retrying(|| async {
                closing::close_by_hand(cw, w, &parse::<CloseCaseRequest>(payload)?).await
            })
            .await,
        ),
        "task_history" => encode(
            verb,
            Some(w),
            retrying(|| async {
                tasks::task_history(cw, w, parse::<TaskRequest>(payload)?.task).await
            })
            .await,
        ),
        _ => encode::<()>(
            verb,
            Some(w),
            Err(refuse(
                ErrorCode::BadRequest,
                format!("casework has no verb {verb:?}"),
            )),
        ),
    }
}

/// The caller of a request to `subject`: its `Rcn-Identity`, accepted only with the gateway's
/// signature for this subject and body (the kit's one identity extractor).
pub fn identity(
    identities: &IdentityVerifier,
    subject: &str,
    hdrs: Option<&HeaderMap>,
    payload: &[u8],
) -> Result<Identity> {
    match rcn_runtime::endpoint::caller_identity(identities, subject, hdrs, payload) {
        Ok(Some(who)) => Ok(who),
        Ok(None) => Err(refuse(
            ErrorCode::Unauthenticated,
            "The request does not say who is asking.",
        )),
        Err(problem) => Err(refuse(
            ErrorCode::Unauthenticated,
            format!("The request's identity is not usable: {}.", problem.detail),
        )),
    }
}

/// The body as `T`; an empty body reads as `{}`.
fn parse<T: DeserializeOwned>(payload: &[u8]) -> Result<T> {
    if payload.len() > MAX_REQUEST_BYTES {
        return Err(refuse(
            ErrorCode::BadRequest,
            format!("The request is larger than {MAX_REQUEST_BYTES} bytes."),
        ));
    }
    let payload: &[u8] = if payload.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        payload
    };
    // The shared decoder refuses trailing input and never repeats the value it found.
    rcn_contracts::json::decode(payload, "a request").map_err(|p| {
        let what = if p.path.is_empty() {
            format!("The request cannot be read: {}.", p.message)
        } else {
            format!(
                "The request does not match what this verb expects: {}: {}.",
                p.path, p.message
            )
        };
        refuse(ErrorCode::BadRequest, what)
    })
}

fn encode<T: Serialize>(verb: &str, who: Option<&Identity>, result: Result<T>) -> Vec<u8> {
    let reply = match result {
        Ok(v) => Reply::Ok(v),
        Err(e) => {
            match &e {
                CaseworkError::Db(err) => {
                    tracing::error!(verb, user = who.map(|w| w.user_id.as_str()), error = %err, "casework request failed")
                }
                CaseworkError::Refused(r) => {
                    tracing::debug!(verb, code = ?r.code, "casework request refused")
                }
            }
            Reply::Error(e.to_api())
        }
    };
    serde_json::to_vec(&reply).expect("a reply serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_followed_by_anything_else_is_refused() {
        assert!(parse::<InboxQuery>(b"{}").is_ok());
        assert!(parse::<InboxQuery>(b" ").is_ok(), "empty reads as {{}}");
        for body in [&b"{}xyz"[..], b"{}{}", b"{} 1"] {
            assert!(
                parse::<InboxQuery>(body).is_err(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
