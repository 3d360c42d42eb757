//! What the AsyncAPI document says that code cannot: one entry per subject builder with its
//! description and payload types, the message types with their schema files, the parameters.
//! A test checks that every `pub fn … -> String` of `subjects.rs` appears here.

use super::{Channel, Message, Pattern};
use crate::procesregie_events::ProcesregieEvent;
use crate::subjects::Subjects;
use crate::value::Gemeentecode;

pub const DESCRIPTION: &str = "\
Release notices from detention institutions to the Regionaal Coördinatiepunt Nazorg and on to
municipal aftercare, over NATS (JetStream for events, request-reply for APIs). Subjects are
rcn.<region>.<area>.<event>[.<gemeentecode>]; nothing personal is ever in a subject.

Partners on their own NATS account submit on rcn.<region>.intake.submit.<institution_code>
(their account may publish there only, see services/rcn/deploy/nats/accounts.conf) and receive
replies under the inbox prefix _INBOX_<institution_code>. Intake takes the institution from the
subject: a notice naming another institution as its sender is refused (forbidden). The gateway
submits on rcn.<region>.intake.submit with the authenticated institution in the Rcn-Identity
header (a PartnerIdentity); staff APIs carry an Identity there.

Gemeentecodes are checked against the CBS list of municipalities built into rcn
(shared/contracts/municipalities/cbs.csv): a code CBS never gave is refused; the code of a
municipality that merged is accepted and routed to its successor.
";

/// The parameters addresses use.
pub const PARAMETERS: &[(&str, &str)] = &[
    (
        "region",
        "The region segment, e.g. kennemerland (lower-case letters, digits, -).",
    ),
    (
        "gemeentecode",
        "CBS code of the municipality, GM and four digits (GM0392).",
    ),
    (
        "institution_code",
        "The institution's code, e.g. PI-HAARLEM (letters, digits, - and _).",
    ),
    (
        "service",
        "The service that gave up on the message: intake, router, casework or monitor.",
    ),
];

/// Builders of consumer filters (wildcards over a channel) and the channel they cover.
pub const FILTERS: &[(&str, &str)] = &[
    ("intake_submit_any", "intake_submit_for"),
    ("intake_status_any", "intake_status_for"),
    ("routed_any", "routed"),
    ("out_of_region_any", "out_of_region"),
];

/// The casework API's verbs with their request and reply message types.
pub const CASEWORK_VERBS: &[(&str, &str, &str)] = &[
    ("inbox", "InboxQuery", "InboxReply"),
    ("case", "CaseRequest", "CaseReply"),
    ("claim", "TaskRequest", "TaskReply"),
    ("claim_case", "ClaimCaseRequest", "BulkReply"),
    ("claim_many", "ClaimManyRequest", "BulkReply"),
    ("unclaim", "TaskRequest", "TaskReply"),
    ("handover", "HandoverRequest", "TaskReply"),
    ("reassign", "ReassignRequest", "BulkReply"),
    ("update_status", "UpdateStatusRequest", "TaskReply"),
    ("close_case", "CloseCaseRequest", "CloseCaseReply"),
    ("task_history", "TaskHistoryRequest", "TaskHistoryReply"),
    ("privacy_accesses", "WhoSawRequest", "WhoSawReply"),
    ("open_episodes", "OpenEpisodesRequest", "OpenEpisodesReply"),
    ("retention_log", "RetentionLogRequest", "RetentionLogReply"),
    ("privacy_export", "ExportRequest", "CaseworkExportReply"),
];

