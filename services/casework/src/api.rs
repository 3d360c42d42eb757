//! Casework's request-reply API, declared on the endpoint kit (`rcn_runtime::endpoint`, service
//! `rcn-casework`, so `$SRV.INFO.rcn-casework` and `nats micro ls` list it): one endpoint per
//! verb on `rcn.<region>.api.casework.<verb>`.
//!
//! Every verb but one is for a person: the kit refuses a request without a readable
//! `Rcn-Identity` before anything is read, and carries out nothing without a reply subject. The
//! exception is `open_episodes`, which intake's and the router's retention jobs ask (another
//! service; NATS permissions let only them and the gateway publish there, and a request with a
//! person's identity is refused): which episodes still have an open case. Replies are the
//! kit's envelope, `{"ok": …}` or `{"problem": …}`, the problem of one of
//! `casework_api::ErrorCode`'s kinds; a database error is logged here and answered with a kind
//! and a plain sentence, never with its text. A request PostgreSQL aborted because of a
//! concurrent one (a deadlock or serialization failure) runs again ([`retrying`]).

use std::future::Future;
use std::sync::Arc;

use rcn_contracts::Subjects;
use rcn_contracts::casework_api::{
    CaseRequest, ClaimCaseRequest, ClaimManyRequest, CloseCaseRequest, HandoverRequest, InboxQuery,
    ReassignRequest, TaskHistoryRequest, TaskRequest, UpdateStatusRequest,
};
use rcn_contracts::envelope::{ApiProblem, RequestBody};
use rcn_contracts::identity::Identity;
use rcn_contracts::privacy_api::{WHO_SAW_VERB, WhoSawRequest};
use rcn_contracts::privacy_export::{EXPORT_VERB, ExportRequest};
use rcn_runtime::endpoint::{Caller, Endpoint, Request, ServiceSpec};
use serde::Serialize;

use crate::error::{CaseworkError, Result};
use crate::retry::retrying;
use crate::state::{Casework, today};
use crate::{case_detail, claims, closing, inbox, privacy, privacy_export, tasks};

/// Requests handled at once per instance.
const CONCURRENT_REQUESTS: usize = 64;

/// Casework's service with one endpoint per verb; start it with `.start(&nats)`.
pub fn service(subjects: &Subjects, cw: Arc<Casework>) -> ServiceSpec {
    let verb = |name: &'static str| Verb {
        name,
        subjects,
        cw: cw.clone(),
    };
    ServiceSpec::new(
        "rcn-casework",
        env!("CARGO_PKG_VERSION"),
        "rcn casework: inbox, claiming and working condition tasks",
    )
    .concurrency(CONCURRENT_REQUESTS)
    .endpoint(
        verb("inbox")
            .on(|cw, who, q: InboxQuery| async move { inbox::inbox(&cw, &who, &q, today()).await }),
    )
    .endpoint(verb("case").on(|cw, who, r: CaseRequest| async move {
        case_detail::case_detail(&cw, &who, &r, today()).await
    }))
    .endpoint(
        verb("claim")
            .on(|cw, who, r: TaskRequest| async move { claims::claim(&cw, &who, r.task).await }),
    )
    .endpoint(
        verb("claim_case").on(|cw, who, r: ClaimCaseRequest| async move {
            claims::claim_case(&cw, &who, r.case_id).await
        }),
    )
    .endpoint(
        verb("claim_many").on(|cw, who, r: ClaimManyRequest| async move {
            claims::claim_many(&cw, &who, &r.tasks).await
        }),
    )
    .endpoint(
        verb("unclaim")
            .on(|cw, who, r: TaskRequest| async move { claims::unclaim(&cw, &who, r.task).await }),
    )
    .endpoint(
        verb("handover").on(|cw, who, r: HandoverRequest| async move {
            claims::handover(&cw, &who, r.task, &r.to_user_id, r.note.as_deref()).await
        }),
    )
    .endpoint(
        verb("reassign").on(|cw, who, r: ReassignRequest| async move {
            let to = r.to_user_id.as_deref();
            let (expected, note) = (r.expected_holder.as_deref(), r.note.as_deref());
            claims::reassign(&cw, &who, &r.tasks, expected, to, note).await
        }),
    )
    .endpoint(
        verb("update_status").on(|cw, who, r: UpdateStatusRequest| async move {
            tasks::update_status(&cw, &who, &r).await
        }),
    )
    .endpoint(
        verb("close_case").on(|cw, who, r: CloseCaseRequest| async move {
            closing::close_by_hand(&cw, &who, &r).await
        }),
    )
    .endpoint(
        verb("task_history").on(|cw, who, r: TaskHistoryRequest| async move {
            tasks::task_history(&cw, &who, r.task, r.why.as_deref()).await
        }),
    )
    .endpoint(
        verb(WHO_SAW_VERB).on(|cw, who, r: WhoSawRequest| async move {
            privacy::who_saw(&cw, &who, &r.bsn).await
        }),
    )
    .endpoint(
        verb(EXPORT_VERB).on(|cw, who, r: ExportRequest| async move {
            privacy_export::export(&cw, &who, &r).await
        }),
    )
    .endpoint(open_episodes(subjects, cw.clone()))
    .endpoint(rcn_runtime::retention::log_endpoint(
        "casework",
        subjects.casework_api(rcn_contracts::retention::RETENTION_LOG_VERB),
        cw.pool.clone(),
    ))
}

