//! Subject and stream names, all built from the region so that several regions (and every test,
//! with a random region) share one NATS system without seeing each other's messages.
//!
//! Scheme: `rcn.<region>.<area>.<event>[.<gemeentecode>]`. Nothing personal ever goes into a
//! subject: a subject names a region, an event and at most a municipality.

use std::fmt;
use std::time::Duration;

use crate::retention::RecordClass;
use crate::value::{Gemeentecode, InvalidValue};

/// The region segment of every subject, e.g. `kennemerland`: lower-case letters, digits and `-`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Region(String);

impl Region {
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let ok = !s.is_empty()
            && s.len() <= 32
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-');
        if !ok {
            return Err(InvalidValue(format!(
                "region {s:?} must be 1 to 32 lower-case letters, digits or '-', like kennemerland"
            )));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The subjects of this region.
    pub fn subjects(&self) -> Subjects {
        Subjects {
            region: self.clone(),
        }
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Region({})", self.0)
    }
}

/// Every subject and stream of one region.
#[derive(Debug, Clone)]
pub struct Subjects {
    region: Region,
}

impl Subjects {
    pub fn region(&self) -> &Region {
        &self.region
    }

    fn subject(&self, rest: &str) -> String {
        format!("rcn.{}.{rest}", self.region)
    }

    /// Request-reply: a partner (or the gateway) submits a release notice.
    pub fn intake_submit(&self) -> String {
        self.subject("intake.submit")
    }

    /// A notice intake accepted; stream NOTICES.
    pub fn notice_accepted(&self) -> String {
        self.subject("intake.accepted")
    }

    /// A notice routed to a municipality of the region; stream ROUTING.
    pub fn routed(&self, gemeente: &Gemeentecode) -> String {
        self.subject(&format!("routing.routed.{gemeente}"))
    }

    /// Every routed notice, whatever the municipality (a consumer filter).
    pub fn routed_any(&self) -> String {
        self.subject("routing.routed.*")
    }

    /// A notice whose municipality lies outside the region.
    pub fn out_of_region(&self, gemeente: &Gemeentecode) -> String {
        self.subject(&format!("routing.out_of_region.{gemeente}"))
    }

    /// Every out-of-region decision, whatever the municipality (a consumer filter).
    pub fn out_of_region_any(&self) -> String {
        self.subject("routing.out_of_region.*")
    }

    /// A notice no rule could route: it waits in the RCN's manual queue.
    pub fn unroutable(&self) -> String {
        self.subject("routing.unroutable")
    }

    /// A case was opened for a municipality; stream CASES.
    pub fn case_opened(&self, gemeente: &Gemeentecode) -> String {
        self.subject(&format!("casework.case_opened.{gemeente}"))
    }

    /// A later notice was attached to an existing case.
    pub fn case_updated(&self, gemeente: &Gemeentecode) -> String {
        self.subject(&format!("casework.case_updated.{gemeente}"))
    }

    /// Where a service puts a message it could not handle after its retries.
    pub fn dead_letter(&self, service: &str) -> String {
        self.subject(&format!("dlq.{service}"))
    }

    pub fn notices_stream(&self) -> StreamDef {
        StreamDef {
            name: self.stream_name("NOTICES"),
            // Only accepted notices: a wider filter would capture intake.submit requests and
            // answer them with a PubAck before intake could.
            subjects: vec![self.notice_accepted()],
            max_age: Duration::from_secs(30 * 24 * 3600),
            duplicate_window: Duration::from_secs(24 * 3600),
            description: "Release notices accepted by intake",
            carries: &[RecordClass::Notice],
        }
    }

    pub fn routing_stream(&self) -> StreamDef {
        StreamDef {
            name: self.stream_name("ROUTING"),
            subjects: vec![self.subject("routing.>")],
            max_age: Duration::from_secs(30 * 24 * 3600),
            duplicate_window: Duration::from_secs(24 * 3600),
            description: "Routing decisions: routed, out of region, unroutable",
            carries: &[RecordClass::Notice],
        }
    }

    pub fn cases_stream(&self) -> StreamDef {
        StreamDef {
            name: self.stream_name("CASES"),
            subjects: vec![self.subject("casework.>")],
            max_age: Duration::from_secs(90 * 24 * 3600),
            duplicate_window: Duration::from_secs(24 * 3600),
            description: "Case and condition events from casework",
            carries: &[RecordClass::Notice, RecordClass::Case],
        }
    }