/// Procesregie's verbs with their request and reply message types (`crate::procesregie_api`).
pub const PROCESREGIE_VERBS: &[(&str, &str, &str)] = &[
    (
        "settings",
        "ProcesregieSettingsRequest",
        "ProcesregieSettingsReply",
    ),
    ("application_save", "ApplicationForm", "ApplicationReply"),
    ("application_get", "ApplicationRef", "ApplicationReply"),
    (
        "application_list",
        "ApplicationQuery",
        "ApplicationListReply",
    ),
    ("triage_agenda", "AgendaQuery", "TriageAgendaReply"),
    ("triage_decide", "TriageDecision", "ApplicationReply"),
    ("ico_get", "IcoRef", "IcoReply"),
    ("ico_list", "IcoQuery", "IcoListReply"),
    ("ico_update", "IcoUpdate", "IcoReply"),
    ("ico_action", "ActionRequest", "IcoReply"),
    ("ico_review", "ReviewRequest", "IcoReply"),
    ("ico_close", "CloseIcoRequest", "IcoReply"),
    ("suggestion_list", "SuggestionQuery", "SuggestionListReply"),
    ("suggestion_accept", "SuggestionRef", "ApplicationReply"),
    ("suggestion_dismiss", "SuggestionDismiss", "SuggestionReply"),
    ("privacy_accesses", "WhoSawRequest", "WhoSawReply"),
    ("retention_log", "RetentionLogRequest", "RetentionLogReply"),
    ("privacy_export", "ExportRequest", "ProcesregieExportReply"),
];

/// Procesregie's events with their message types.
const PROCESREGIE_EVENTS: &[(ProcesregieEvent, &str, &str)] = &[
    (
        ProcesregieEvent::ApplicationSubmitted,
        "ApplicationSubmitted",
        "A complete application was submitted and put on the agenda of a triage meeting.",
    ),
    (
        ProcesregieEvent::ApplicationTriaged,
        "ApplicationTriaged",
        "The triage recorded an application's outcome (ICO, advice, local table, not accepted).",
    ),
    (
        ProcesregieEvent::IcoOpened,
        "IcoOpened",
        "An ICO was opened after the triage admitted an application.",
    ),
    (
        ProcesregieEvent::IcoActionChanged,
        "IcoActionChanged",
        "An action of an ICO's plan van aanpak was added or changed.",
    ),
    (
        ProcesregieEvent::IcoReviewHeld,
        "IcoReviewHeld",
        "A review of an ICO was held.",
    ),
    (
        ProcesregieEvent::IcoClosed,
        "IcoClosed",
        "An ICO was closed, with its reason.",
    ),
    (
        ProcesregieEvent::IcoActionOverdue,
        "IcoActionOverdue",
        "An action of an open ICO passed its due date while still open; once per action and due date.",
    ),
    (
        ProcesregieEvent::IcoReviewOverdue,
        "IcoReviewOverdue",
        "The next review of an open ICO passed without a review held; once per planned date.",
    ),
];

/// The title of a reply in the endpoint kit's envelope (`crate::envelope`).
const ENVELOPE: &str =
    "{\"ok\": reply} | {\"problem\": problem+json: type, title, status, detail, invalidParams}";

const fn msg(name: &'static str, title: &'static str, schema: &'static str) -> Message {
    Message {
        name,
        title,
        schema: Some(schema),
        identity: false,
        deduplicated: false,
    }
}

const fn event(name: &'static str, schema: &'static str) -> Message {
    Message {
        deduplicated: true,
        ..msg(name, "", schema)
    }
}

const fn api(name: &'static str, title: &'static str, schema: &'static str) -> Message {
    Message {
        identity: true,
        ..msg(name, title, schema)
    }
}

