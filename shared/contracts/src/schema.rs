//! The public contract as JSON Schema, generated from the Rust types, and the AsyncAPI document
//! that names every subject with them ([`crate::asyncapi`]). The files under `schemas/` are
//! checked in; a test fails when they differ from what the code generates, and
//! `RCN_UPDATE_SCHEMAS=1 cargo test -p rcn-contracts` rewrites them.

use schemars::{JsonSchema, schema_for};

use crate::casework_api::{
    BulkReply, CaseClosedReply, CaseDetail, CaseRequest, ClaimCaseRequest, ClaimManyRequest,
    CloseCaseRequest, HandoverRequest, InboxPage, InboxQuery, ReassignRequest, TaskHistory,
    TaskHistoryRequest, TaskRequest, TaskView, UpdateStatusRequest,
};
use crate::casework_events::{
    CaseClosed, CaseRescheduled, RiskFlagsNoted, TaskAssigned, TaskDeadline, TaskStatusChanged,
};
use crate::dead_letters_api::{
    DeadLetterActReply, DeadLetterActRequest, DeadLetterListReply, DeadLetterListRequest,
    DeadLetterShowReply,
};
use crate::envelope::ApiReply;
use crate::events::{CaseOpened, CaseUpdated, NoticeAccepted, NoticeRouted};
use crate::forwarding::{ForwardAcknowledged, NoticeForwarded};
use crate::identity::Identity;
use crate::intake::{PartnerIdentity, StatusReply, StatusRequest, SubmitReply};
use crate::monitor_api::{Figures, FiguresRequest};
use crate::notice::ReleaseNotice;
use crate::procesregie_api::{
    ActionRequest, AgendaQuery, ApplicationForm, ApplicationList, ApplicationQuery, ApplicationRef,
    ApplicationView, CloseIcoRequest, IcoList, IcoQuery, IcoRef, IcoUpdate, IcoView, ReviewRequest,
    SettingsView, SuggestionDismiss, SuggestionList, SuggestionQuery, SuggestionRef,
    SuggestionView, TriageAgenda, TriageDecision,
};
use crate::procesregie_events::{
    ApplicationSubmitted, ApplicationTriaged, IcoActionChanged, IcoActionOverdue, IcoClosed,
    IcoOpened, IcoReviewHeld, IcoReviewOverdue,
};
use crate::routing_api::{
    DecisionsReply, DecisionsRequest, ForwardedAckReply, ForwardedAckRequest, ForwardedListReply,
    QueueDecideReply, QueueDecideRequest, QueueListReply, QueueListRequest,
};

fn pretty<T: JsonSchema>() -> String {
    let mut s = serde_json::to_string_pretty(&schema_for!(T)).expect("a schema serialises");
    s.push('\n');
    s
}