/// `open_episodes`: which of the asked episodes have an open case, for the notice rules of the
/// retention jobs of intake and the router. Episode pseudonyms in, episode pseudonyms out.
fn open_episodes(subjects: &Subjects, cw: Arc<Casework>) -> Endpoint {
    use rcn_contracts::casework_api::{OPEN_EPISODES_VERB, OpenEpisodesReply, OpenEpisodesRequest};
    Endpoint::new(
        OPEN_EPISODES_VERB,
        subjects.casework_api(OPEN_EPISODES_VERB),
        Caller::Service,
        move |r: Request<OpenEpisodesRequest>| {
            let cw = cw.clone();
            async move {
                let open = crate::retention::open_episodes(&cw.pool, &r.body.episode_keys)
                    .await
                    .map_err(|e| {
                        tracing::error!(verb = OPEN_EPISODES_VERB, error = %e, "casework request failed");
                        ApiProblem::unavailable("casework cannot say which cases are open now")
                    })?;
                Ok(OpenEpisodesReply { open })
            }
        },
    )
}

/// One verb before its work is given.
struct Verb<'a> {
    name: &'static str,
    subjects: &'a Subjects,
    cw: Arc<Casework>,
}

impl Verb<'_> {
    /// The endpoint that does `work` for the person asking, as one transaction run again after
    /// a transient conflict.
    fn on<Req, Rep, F, Fut>(self, work: F) -> Endpoint
    where
        Req: RequestBody + Clone + Send + Sync + 'static,
        Rep: Serialize + Send + 'static,
        F: Fn(Arc<Casework>, Identity, Req) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = Result<Rep>> + Send + 'static,
    {
        let Verb { name, subjects, cw } = self;
        Endpoint::new(
            name,
            subjects.casework_api(name),
            Caller::Person,
            move |r: Request<Req>| {
                let (cw, work) = (cw.clone(), work.clone());
                async move {
                    let who = r.person()?.clone();
                    let body = r.body;
                    retrying(|| work(cw.clone(), who.clone(), body.clone()))
                        .await
                        .map_err(|e| problem(name, &who, &e))
                }
            },
        )
    }
}

/// The problem for the caller; a database error is logged here (the kit logs only the outcome).
fn problem(verb: &str, who: &Identity, e: &CaseworkError) -> ApiProblem {
    if let CaseworkError::Db(err) = e {
        tracing::error!(verb, user = %who.user_id, error = %err, "casework request failed");
    }
    e.to_problem()
}