/// Every message type, with the schema file of its payload.
pub const MESSAGES: &[Message] = &[
    msg(
        "ReleaseNotice",
        "A release notice (v1), at most 64 KiB",
        "release-notice.v1.json",
    ),
    msg(
        "SubmitReply",
        "accepted (receipt) | rejected (problems with JSON paths) | conflict | forbidden | unavailable (retry)",
        "intake-submit-reply.v1.json",
    ),
    msg("StatusRequest", "", "intake-status-request.v1.json"),
    msg("StatusReply", "", "intake-status-reply.v1.json"),
    event("NoticeAccepted", "notice-accepted.v1.json"),
    event("NoticeForwarded", "notice-forwarded.v1.json"),
    event("NoticeRouted", "notice-routed.v1.json"),
    event("CaseOpened", "case-opened.v1.json"),
    event("CaseUpdated", "case-updated.v1.json"),
    event("CaseRescheduled", "case-rescheduled.v1.json"),
    event("CaseClosed", "case-closed.v1.json"),
    event("TaskAssigned", "task-assigned.v1.json"),
    event("TaskStatusChanged", "task-status-changed.v1.json"),
    event("TaskDeadline", "task-deadline.v1.json"),
    event("ForwardAcknowledged", "forward-acknowledged.v1.json"),
    Message {
        name: "DeadLetter",
        title: "The original message, unchanged; headers Rcn-Dlq-Subject, Rcn-Dlq-Stream, Rcn-Dlq-Sequence, Rcn-Dlq-Delivered, Rcn-Dlq-Service, Rcn-Dlq-Msg-Id and Rcn-Dlq-Error say where it came from and why it failed",
        schema: None,
        identity: false,
        deduplicated: false,
    },
    api(
        "QueueListRequest",
        "An empty body lists with the defaults",
        "router-queue-list-request.v1.json",
    ),
    msg(
        "QueueListReply",
        ENVELOPE,
        "router-queue-list-reply.v1.json",
    ),
    api(
        "QueueDecideRequest",
        "",
        "router-queue-decide-request.v1.json",
    ),
    msg(
        "QueueDecideReply",
        ENVELOPE,
        "router-queue-decide-reply.v1.json",
    ),
    Message {
        name: "ForwardedListRequest",
        title: "An empty body",
        schema: None,
        identity: true,
        deduplicated: false,
    },
    msg(
        "ForwardedListReply",
        ENVELOPE,
        "router-forwarded-list-reply.v1.json",
    ),
    msg(
        "ForwardedAckRequest",
        "From the receiving region's intake, without a person's identity (one is refused)",
        "router-forwarded-ack-request.v1.json",
    ),
    msg(
        "ForwardedAckReply",
        ENVELOPE,
        "router-forwarded-ack-reply.v1.json",
    ),
    api("DecisionsRequest", "", "router-decisions-request.v1.json"),
    msg("DecisionsReply", ENVELOPE, "router-decisions-reply.v1.json"),
    api("InboxQuery", "", "casework-inbox-query.v1.json"),
    msg("InboxReply", ENVELOPE, "casework-inbox-reply.v1.json"),
    api("CaseRequest", "", "casework-case-request.v1.json"),
    msg("CaseReply", ENVELOPE, "casework-case-reply.v1.json"),
    api("TaskRequest", "", "casework-task-request.v1.json"),
    api(
        "TaskHistoryRequest",
        "",
        "casework-task-history-request.v1.json",
    ),
    msg("TaskReply", ENVELOPE, "casework-task-reply.v1.json"),
    api(
        "ClaimCaseRequest",
        "",
        "casework-claim-case-request.v1.json",
    ),
    api(
        "ClaimManyRequest",
        "",
        "casework-claim-many-request.v1.json",
    ),
    api("HandoverRequest", "", "casework-handover-request.v1.json"),
    api("ReassignRequest", "", "casework-reassign-request.v1.json"),
    msg("BulkReply", ENVELOPE, "casework-bulk-reply.v1.json"),
    api(
        "UpdateStatusRequest",
        "",
        "casework-update-status-request.v1.json",
    ),
    api(
        "CloseCaseRequest",
        "",
        "casework-close-case-request.v1.json",
    ),
    msg(
        "CloseCaseReply",
        ENVELOPE,
        "casework-close-case-reply.v1.json",
    ),
    msg(
        "TaskHistoryReply",
        ENVELOPE,
        "casework-task-history-reply.v1.json",
    ),
    api(
        "WhoSawRequest",
        "The privacy officer's question: the person's BSN, only in this body",
        "privacy-who-saw-request.v1.json",
    ),
    msg("WhoSawReply", ENVELOPE, "privacy-who-saw-reply.v1.json"),
    api(
        "RetentionLogRequest",
        "The privacy officer or the administrator asks a service for its deletion log",
        "retention-log-request.v1.json",
    ),
    msg("RetentionLogReply", ENVELOPE, "retention-log-reply.v1.json"),
    msg(
        "OpenEpisodesRequest",
        "A retention job asks which episodes have an open case (episode pseudonyms only)",
        "casework-open-episodes-request.v1.json",
    ),
    msg(
        "OpenEpisodesReply",
        ENVELOPE,
        "casework-open-episodes-reply.v1.json",
    ),
    msg(
        "ExportRequest",
        "The privacy officer's export (AVG art. 15): the person's BSN, only in this body, and why",
        "privacy-export-request.v1.json",
    ),
    msg(
        "IntakeExportReply",
        ENVELOPE,
        "privacy-export-intake-reply.v1.json",
    ),
    msg(
        "RouterExportReply",
        ENVELOPE,
        "privacy-export-router-reply.v1.json",
    ),
    msg(
        "CaseworkExportReply",
        ENVELOPE,
        "privacy-export-casework-reply.v1.json",
    ),
    msg(
        "ProcesregieExportReply",
        ENVELOPE,
        "privacy-export-procesregie-reply.v1.json",
    ),
    Message {
        name: "ProcesregieSettingsRequest",
        title: "An empty body",
        schema: None,
        identity: true,
        deduplicated: false,
    },
    msg(
        "ProcesregieSettingsReply",
        ENVELOPE,
        "procesregie-settings-reply.v1.json",
    ),
    api(
        "ApplicationForm",
        "A new application or the next version of a draft; submit: true submits it when complete",
        "procesregie-application-form.v1.json",
    ),
    api("ApplicationRef", "", "procesregie-application-ref.v1.json"),
    api(
        "ApplicationQuery",
        "An empty body lists every application the caller may see",
        "procesregie-application-query.v1.json",
    ),
    api(
        "AgendaQuery",
        "An empty body shows the next meeting",
        "procesregie-agenda-query.v1.json",
    ),
    api("TriageDecision", "", "procesregie-triage-decision.v1.json"),
    api("IcoRef", "", "procesregie-ico-ref.v1.json"),
    api("IcoQuery", "", "procesregie-ico-query.v1.json"),
    api("IcoUpdate", "", "procesregie-ico-update.v1.json"),
    api("ActionRequest", "", "procesregie-action-request.v1.json"),
    api("ReviewRequest", "", "procesregie-review-request.v1.json"),
    api(
        "CloseIcoRequest",
        "",
        "procesregie-close-ico-request.v1.json",
    ),
    api(
        "SuggestionQuery",
        "An empty body lists the open suggestions the caller may see",
        "procesregie-suggestion-query.v1.json",
    ),
    api("SuggestionRef", "", "procesregie-suggestion-ref.v1.json"),
    api(
        "SuggestionDismiss",
        "",
        "procesregie-suggestion-dismiss.v1.json",
    ),
    msg(
        "ApplicationReply",
        ENVELOPE,
        "procesregie-application-reply.v1.json",
    ),
    msg(
        "ApplicationListReply",
        ENVELOPE,
        "procesregie-application-list-reply.v1.json",
    ),
    msg(
        "TriageAgendaReply",
        ENVELOPE,
        "procesregie-triage-agenda-reply.v1.json",
    ),
    msg("IcoReply", ENVELOPE, "procesregie-ico-reply.v1.json"),
    msg(
        "IcoListReply",
        ENVELOPE,
        "procesregie-ico-list-reply.v1.json",
    ),
    msg(
        "SuggestionListReply",
        ENVELOPE,
        "procesregie-suggestion-list-reply.v1.json",
    ),
    msg(
        "SuggestionReply",
        ENVELOPE,
        "procesregie-suggestion-reply.v1.json",
    ),
    event("RiskFlagsNoted", "risk-flags-noted.v1.json"),
    event("ApplicationSubmitted", "application-submitted.v1.json"),
    event("ApplicationTriaged", "application-triaged.v1.json"),
    event("IcoOpened", "ico-opened.v1.json"),
    event("IcoActionChanged", "ico-action-changed.v1.json"),
    event("IcoReviewHeld", "ico-review-held.v1.json"),
    event("IcoClosed", "ico-closed.v1.json"),
    event("IcoActionOverdue", "ico-action-overdue.v1.json"),
    event("IcoReviewOverdue", "ico-review-overdue.v1.json"),
    api(
        "FiguresRequest",
        "An empty body asks for the last twelve months by month",
        "monitor-figures-request.v1.json",
    ),
    msg("FiguresReply", ENVELOPE, "monitor-figures-reply.v1.json"),
    api(
        "DeadLetterListRequest",
        "An empty body lists every service's dead letters",
        "dead-letters-list-request.v1.json",
    ),
    msg(
        "DeadLetterListReply",
        ENVELOPE,
        "dead-letters-list-reply.v1.json",
    ),
    api(
        "DeadLetterActRequest",
        "One dead letter and why",
        "dead-letters-act-request.v1.json",
    ),
    msg(
        "DeadLetterShowReply",
        ENVELOPE,
        "dead-letters-show-reply.v1.json",
    ),
    msg(
        "DeadLetterActReply",
        ENVELOPE,
        "dead-letters-act-reply.v1.json",
    ),
];