/// Every published schema: file name under `schemas/` and its content.
pub fn all() -> Vec<(&'static str, String)> {
    vec![
        ("release-notice.v1.json", pretty::<ReleaseNotice>()),
        ("intake-submit-reply.v1.json", pretty::<SubmitReply>()),
        ("notice-accepted.v1.json", pretty::<NoticeAccepted>()),
        ("notice-routed.v1.json", pretty::<NoticeRouted>()),
        ("case-opened.v1.json", pretty::<CaseOpened>()),
        ("case-updated.v1.json", pretty::<CaseUpdated>()),
        ("partner-identity.v1.json", pretty::<PartnerIdentity>()),
        ("intake-status-request.v1.json", pretty::<StatusRequest>()),
        ("intake-status-reply.v1.json", pretty::<StatusReply>()),
        ("case-rescheduled.v1.json", pretty::<CaseRescheduled>()),
        ("case-closed.v1.json", pretty::<CaseClosed>()),
        ("task-assigned.v1.json", pretty::<TaskAssigned>()),
        ("task-status-changed.v1.json", pretty::<TaskStatusChanged>()),
        ("task-deadline.v1.json", pretty::<TaskDeadline>()),
        ("notice-forwarded.v1.json", pretty::<NoticeForwarded>()),
        ("identity.v1.json", pretty::<Identity>()),
        (
            "router-queue-list-reply.v1.json",
            pretty::<ApiReply<QueueListReply>>(),
        ),
        (
            "router-queue-decide-request.v1.json",
            pretty::<QueueDecideRequest>(),
        ),
        (
            "router-queue-decide-reply.v1.json",
            pretty::<ApiReply<QueueDecideReply>>(),
        ),
        ("casework-inbox-query.v1.json", pretty::<InboxQuery>()),
        (
            "casework-update-status-request.v1.json",
            pretty::<UpdateStatusRequest>(),
        ),
        (
            "casework-close-case-request.v1.json",
            pretty::<CloseCaseRequest>(),
        ),
        ("casework-case-request.v1.json", pretty::<CaseRequest>()),
        ("casework-case-detail.v1.json", pretty::<CaseDetail>()),
        // The request and reply types of every API subject (see asyncapi.rs).
        (
            "router-queue-list-request.v1.json",
            pretty::<QueueListRequest>(),
        ),
        (
            "router-forwarded-list-reply.v1.json",
            pretty::<ApiReply<ForwardedListReply>>(),
        ),
        (
            "router-forwarded-ack-request.v1.json",
            pretty::<ForwardedAckRequest>(),
        ),
        (
            "router-forwarded-ack-reply.v1.json",
            pretty::<ApiReply<ForwardedAckReply>>(),
        ),
        (
            "router-decisions-request.v1.json",
            pretty::<DecisionsRequest>(),
        ),
        (
            "router-decisions-reply.v1.json",
            pretty::<ApiReply<DecisionsReply>>(),
        ),
        ("casework-task-request.v1.json", pretty::<TaskRequest>()),
        (
            "casework-task-history-request.v1.json",
            pretty::<TaskHistoryRequest>(),
        ),
        (
            "casework-claim-case-request.v1.json",
            pretty::<ClaimCaseRequest>(),
        ),
        (
            "casework-claim-many-request.v1.json",
            pretty::<ClaimManyRequest>(),
        ),
        (
            "casework-handover-request.v1.json",
            pretty::<HandoverRequest>(),
        ),
        (
            "casework-reassign-request.v1.json",
            pretty::<ReassignRequest>(),
        ),
        (
            "casework-inbox-reply.v1.json",
            pretty::<ApiReply<InboxPage>>(),
        ),
        (
            "casework-case-reply.v1.json",
            pretty::<ApiReply<CaseDetail>>(),
        ),
        (
            "casework-task-reply.v1.json",
            pretty::<ApiReply<TaskView>>(),
        ),
        (
            "casework-bulk-reply.v1.json",
            pretty::<ApiReply<BulkReply>>(),
        ),
        (
            "casework-close-case-reply.v1.json",
            pretty::<ApiReply<CaseClosedReply>>(),
        ),
        (
            "casework-task-history-reply.v1.json",
            pretty::<ApiReply<TaskHistory>>(),
        ),
        (
            "privacy-who-saw-request.v1.json",
            pretty::<crate::privacy_api::WhoSawRequest>(),
        ),
        (
            "privacy-who-saw-reply.v1.json",
            pretty::<ApiReply<crate::privacy_api::WhoSawReply>>(),
        ),
        (
            "retention-log-request.v1.json",
            pretty::<crate::retention::RetentionLogRequest>(),
        ),
        (
            "retention-log-reply.v1.json",
            pretty::<ApiReply<crate::retention::RetentionLogReply>>(),
        ),
        (
            "casework-open-episodes-request.v1.json",
            pretty::<crate::casework_api::OpenEpisodesRequest>(),
        ),
        (
            "casework-open-episodes-reply.v1.json",
            pretty::<ApiReply<crate::casework_api::OpenEpisodesReply>>(),
        ),
        (
            "privacy-export-request.v1.json",
            pretty::<crate::privacy_export::ExportRequest>(),
        ),
        (
            "privacy-export-intake-reply.v1.json",
            pretty::<ApiReply<crate::privacy_export::IntakeExport>>(),
        ),
        (
            "privacy-export-router-reply.v1.json",
            pretty::<ApiReply<crate::privacy_export::RouterExport>>(),
        ),
        (
            "privacy-export-casework-reply.v1.json",
            pretty::<ApiReply<crate::privacy_export::CaseworkExport>>(),
        ),
        (
            "privacy-export-procesregie-reply.v1.json",
            pretty::<ApiReply<crate::privacy_export::ProcesregieExport>>(),
        ),
        (
            "privacy-export.v1.json",
            pretty::<crate::privacy_export::PersonExport>(),
        ),
        (
            "procesregie-settings-reply.v1.json",
            pretty::<ApiReply<SettingsView>>(),
        ),
        ("risk-flags-noted.v1.json", pretty::<RiskFlagsNoted>()),
        (
            "procesregie-application-form.v1.json",
            pretty::<ApplicationForm>(),
        ),
        (
            "procesregie-application-ref.v1.json",
            pretty::<ApplicationRef>(),
        ),
        (
            "procesregie-application-query.v1.json",
            pretty::<ApplicationQuery>(),
        ),
        ("procesregie-agenda-query.v1.json", pretty::<AgendaQuery>()),
        (
            "procesregie-triage-decision.v1.json",
            pretty::<TriageDecision>(),
        ),
        ("procesregie-ico-ref.v1.json", pretty::<IcoRef>()),
        ("procesregie-ico-query.v1.json", pretty::<IcoQuery>()),
        ("procesregie-ico-update.v1.json", pretty::<IcoUpdate>()),
        (
            "procesregie-action-request.v1.json",
            pretty::<ActionRequest>(),
        ),
        (
            "procesregie-review-request.v1.json",
            pretty::<ReviewRequest>(),
        ),
        (
            "procesregie-close-ico-request.v1.json",
            pretty::<CloseIcoRequest>(),
        ),
        (
            "procesregie-suggestion-query.v1.json",
            pretty::<SuggestionQuery>(),
        ),
        (
            "procesregie-suggestion-ref.v1.json",
            pretty::<SuggestionRef>(),
        ),
        (
            "procesregie-suggestion-dismiss.v1.json",
            pretty::<SuggestionDismiss>(),
        ),
        (
            "procesregie-application-reply.v1.json",
            pretty::<ApiReply<ApplicationView>>(),
        ),
        (
            "procesregie-application-list-reply.v1.json",
            pretty::<ApiReply<ApplicationList>>(),
        ),
        (
            "procesregie-triage-agenda-reply.v1.json",
            pretty::<ApiReply<TriageAgenda>>(),
        ),
        (
            "procesregie-ico-reply.v1.json",
            pretty::<ApiReply<IcoView>>(),
        ),
        (
            "procesregie-ico-list-reply.v1.json",
            pretty::<ApiReply<IcoList>>(),
        ),
        (
            "procesregie-suggestion-list-reply.v1.json",
            pretty::<ApiReply<SuggestionList>>(),
        ),
        (
            "procesregie-suggestion-reply.v1.json",
            pretty::<ApiReply<SuggestionView>>(),
        ),
        (
            "application-submitted.v1.json",
            pretty::<ApplicationSubmitted>(),
        ),
        (
            "application-triaged.v1.json",
            pretty::<ApplicationTriaged>(),
        ),
        ("ico-opened.v1.json", pretty::<IcoOpened>()),
        ("ico-action-changed.v1.json", pretty::<IcoActionChanged>()),
        ("ico-review-held.v1.json", pretty::<IcoReviewHeld>()),
        ("ico-closed.v1.json", pretty::<IcoClosed>()),
        ("ico-action-overdue.v1.json", pretty::<IcoActionOverdue>()),
        ("ico-review-overdue.v1.json", pretty::<IcoReviewOverdue>()),
        (
            "forward-acknowledged.v1.json",
            pretty::<ForwardAcknowledged>(),
        ),
        (
            "monitor-figures-request.v1.json",
            pretty::<FiguresRequest>(),
        ),
        (
            "monitor-figures-reply.v1.json",
            pretty::<ApiReply<Figures>>(),
        ),
        (
            "dead-letters-list-request.v1.json",
            pretty::<DeadLetterListRequest>(),
        ),
        (
            "dead-letters-list-reply.v1.json",
            pretty::<ApiReply<DeadLetterListReply>>(),
        ),
        (
            "dead-letters-act-request.v1.json",
            pretty::<DeadLetterActRequest>(),
        ),
        (
            "dead-letters-show-reply.v1.json",
            pretty::<ApiReply<DeadLetterShowReply>>(),
        ),
        (
            "dead-letters-act-reply.v1.json",
            pretty::<ApiReply<DeadLetterActReply>>(),
        ),
    ]
}

/// Every generated file under `schemas/`: the JSON Schemas and the AsyncAPI document.
pub fn files() -> Vec<(&'static str, String)> {
    let mut files = all();
    files.push(("asyncapi.yaml", crate::asyncapi::document()));
    files
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    #[test]
    fn committed_schemas_match_the_types() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemas");
        let update = std::env::var_os("RCN_UPDATE_SCHEMAS").is_some();
        let mut stale = Vec::new();
        for (name, content) in super::files() {
            let path = dir.join(name);
            if update {
                std::fs::write(&path, &content).expect("write schema");
            } else if std::fs::read_to_string(&path).ok().as_deref() != Some(content.as_str()) {
                stale.push(name);
            }
        }
        assert!(
            stale.is_empty(),
            "schemas/ is out of date for {stale:?}; run RCN_UPDATE_SCHEMAS=1 cargo test -p rcn-contracts"
        );
    }
}