    pub fn dead_letter_stream(&self) -> StreamDef {
        StreamDef {
            name: self.stream_name("DLQ"),
            subjects: vec![self.subject("dlq.>")],
            max_age: Duration::from_secs(90 * 24 * 3600),
            duplicate_window: Duration::from_secs(120),
            description: "Messages a service could not handle, kept for inspection and replay",
            carries: &[RecordClass::Notice, RecordClass::Case, RecordClass::Ico],
        }
    }

    /// Stream names may not contain `.`, `*`, `>` or `-`: `KENNEMERLAND_NOTICES`.
    fn stream_name(&self, what: &str) -> String {
        format!(
            "{}_{what}",
            self.region.as_str().to_ascii_uppercase().replace('-', "_")
        )
    }
}

/// A JetStream stream as rcn needs it; the runtime turns it into a file-backed stream config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamDef {
    pub name: String,
    pub subjects: Vec<String>,
    /// Streams keep personal data only for a bounded time; PostgreSQL is the system of record.
    pub max_age: Duration,
    /// Longer than the longest publisher retry, so a resend is recognised as the same message.
    pub duplicate_window: Duration,
    pub description: &'static str,
    /// The record classes whose personal data its messages carry: the stream keeps a message no
    /// longer than the shortest retention among them (`rcn_runtime::retention`).
    pub carries: &'static [RecordClass],
}

/// Subjects of the router's request-reply API and of forwarding between regions.
impl Subjects {
    /// Request-reply: one verb of the router's staff API (`retention_log`), for the gateway.
    pub fn router_api(&self, verb: &str) -> String {
        self.subject(&format!("api.router.{verb}"))
    }

    /// Request-reply: the RCN lists the notices waiting in the manual routing queue.
    pub fn router_queue_list(&self) -> String {
        self.subject("api.router.queue.list")
    }

    /// Request-reply: an RCN coordinator decides where a waiting notice goes.
    pub fn router_queue_decide(&self) -> String {
        self.subject("api.router.queue.decide")
    }

    /// A notice another region's router found to belong here; stream FORWARDED of this region.
    pub fn intake_forwarded(&self) -> String {
        self.subject("intake.forwarded")
    }

    /// Notices forwarded to this region by others. Its own stream (not NOTICES) so that a region
    /// forwarding here can create it from this one definition, and a forward is kept even while
    /// this region's services are not running.
    pub fn forwarded_stream(&self) -> StreamDef {
        StreamDef {
            name: self.stream_name("FORWARDED"),
            subjects: vec![self.intake_forwarded()],
            max_age: Duration::from_secs(30 * 24 * 3600),
            duplicate_window: Duration::from_secs(24 * 3600),
            description: "Release notices forwarded to this region by another rcn region",
            carries: &[RecordClass::Notice],
        }
    }

    /// Request-reply: the region a notice was forwarded to acknowledges it arrived.
    pub fn router_forwarded_ack(&self) -> String {
        self.subject("api.router.forwarded.ack")
    }

    /// Request-reply: the RCN lists the forwarded notices not yet acknowledged.
    pub fn router_forwarded_list(&self) -> String {
        self.subject("api.router.forwarded.list")
    }

    /// Request-reply: the routing decisions about notices (a case's), for whoever may see them.
    pub fn router_decisions(&self) -> String {
        self.subject("api.router.decisions")
    }

    /// Request-reply: the privacy officer's export of the router's decisions about one person
    /// (`privacy_export::ExportRequest`, the BSN only in the body).
    pub fn router_privacy_export(&self) -> String {
        self.subject(&format!(
            "api.router.{}",
            crate::privacy_export::EXPORT_VERB
        ))
    }

    /// The region a notice was forwarded to acknowledged it; stream ROUTING.
    pub fn forward_acknowledged(&self) -> String {
        self.subject("routing.forward_acknowledged")
    }
}

/// Subjects of casework's work on cases (stream CASES) and of its request-reply API.
impl Subjects {
    /// Someone claimed, gave back or handed over a condition task.
    pub fn task_assigned(&self, gemeente: &Gemeentecode) -> String {
        self.subject(&format!("casework.task_assigned.{gemeente}"))
    }

    /// A condition task's status changed.
    pub fn task_status_changed(&self, gemeente: &Gemeentecode) -> String {
        self.subject(&format!("casework.task_status_changed.{gemeente}"))
    }