fn channel(
    id: &str,
    builder: &'static str,
    subject: String,
    description: &str,
    pattern: Pattern,
) -> Channel {
    Channel {
        id: id.to_owned(),
        builder,
        address: subject,
        description: description.to_owned(),
        pattern,
    }
}

fn event_on(message: &'static str) -> Pattern {
    Pattern::Event { message }
}

fn request(request: &'static str, reply: &'static str) -> Pattern {
    Pattern::Request { request, reply }
}

/// Every channel; addresses are the builders' output for the placeholder region and municipality.
pub(super) fn channels(s: &Subjects, gm: &Gemeentecode) -> Vec<Channel> {
    let mut out = vec![
        channel(
            "intakeSubmit",
            "intake_submit",
            s.intake_submit(),
            "Request-reply (service rcn-intake) used by the gateway and trusted components; header Rcn-Identity carries the institution (a PartnerIdentity).",
            request("ReleaseNotice", "SubmitReply"),
        ),
        channel(
            "intakeSubmitPartner",
            "intake_submit_for",
            s.intake_submit_for("{institution_code}"),
            "Request-reply for an institution on its own NATS account; only that account may publish here.",
            request("ReleaseNotice", "SubmitReply"),
        ),
        channel(
            "intakeStatus",
            "intake_status",
            s.intake_status(),
            "Request-reply (gateway to intake): what became of a notice; header Rcn-Identity names the institution.",
            request("StatusRequest", "StatusReply"),
        ),
        channel(
            "intakeStatusPartner",
            "intake_status_for",
            s.intake_status_for("{institution_code}"),
            "Request-reply for an institution on its own NATS account; the subject names the institution.",
            request("StatusRequest", "StatusReply"),
        ),
        channel(
            "intakeRetentionLog",
            "intake_api",
            s.intake_api(crate::retention::RETENTION_LOG_VERB),
            "Request-reply for the privacy officer and the administrator (caller in header Rcn-Identity): intake's deletion log, newest first.",
            request("RetentionLogRequest", "RetentionLogReply"),
        ),
        channel(
            "intakePrivacyExport",
            "intake_privacy_export",
            s.intake_privacy_export(),
            "Request-reply for the privacy officer only (caller in header Rcn-Identity): the receipts intake keeps about the person whose BSN is in the body (AVG art. 15); the question is logged with its reason.",
            request("ExportRequest", "IntakeExportReply"),
        ),
        channel(
            "intakeWhoSaw",
            "intake_api",
            s.intake_api(crate::privacy_api::WHO_SAW_VERB),
            "Request-reply for the privacy officer only (caller in header Rcn-Identity): who saw the person whose BSN is in the body, as far as intake logged it (the privacy questions asked of intake about them); the question is logged.",
            request("WhoSawRequest", "WhoSawReply"),
        ),
        channel(
            "noticeAccepted",
            "notice_accepted",
            s.notice_accepted(),
            "A notice intake accepted. Nats-Msg-Id is the notice key (<institution_code>:<notice_id>), so a resend is stored once.",
            event_on("NoticeAccepted"),
        ),
        channel(
            "intakeForwarded",
            "intake_forwarded",
            s.intake_forwarded(),
            "A notice another region's router found to belong here; published by that region's router.",
            event_on("NoticeForwarded"),
        ),
        channel(
            "routed",
            "routed",
            s.routed(gm),
            "A municipality of the region is responsible.",
            event_on("NoticeRouted"),
        ),
        channel(
            "outOfRegion",
            "out_of_region",
            s.out_of_region(gm),
            "The responsible municipality lies outside the region (forwarded when its region is known).",
            event_on("NoticeRouted"),
        ),
        channel(
            "unroutable",
            "unroutable",
            s.unroutable(),
            "No rule decided; the notice waits in the RCN's manual routing queue.",
            event_on("NoticeRouted"),
        ),
        channel(
            "routerRetentionLog",
            "router_api",
            s.router_api(crate::retention::RETENTION_LOG_VERB),
            "Request-reply for the privacy officer and the administrator (caller in header Rcn-Identity): the router's deletion log, newest first.",
            request("RetentionLogRequest", "RetentionLogReply"),
        ),
        channel(
            "routerWhoSaw",
            "router_api",
            s.router_api(crate::privacy_api::WHO_SAW_VERB),
            "Request-reply for the privacy officer only (caller in header Rcn-Identity): who read the routing decisions or the manual-queue entries of the person whose BSN is in the body, who decided their notices by hand, and the privacy questions about them; the question is logged.",
            request("WhoSawRequest", "WhoSawReply"),
        ),
        channel(
            "routerQueueList",
            "router_queue_list",
            s.router_queue_list(),
            "Request-reply for RCN coordinators: the notices waiting in the manual routing queue, oldest first.",
            request("QueueListRequest", "QueueListReply"),
        ),
        channel(
            "routerQueueDecide",
            "router_queue_decide",
            s.router_queue_decide(),
            "Request-reply for RCN coordinators, in their own name: where a waiting notice goes. The gemeentecode must be a current municipality of the CBS list.",
            request("QueueDecideRequest", "QueueDecideReply"),
        ),
        channel(
            "routerForwardedList",
            "router_forwarded_list",
            s.router_forwarded_list(),
            "Request-reply for RCN coordinators: notices forwarded to other regions and not yet acknowledged.",
            request("ForwardedListRequest", "ForwardedListReply"),
        ),
        channel(
            "routerPrivacyExport",
            "router_privacy_export",
            s.router_privacy_export(),
            "Request-reply for the privacy officer only (caller in header Rcn-Identity): the routing decisions about the person whose BSN is in the body (AVG art. 15); the question is logged with its reason.",
            request("ExportRequest", "RouterExportReply"),
        ),
        channel(
            "routerForwardedAck",
            "router_forwarded_ack",
            s.router_forwarded_ack(),
            "Request-reply: the region a notice was forwarded to acknowledges that it arrived.",
            request("ForwardedAckRequest", "ForwardedAckReply"),
        ),
        channel(
            "routerDecisions",
            "router_decisions",
            s.router_decisions(),
            "Request-reply for staff, the RCN and procesregie: the routing decision about each named notice (a case's), with the rule that decided and why. Municipal staff see only notices of an episode routed to their own municipality; a notice the caller may not see is left out, as one the router does not know.",
            request("DecisionsRequest", "DecisionsReply"),
        ),
        channel(
            "forwardAcknowledged",
            "forward_acknowledged",
            s.forward_acknowledged(),
            "The region a notice was forwarded to acknowledged it; the forward no longer waits.",
            event_on("ForwardAcknowledged"),
        ),
        channel(
            "monitorFigures",
            "monitor_figures",
            s.monitor_figures(),
            "Request-reply for RCN coordinators and procesregisseurs (the region, or one municipality) and municipal staff (their own municipality): counts and durations only, never a person or a case.",
            request("FiguresRequest", "FiguresReply"),
        ),
        channel(
            "monitorWhoSaw",
            "monitor_api",
            s.monitor_api(crate::privacy_api::WHO_SAW_VERB),
            "Request-reply for the privacy officer only (caller in header Rcn-Identity, service rcn-dead-letters): who inspected, replayed or discarded a dead letter whose payload held the BSN in the body, and the privacy questions about the person; the question is logged.",
            request("WhoSawRequest", "WhoSawReply"),
        ),
        channel(
            "monitorRetentionLog",
            "monitor_api",
            s.monitor_api(crate::retention::RETENTION_LOG_VERB),
            "Request-reply for the privacy officer and the administrator (caller in header Rcn-Identity, service rcn-dead-letters): the monitor's deletion log (its dead-letter desk's log and privacy questions), newest first.",
            request("RetentionLogRequest", "RetentionLogReply"),
        ),
        channel(
            "deadLettersList",
            "dead_letters_list",
            s.dead_letters_list(),
            "Request-reply for RCN coordinators (service rcn-dead-letters): the dead letters waiting, without payloads, and the latest settled with who settled them and why.",
            request("DeadLetterListRequest", "DeadLetterListReply"),
        ),
        channel(
            "deadLettersShow",
            "dead_letters_show",
            s.dead_letters_show(),
            "Request-reply for RCN coordinators: one dead letter with its payload, which may hold personal data; the read is logged with who, role and why.",
            request("DeadLetterActRequest", "DeadLetterShowReply"),
        ),
        channel(
            "deadLettersReplay",
            "dead_letters_replay",
            s.dead_letters_replay(),
            "Request-reply for RCN coordinators, in their own name and with a reason: publish a dead letter to its original subject again and remove it.",
            request("DeadLetterActRequest", "DeadLetterActReply"),
        ),
        channel(
            "deadLettersDiscard",
            "dead_letters_discard",
            s.dead_letters_discard(),
            "Request-reply for RCN coordinators, in their own name and with a reason: remove a dead letter without handling it.",
            request("DeadLetterActRequest", "DeadLetterActReply"),
        ),
        channel(
            "caseOpened",
            "case_opened",
            s.case_opened(gm),
            "A case was opened for a municipality.",
            event_on("CaseOpened"),
        ),
        channel(
            "caseUpdated",
            "case_updated",
            s.case_updated(gm),
            "A later notice was attached to an existing case.",
            event_on("CaseUpdated"),
        ),
        channel(
            "caseRescheduled",
            "case_rescheduled",
            s.case_rescheduled(gm),
            "A later notice moved a case's release date (and its deadlines), or made it spoed.",
            event_on("CaseRescheduled"),
        ),
        channel(
            "caseClosed",
            "case_closed",
            s.case_closed(gm),
            "A case was closed, by hand or by a cancelling notice.",
            event_on("CaseClosed"),
        ),
        channel(
            "taskAssigned",
            "task_assigned",
            s.task_assigned(gm),
            "Someone claimed, gave back or handed over a condition task.",
            event_on("TaskAssigned"),
        ),
        channel(
            "taskStatusChanged",
            "task_status_changed",
            s.task_status_changed(gm),
            "A condition task's status changed.",
            event_on("TaskStatusChanged"),
        ),
        channel(
            "taskDueSoon",
            "task_due_soon",
            s.task_due_soon(gm),
            "A condition task's due date is near and the task is still open.",
            event_on("TaskDeadline"),
        ),
        channel(
            "taskOverdue",
            "task_overdue",
            s.task_overdue(gm),
            "A condition task's due date passed while it was still open.",
            event_on("TaskDeadline"),
        ),
        channel(
            "riskFlagsNoted",
            "risk_flags_noted",
            s.risk_flags_noted(gm),
            "The risk flags of the notice that opened a case (only when it had any); for procesregie and the RCN only.",
            event_on("RiskFlagsNoted"),
        ),
    ];
    for (event, message, description) in PROCESREGIE_EVENTS {
        out.push(channel(
            &format!("procesregie_{}", event.token()),
            "procesregie_event",
            s.procesregie_event(*event),
            description,
            event_on(message),
        ));
    }
    for (verb, req, reply) in CASEWORK_VERBS {
        out.push(channel(
            &format!("casework_{verb}"),
            "casework_api",
            s.casework_api(verb),
            &format!(
                "Request-reply for staff (caller in header Rcn-Identity): casework's {verb} verb. \
                 Every reply is {{\"ok\": …}} or {{\"problem\": …}} (problem+json: type, title, status, detail, invalidParams; heldBy when a colleague holds the task)."
            ),
            request(req, reply),
        ));
    }
    for (verb, req, reply) in PROCESREGIE_VERBS {
        out.push(channel(
            &format!("procesregie_{verb}"),
            "procesregie_api",
            s.procesregie_api(verb),
            &format!(
                "Request-reply (service rcn-procesregie) for staff, caller in header Rcn-Identity: \
                 procesregie's {verb} verb."
            ),
            request(req, reply),
        ));
    }
    out.push(channel(
        "deadLetter",
        "dead_letter",
        s.dead_letter("{service}"),
        "Where a service puts a message it could not handle after its retries; rcn dlq list, show and replay work on it.",
        event_on("DeadLetter"),
    ));
    out
}
