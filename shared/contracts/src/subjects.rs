//! Subject and stream names, all built from the region so that several regions (and every test,
//! with a random region) share one NATS system without seeing each other's messages.
//!
//! Scheme: `rcn.<region>.<area>.<event>[.<gemeentecode>]`. Nothing personal ever goes into a
//! subject: a subject names a region, an event and at most a municipality.

use std::fmt;
use std::time::Duration;

use crate::value::{Gemeentecode, InvalidValue};

/// The region segment of every subject, e.g. `kennemerland`: lower-case letters, digits and `-`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Region(String);

impl Region {
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let ok = !s.is_empty()
            && s.len() <= 32
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
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
        Subjects { region: self.clone() }
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
        }
    }

    pub fn routing_stream(&self) -> StreamDef {
        StreamDef {
            name: self.stream_name("ROUTING"),
            subjects: vec![self.subject("routing.>")],
            max_age: Duration::from_secs(30 * 24 * 3600),
            duplicate_window: Duration::from_secs(24 * 3600),
            description: "Routing decisions: routed, out of region, unroutable",
        }
    }

    pub fn cases_stream(&self) -> StreamDef {
        StreamDef {
            name: self.stream_name("CASES"),
            subjects: vec![self.subject("casework.>")],
            max_age: Duration::from_secs(90 * 24 * 3600),
            duplicate_window: Duration::from_secs(24 * 3600),
            description: "Case and condition events from casework",
        }
    }

    pub fn dead_letter_stream(&self) -> StreamDef {
        StreamDef {
            name: self.stream_name("DLQ"),
            subjects: vec![self.subject("dlq.>")],
            max_age: Duration::from_secs(90 * 24 * 3600),
            duplicate_window: Duration::from_secs(120),
            description: "Messages a service could not handle, kept for inspection and replay",
        }
    }

    /// Stream names may not contain `.`, `*`, `>` or `-`: `KENNEMERLAND_NOTICES`.
    fn stream_name(&self, what: &str) -> String {
        format!("{}_{what}", self.region.as_str().to_ascii_uppercase().replace('-', "_"))
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
        assert_eq!(Region::parse("noord-holland-noord").unwrap().subjects().cases_stream().name, "NOORD_HOLLAND_NOORD_CASES");
    }

    #[test]
    fn regions_that_would_break_subjects_are_refused() {
        for bad in ["", "Kennemerland", "a.b", "a*", "a>", "a b", "-x"] {
            assert!(Region::parse(bad).is_err(), "{bad:?}");
        }
    }
}