    /// A condition task's due date is near and the task is still open.
    pub fn task_due_soon(&self, gemeente: &Gemeentecode) -> String {
        self.subject(&format!("casework.task_due_soon.{gemeente}"))
    }

    /// A condition task's due date passed while it was still open.
    pub fn task_overdue(&self, gemeente: &Gemeentecode) -> String {
        self.subject(&format!("casework.task_overdue.{gemeente}"))
    }

    /// A later notice moved a case's release date (and so its deadlines), or made it spoed.
    pub fn case_rescheduled(&self, gemeente: &Gemeentecode) -> String {
        self.subject(&format!("casework.case_rescheduled.{gemeente}"))
    }

    /// A case was closed, by hand or by a cancelling notice.
    pub fn case_closed(&self, gemeente: &Gemeentecode) -> String {
        self.subject(&format!("casework.case_closed.{gemeente}"))
    }

    /// Request-reply: one verb of casework's API (`inbox`, `claim`, …), for the gateway.
    pub fn casework_api(&self, verb: &str) -> String {
        self.subject(&format!("api.casework.{verb}"))
    }
}

/// Subjects of intake's partner-facing request-reply API (issue 3).
impl Subjects {
    /// Request-reply: a partner on its own NATS account submits a notice. Each institution's
    /// account may publish only on its own subject, so intake learns who sends from the subject.
    /// `institution_code` must be a valid subject token (letters, digits, `-`, `_`).
    pub fn intake_submit_for(&self, institution_code: &str) -> String {
        self.subject(&format!("intake.submit.{institution_code}"))
    }

    /// Every institution's submit subject (intake's endpoint filter).
    pub fn intake_submit_any(&self) -> String {
        self.subject("intake.submit.*")
    }

    /// Request-reply: one verb of intake's staff API (`retention_log`), for the gateway.
    pub fn intake_api(&self, verb: &str) -> String {
        self.subject(&format!("api.intake.{verb}"))
    }

    /// Request-reply: what became of a notice the caller sent (gateway → intake, with the
    /// caller's identity in `Rcn-Identity`).
    pub fn intake_status(&self) -> String {
        self.subject("api.intake.status")
    }

    /// Request-reply for a partner on its own NATS account: what became of one of its notices.
    /// Its account may publish only here and on its submit subject, so the subject says who asks.
    pub fn intake_status_for(&self, institution_code: &str) -> String {
        self.subject(&format!("intake.status.{institution_code}"))
    }

    /// Every institution's status subject (intake's endpoint filter).
    pub fn intake_status_any(&self) -> String {
        self.subject("intake.status.*")
    }

    /// Request-reply: the privacy officer's export of what intake keeps about one person
    /// (`privacy_export::ExportRequest`, the BSN only in the body).
    pub fn intake_privacy_export(&self) -> String {
        self.subject(&format!(
            "api.intake.{}",
            crate::privacy_export::EXPORT_VERB
        ))
    }
}

/// Subjects of procesregie (escalation into an ICO): its request-reply API and its events.
impl Subjects {
    /// Request-reply: one verb of procesregie's API (`settings`, `application_save`, …), for the
    /// gateway; the caller in the `Rcn-Identity` header.
    pub fn procesregie_api(&self, verb: &str) -> String {
        self.subject(&format!("api.procesregie.{verb}"))
    }

    /// One of procesregie's events (`rcn.<region>.procesregie.<event>`); stream PROCESREGIE.
    pub fn procesregie_event(&self, event: crate::procesregie_events::ProcesregieEvent) -> String {
        self.subject(&format!("procesregie.{}", event.token()))
    }

    /// Casework tells procesregie (and the RCN) the risk flags of a case it opened: their own
    /// subject, so NATS permissions can keep it from readers who may not see risk flags.
    pub fn risk_flags_noted(&self, gemeente: &Gemeentecode) -> String {
        self.subject(&format!("casework.risk_flags_noted.{gemeente}"))
    }

    /// Procesregie's events: applications, triage and ICOs, for the monitor. Nothing personal:
    /// ids, dates, outcomes and the municipality.
    pub fn procesregie_stream(&self) -> StreamDef {
        StreamDef {
            name: self.stream_name("PROCESREGIE"),
            subjects: vec![self.subject("procesregie.>")],
            max_age: Duration::from_secs(90 * 24 * 3600),
            duplicate_window: Duration::from_secs(24 * 3600),
            description: "Applications, triage outcomes and ICOs from procesregie",
            carries: &[RecordClass::Ico],
        }
    }
}

/// Subjects of the monitor's request-reply API (issue 15).
impl Subjects {
    /// Request-reply: the regional throughput figures for the dashboard (caller in
    /// `Rcn-Identity`).
    pub fn monitor_figures(&self) -> String {
        self.subject("api.monitor.figures")
    }

    /// Request-reply on one of the monitor's verbs, `rcn.<region>.api.monitor.<verb>` (e.g. the
    /// privacy officer's `privacy_accesses`).
    pub fn monitor_api(&self, verb: &str) -> String {
        self.subject(&format!("api.monitor.{verb}"))
    }

    /// Request-reply for RCN coordinators: the dead letters waiting and the latest settled.
    pub fn dead_letters_list(&self) -> String {
        self.subject("api.monitor.dead-letters.list")
    }

    /// Request-reply for RCN coordinators: one dead letter with its payload (the read is logged).
    pub fn dead_letters_show(&self) -> String {
        self.subject("api.monitor.dead-letters.show")
    }

    /// Request-reply for RCN coordinators: publish a dead letter to its original subject again.
    pub fn dead_letters_replay(&self) -> String {
        self.subject("api.monitor.dead-letters.replay")
    }

    /// Request-reply for RCN coordinators: remove a dead letter without handling it.
    pub fn dead_letters_discard(&self) -> String {
        self.subject("api.monitor.dead-letters.discard")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_follow_the_scheme() {
        let s = Region::parse("kennemerland").unwrap().subjects();
        let gm = Gemeentecode::parse("GM0392").unwrap();
        assert_eq!(s.intake_submit(), "rcn.kennemerland.intake.submit");
        assert_eq!(s.routed(&gm), "rcn.kennemerland.routing.routed.GM0392");
        assert_eq!(s.dead_letter("router"), "rcn.kennemerland.dlq.router");
        assert_eq!(s.notices_stream().name, "KENNEMERLAND_NOTICES");
        assert_eq!(
            Region::parse("noord-holland-noord")
                .unwrap()
                .subjects()
                .cases_stream()
                .name,
            "NOORD_HOLLAND_NOORD_CASES"
        );
    }

    #[test]
    fn regions_that_would_break_subjects_are_refused() {
        for bad in ["", "Kennemerland", "a.b", "a*", "a>", "a b", "-x"] {
            assert!(Region::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn router_api_and_forwarding_subjects_follow_the_scheme() {
        let s = Region::parse("kennemerland").unwrap().subjects();
        assert_eq!(
            s.router_queue_list(),
            "rcn.kennemerland.api.router.queue.list"
        );
        assert_eq!(
            s.router_queue_decide(),
            "rcn.kennemerland.api.router.queue.decide"
        );
        let target = Region::parse("amsterdam-amstelland").unwrap().subjects();
        assert_eq!(
            target.intake_forwarded(),
            "rcn.amsterdam-amstelland.intake.forwarded"
        );
        assert_eq!(
            target.forwarded_stream().name,
            "AMSTERDAM_AMSTELLAND_FORWARDED"
        );
        assert_eq!(
            target.forwarded_stream().subjects,
            vec![target.intake_forwarded()]
        );
        assert_eq!(
            s.router_forwarded_ack(),
            "rcn.kennemerland.api.router.forwarded.ack"
        );
        assert_eq!(
            s.router_forwarded_list(),
            "rcn.kennemerland.api.router.forwarded.list"
        );
        assert_eq!(
            s.router_decisions(),
            "rcn.kennemerland.api.router.decisions"
        );
    }

    #[test]
    fn intake_partner_subjects_follow_the_scheme() {
        let s = Region::parse("kennemerland").unwrap().subjects();
        assert_eq!(
            s.intake_submit_for("PI-HAARLEM"),
            "rcn.kennemerland.intake.submit.PI-HAARLEM"
        );
        assert_eq!(s.intake_submit_any(), "rcn.kennemerland.intake.submit.*");
        assert_eq!(s.intake_status(), "rcn.kennemerland.api.intake.status");
        // A submission is never captured by a stream (a PubAck would answer it before intake).
        for stream in [s.notices_stream(), s.forwarded_stream()] {
            assert!(
                !stream
                    .subjects
                    .iter()
                    .any(|subject| subject.contains("submit"))
            );
        }
    }
}
