//! A hand-built December 2026 in a small region, with figures worked out by hand (see
//! `monitor_figures.rs`). Every message is typed; each published once, with the id its
//! publisher would give it.

use chrono::{DateTime, Utc};
use rcn_contracts::casework_api::CloseReason;
use rcn_contracts::casework_events::{
    AssignmentChange, CaseClosed, DeadlineKind, TaskAssigned, TaskDeadline, TaskStatusChanged,
};
use rcn_contracts::events::{
    CaseOpened, ConditionState, NoticeAccepted, NoticeRouted, RoutingOutcome, RoutingRule,
};
use rcn_contracts::forwarding::ForwardAcknowledged;
use rcn_contracts::procesregie_api::{ActionStatus, IcoCloseReason, TriageOutcome};
use rcn_contracts::procesregie_events::{
    ApplicationSubmitted, ApplicationTriaged, IcoActionChanged, IcoClosed, IcoOpened,
    ProcesregieEvent,
};
use rcn_contracts::{
    Bsn, Condition, ConditionStatus, Gemeentecode, NoticeKind, SCHEMA_VERSION, Subjects,
};
use uuid::Uuid;

use crate::helpers::{Published, day, t};

/// The person every notice of the story is about: the tests look for these in every output.
pub const BSN: &str = "111222333";
pub const FAMILY_NAME: &str = "Zwartekopje";
pub const GIVEN_NAMES: &str = "Gerritdina";

pub const HAARLEM: &str = "GM0392";
pub const VELSEN: &str = "GM0453";
pub const BEVERWIJK: &str = "GM0375";
pub const HAARLEMMERMEER: &str = "GM0394";
pub const AMSTERDAM: &str = "GM0363";

fn gm(code: &str) -> Gemeentecode {
    Gemeentecode::parse(code).expect("a valid code")
}

/// Builds the messages of the story.
pub struct Story {
    pub s: Subjects,
    pub messages: Vec<Published>,
    /// Every notice key and case id used, which must never appear in an output.
    pub identifiers: Vec<String>,
}

impl Story {
    pub fn new(s: &Subjects) -> Self {
        Self {
            s: s.clone(),
            messages: Vec::new(),
            identifiers: Vec::new(),
        }
    }

    /// Intake accepts notice `id` of `institution` at `received`.
    pub fn notice(
        &mut self,
        id: &str,
        institution: &str,
        kind: NoticeKind,
        received: &str,
    ) -> String {
        let id = format!("VERHAAL-{id}");
        let mut notice = rcn_contracts::examples::release_notice();
        notice.notice_id = id.clone();
        notice.kind = kind;
        notice.sender.institution_code = institution.to_owned();
        notice.person.bsn = Bsn::parse(BSN).expect("passes the 11-proef");
        notice.person.family_name = FAMILY_NAME.to_owned();
        notice.person.given_names = Some(GIVEN_NAMES.to_owned());
        let key = format!("{institution}:{id}");
        let accepted = NoticeAccepted {
            schema_version: SCHEMA_VERSION,
            notice_key: key.clone(),
            received_at: t(received),
            person_key: format!("person-{id}"),
            episode_key: format!("episode-{id}"),
            notice,
            forwarded_from: None,
        };
        self.identifiers.push(id);
        self.messages.push(Published::json(
            self.s.notice_accepted(),
            key.clone(),
            &accepted,
        ));
        key
    }

    /// The router decides about `key` (received at `received`) at `decided`.
    pub fn routed(&mut self, key: &str, outcome: RoutingOutcome, received: &str, decided: &str) {
        let mut notice = rcn_contracts::examples::release_notice();
        notice.person.bsn = Bsn::parse(BSN).expect("passes the 11-proef");
        notice.person.family_name = FAMILY_NAME.to_owned();
        let (subject, rule) = match &outcome {
            RoutingOutcome::Routed { gemeentecode } => {
                (self.s.routed(gemeentecode), RoutingRule::BrpRegistration)
            }
            RoutingOutcome::OutOfRegion { gemeentecode } => (
                self.s.out_of_region(gemeentecode),
                RoutingRule::BrpRegistration,
            ),
            RoutingOutcome::Unroutable => (self.s.unroutable(), RoutingRule::NoRule),
        };
        let event = NoticeRouted {
            schema_version: SCHEMA_VERSION,
            event_id: Uuid::now_v7(),
            notice_key: key.to_owned(),
            person_key: "p".into(),
            episode_key: "e".into(),
            outcome,
            rule,
            reason: format!("reason mentioning {FAMILY_NAME}"),
            ambiguous: false,
            decided_at: t(decided),
            received_at: t(received),
            notice,
        };
        self.messages
            .push(Published::json(subject, event.event_id.to_string(), &event));
    }

    pub fn routed_to(&mut self, key: &str, code: &str, received: &str, decided: &str) {
        self.routed(
            key,
            RoutingOutcome::Routed {
                gemeentecode: gm(code),
            },
            received,
            decided,
        );
    }

    pub fn acknowledged(&mut self, key: &str, code: &str, at: &str) {
        let event = ForwardAcknowledged {
            schema_version: SCHEMA_VERSION,
            event_id: Uuid::now_v7(),
            notice_key: key.to_owned(),
            target_region: "amsterdam-amstelland".into(),
            gemeentecode: gm(code),
            forwarded_at: t(at),
            acknowledged_at: t(at),
        };
        self.messages.push(Published::json(
            self.s.forward_acknowledged(),
            event.event_id.to_string(),
            &event,
        ));
    }

    /// Casework opens a case in `code` with the five conditions at `statuses`.
    #[allow(clippy::too_many_arguments)]
    pub fn case_opened(
        &mut self,
        code: &str,
        key: &str,
        notice_received: &str,
        opened: &str,
        release_on: Option<&str>,
        spoed: bool,
        statuses: [ConditionStatus; 5],
    ) -> Uuid {
        let case_id = Uuid::now_v7();
        let event = CaseOpened {
            schema_version: SCHEMA_VERSION,
            event_id: Uuid::now_v7(),
            case_id,
            episode_key: "e".into(),
            gemeentecode: gm(code),
            notice_key: key.to_owned(),
            expected_release_on: release_on.map(day),
            spoed,
            conditions: Condition::DEFAULT
                .into_iter()
                .zip(statuses)
                .map(|(condition, status)| ConditionState { condition, status })
                .collect(),
            opened_at: t(opened),
            notice_received_at: t(notice_received),
            person_key: None,
        };
        self.identifiers.push(case_id.to_string());
        self.messages.push(Published::json(
            self.s.case_opened(&gm(code)),
            event.event_id.to_string(),
            &event,
        ));
        case_id
    }

    pub fn claimed(&mut self, code: &str, case_id: Uuid, condition: Condition, at: &str) {
        self.assignment(code, case_id, condition, AssignmentChange::Claimed, at);
    }

    pub fn assignment(
        &mut self,
        code: &str,
        case_id: Uuid,
        condition: Condition,
        change: AssignmentChange,
        at: &str,
    ) {
        let holder = matches!(change, AssignmentChange::Claimed).then(|| "medewerker-1".to_owned());
        let event = TaskAssigned {
            schema_version: SCHEMA_VERSION,
            event_id: Uuid::now_v7(),
            case_id,
            episode_key: "e".into(),
            gemeentecode: gm(code),
            condition,
            change,
            previous_holder: None,
            holder,
            by: "medewerker-1".into(),
            at: t(at),
        };
        self.messages.push(Published::json(
            self.s.task_assigned(&gm(code)),
            event.event_id.to_string(),
            &event,
        ));
    }

    pub fn status(
        &mut self,
        code: &str,
        case_id: Uuid,
        condition: Condition,
        to: ConditionStatus,
        at: &str,
    ) {
        let event = TaskStatusChanged {
            schema_version: SCHEMA_VERSION,
            event_id: Uuid::now_v7(),
            case_id,
            episode_key: "e".into(),
            gemeentecode: gm(code),
            condition,
            from: ConditionStatus::Unknown,
            to,
            by: "medewerker-1".into(),
            at: t(at),
        };
        self.messages.push(Published::json(
            self.s.task_status_changed(&gm(code)),
            event.event_id.to_string(),
            &event,
        ));
    }

    pub fn overdue(
        &mut self,
        code: &str,
        case_id: Uuid,
        condition: Condition,
        due_on: &str,
        raised: &str,
    ) {
        let event = TaskDeadline {
            schema_version: SCHEMA_VERSION,
            event_id: Uuid::now_v7(),
            kind: DeadlineKind::Overdue,
            case_id,
            episode_key: "e".into(),
            gemeentecode: gm(code),
            condition,
            due_on: day(due_on),
            status: ConditionStatus::Unknown,
            holder: None,
            spoed: false,
            expected_release_on: None,
            raised_at: t(raised),
        };
        self.messages.push(Published::json(
            self.s.task_overdue(&gm(code)),
            event.event_id.to_string(),
            &event,
        ));
    }

    pub fn closed(&mut self, code: &str, case_id: Uuid, reason: CloseReason, at: &str) {
        let event = CaseClosed {
            schema_version: SCHEMA_VERSION,
            event_id: Uuid::now_v7(),
            case_id,
            episode_key: "e".into(),
            gemeentecode: gm(code),
            reason,
            by: "medewerker-1".into(),
            open_conditions: Vec::new(),
            closed_at: t(at),
        };
        self.messages.push(Published::json(
            self.s.case_closed(&gm(code)),
            event.event_id.to_string(),
            &event,
        ));
    }

    /// Procesregie puts an application for an ICO (of a case in `code`, or of none) on the
    /// agenda of the triage of `triage_on`.
    pub fn application_submitted(
        &mut self,
        code: Option<&str>,
        submitted: &str,
        triage_on: &str,
    ) -> Uuid {
        let application_id = Uuid::now_v7();
        let event = ApplicationSubmitted {
            schema_version: SCHEMA_VERSION,
            event_id: Uuid::now_v7(),
            application_id,
            case_id: None,
            from_rule: None,
            gemeentecode: code.map(gm),
            triage_on: day(triage_on),
            submitted_at: t(submitted),
        };
        self.identifiers.push(application_id.to_string());
        self.procesregie(
            ProcesregieEvent::ApplicationSubmitted,
            event.event_id,
            &event,
        );
        application_id
    }

    /// The triage of `triage_on` decides `outcome` about an application; for an ICO, it opens one
    /// (returned) a few minutes later.
    pub fn triaged(
        &mut self,
        code: Option<&str>,
        application_id: Uuid,
        submitted: &str,
        triage_on: &str,
        outcome: TriageOutcome,
        decided: &str,
    ) -> Option<Uuid> {
        let ico_id = (outcome == TriageOutcome::Ico).then(Uuid::now_v7);
        let event = ApplicationTriaged {
            schema_version: SCHEMA_VERSION,
            event_id: Uuid::now_v7(),
            application_id,
            gemeentecode: code.map(gm),
            triage_on: day(triage_on),
            outcome,
            ico_id,
            submitted_at: t(submitted),
            decided_at: t(decided),
        };
        self.procesregie(ProcesregieEvent::ApplicationTriaged, event.event_id, &event);
        let ico_id = ico_id?;
        let opened = IcoOpened {
            schema_version: SCHEMA_VERSION,
            event_id: Uuid::now_v7(),
            ico_id,
            application_id,
            case_id: None,
            gemeentecode: code.map(gm),
            procesregisseur: format!("procesregisseur {FAMILY_NAME}"),
            opened_at: t(decided) + chrono::Duration::minutes(5),
        };
        self.identifiers.push(ico_id.to_string());
        self.procesregie(ProcesregieEvent::IcoOpened, opened.event_id, &opened);
        // An action of its plan van aanpak: no figure counts it.
        let action = IcoActionChanged {
            schema_version: SCHEMA_VERSION,
            event_id: Uuid::now_v7(),
            ico_id,
            action_id: Uuid::now_v7(),
            created: true,
            owner_organisation: "GGZ".into(),
            status: ActionStatus::Open,
            due_on: day(triage_on) + chrono::Days::new(14),
            by: "procesregisseur-1".into(),
            at: t(decided) + chrono::Duration::minutes(10),
        };
        self.procesregie(ProcesregieEvent::IcoActionChanged, action.event_id, &action);
        Some(ico_id)
    }

    pub fn ico_closed(&mut self, ico_id: Uuid, reason: IcoCloseReason, opened: &str, at: &str) {
        let event = IcoClosed {
            schema_version: SCHEMA_VERSION,
            event_id: Uuid::now_v7(),
            ico_id,
            reason,
            open_actions: 1,
            opened_at: t(opened),
            closed_at: t(at),
        };
        self.procesregie(ProcesregieEvent::IcoClosed, event.event_id, &event);
    }

    fn procesregie<T: serde::Serialize>(&mut self, which: ProcesregieEvent, id: Uuid, event: &T) {
        self.messages.push(Published::json(
            self.s.procesregie_event(which),
            id.to_string(),
            event,
        ));
    }

    /// A dead letter as the consumer loop stores it: the original payload, which need not be
    /// JSON, under `dlq:<service>:<stream>:<sequence>`.
    pub fn dead_letter(&mut self, service: &str, seq: u64, payload: &[u8]) {
        self.messages.push(Published {
            subject: self.s.dead_letter(service),
            msg_id: format!("dlq:{service}:STREAM:{seq}"),
            payload: payload.to_vec(),
        });
    }
}

/// "Now" for the figures: Monday 28 December 2026, 10:00 in Haarlem; the Friday before was
/// Eerste Kerstdag and Saturday Tweede Kerstdag.
pub fn now() -> DateTime<Utc> {
    t("2026-12-28T09:00:00Z")
}

/// The December of the region. Worked out by hand in `monitor_figures.rs`.
pub fn december(s: &Subjects) -> Story {
    use ConditionStatus::{Arranged, NeedsAction, NotApplicable, Unknown};
    let mut st = Story::new(s);
    // November: one notice, routed in 2 minutes.
    let n0 = st.notice(
        "N0",
        "PI-HAARLEM",
        NoticeKind::ReleasePlanned,
        "2026-11-20T09:00:00Z",
    );
    st.routed_to(&n0, HAARLEM, "2026-11-20T09:00:00Z", "2026-11-20T09:02:00Z");
    // December: routed in 10 min, 30 min, 1 h; one by hand after 4 h 5 min; one still waiting.
    let n1 = st.notice(
        "N1",
        "PI-HAARLEM",
        NoticeKind::ReleasePlanned,
        "2026-12-01T09:00:00Z",
    );
    st.routed_to(&n1, HAARLEM, "2026-12-01T09:00:00Z", "2026-12-01T09:10:00Z");
    let n2 = st.notice(
        "N2",
        "PI-HAARLEM",
        NoticeKind::DetentionStarted,
        "2026-12-02T09:00:00Z",
    );
    st.routed_to(&n2, HAARLEM, "2026-12-02T09:00:00Z", "2026-12-02T09:30:00Z");
    let n3 = st.notice(
        "N3",
        "PI-ZAANDAM",
        NoticeKind::Update,
        "2026-12-03T09:00:00Z",
    );
    st.routed_to(&n3, VELSEN, "2026-12-03T09:00:00Z", "2026-12-03T10:00:00Z");
    let n4 = st.notice(
        "N4",
        "PI-HAARLEM",
        NoticeKind::ReleasePlanned,
        "2026-12-04T08:55:00Z",
    );
    st.routed(
        &n4,
        RoutingOutcome::Unroutable,
        "2026-12-04T08:55:00Z",
        "2026-12-04T09:00:00Z",
    );
    st.routed_to(
        &n4,
        BEVERWIJK,
        "2026-12-04T08:55:00Z",
        "2026-12-04T13:00:00Z",
    );
    let n5 = st.notice(
        "N5",
        "PI-HAARLEM",
        NoticeKind::ReleasePlanned,
        "2026-12-22T09:00:00Z",
    );
    st.routed(
        &n5,
        RoutingOutcome::Unroutable,
        "2026-12-22T09:00:00Z",
        "2026-12-22T09:01:00Z",
    );
    // Out of region: to Haarlemmermeer (forwarded to amsterdam-amstelland), once waiting and once
    // acknowledged; to Amsterdam (no region known: by hand). 5 minutes each.
    let n6 = st.notice(
        "N6",
        "PI-HAARLEM",
        NoticeKind::ReleasePlanned,
        "2026-12-10T09:00:00Z",
    );
    let out = |code: &str| RoutingOutcome::OutOfRegion {
        gemeentecode: gm(code),
    };
    st.routed(
        &n6,
        out(HAARLEMMERMEER),
        "2026-12-10T09:00:00Z",
        "2026-12-10T09:05:00Z",
    );
    let n7 = st.notice(
        "N7",
        "PI-HAARLEM",
        NoticeKind::ReleasePlanned,
        "2026-12-11T09:00:00Z",
    );
    st.routed(
        &n7,
        out(HAARLEMMERMEER),
        "2026-12-11T09:00:00Z",
        "2026-12-11T09:05:00Z",
    );
    st.acknowledged(&n7, HAARLEMMERMEER, "2026-12-11T10:00:00Z");
    let n8 = st.notice(
        "N8",
        "PI-HAARLEM",
        NoticeKind::ReleasePlanned,
        "2026-12-12T09:00:00Z",
    );
    st.routed(
        &n8,
        out(AMSTERDAM),
        "2026-12-12T09:00:00Z",
        "2026-12-12T09:05:00Z",
    );

    // C1 Haarlem: released 15 Dec; ID arranged late on the release day, housing before it, debts
    // only the day after; care not applicable; first claim 1 h 20 min after the notice.
    let c1 = st.case_opened(
        HAARLEM,
        &n1,
        "2026-12-01T09:00:00Z",
        "2026-12-01T09:20:00Z",
        Some("2026-12-15"),
        false,
        [Unknown, NeedsAction, Arranged, Unknown, NotApplicable],
    );
    st.claimed(HAARLEM, c1, Condition::Id, "2026-12-01T10:20:00Z");
    st.status(
        HAARLEM,
        c1,
        Condition::Housing,
        Arranged,
        "2026-12-10T10:00:00Z",
    );
    st.status(HAARLEM, c1, Condition::Id, Arranged, "2026-12-15T20:00:00Z");
    st.status(
        HAARLEM,
        c1,
        Condition::Debts,
        Arranged,
        "2026-12-16T08:00:00Z",
    );
    // C2 Haarlem: released 20 Dec with nothing arranged; claimed a day after the notice; four
    // overdue tasks: due 24 Dec (1 working day late), 20 Dec (5), 13 Dec (10), and care (due
    // 23 Dec) arranged since.
    let c2 = st.case_opened(
        HAARLEM,
        &n2,
        "2026-12-02T09:00:00Z",
        "2026-12-02T09:40:00Z",
        Some("2026-12-20"),
        false,
        [Unknown; 5],
    );
    st.claimed(HAARLEM, c2, Condition::Housing, "2026-12-03T09:00:00Z");
    st.overdue(
        HAARLEM,
        c2,
        Condition::Housing,
        "2026-12-24",
        "2026-12-25T07:00:00Z",
    );
    st.overdue(
        HAARLEM,
        c2,
        Condition::Id,
        "2026-12-20",
        "2026-12-21T07:00:00Z",
    );
    st.overdue(
        HAARLEM,
        c2,
        Condition::Income,
        "2026-12-13",
        "2026-12-14T07:00:00Z",
    );
    st.overdue(
        HAARLEM,
        c2,
        Condition::Care,
        "2026-12-23",
        "2026-12-24T07:00:00Z",
    );
    st.status(
        HAARLEM,
        c2,
        Condition::Care,
        Arranged,
        "2026-12-27T10:00:00Z",
    );
    // C3 Velsen: spoed, opened Thursday 24 Dec, nobody claimed: 1 working day old on the 28th.
    st.case_opened(
        VELSEN,
        &n3,
        "2026-12-24T09:00:00Z",
        "2026-12-24T10:00:00Z",
        Some("2026-12-30"),
        true,
        [Unknown; 5],
    );
    // C4 Beverwijk: opened Friday 18 Dec, nobody claimed: 5 working days old.
    st.case_opened(
        BEVERWIJK,
        &n4,
        "2026-12-04T08:55:00Z",
        "2026-12-18T10:00:00Z",
        Some("2027-01-20"),
        false,
        [Unknown; 5],
    );
    // C5 Haarlem: spoed, claimed 2 h after its notice; released after "now".
    let c5 = st.case_opened(
        HAARLEM,
        &n5,
        "2026-12-21T09:00:00Z",
        "2026-12-21T10:00:00Z",
        Some("2026-12-30"),
        true,
        [Unknown; 5],
    );
    st.claimed(HAARLEM, c5, Condition::Housing, "2026-12-21T11:00:00Z");
    // C6 Haarlem: cancelled the day after it opened; not a release, not waiting.
    let c6 = st.case_opened(
        HAARLEM,
        &n0,
        "2026-11-20T09:00:00Z",
        "2026-12-01T12:00:00Z",
        Some("2026-12-10"),
        false,
        [Unknown; 5],
    );
    st.closed(HAARLEM, c6, CloseReason::Cancelled, "2026-12-02T12:00:00Z");

    // Procesregie. November: A6 (Haarlem) not accepted at the triage of Tuesday 24 Nov.
    let a6 = st.application_submitted(Some(HAARLEM), "2026-11-23T09:00:00Z", "2026-11-24");
    st.triaged(
        Some(HAARLEM),
        a6,
        "2026-11-23T09:00:00Z",
        "2026-11-24",
        TriageOutcome::NotAccepted,
        "2026-11-24T10:00:00Z",
    );
    // A1 (Haarlem): ICO at the triage of 1 Dec, opened 11:05, closed 22 Dec with its goal reached.
    let a1 = st.application_submitted(Some(HAARLEM), "2026-11-30T10:00:00Z", "2026-12-01");
    let i1 = st
        .triaged(
            Some(HAARLEM),
            a1,
            "2026-11-30T10:00:00Z",
            "2026-12-01",
            TriageOutcome::Ico,
            "2026-12-01T11:00:00Z",
        )
        .expect("an ICO");
    st.ico_closed(
        i1,
        IcoCloseReason::GoalReached,
        "2026-12-01T11:05:00Z",
        "2026-12-22T10:00:00Z",
    );
    // A2 (Velsen): advice on 8 Dec. A7 (Velsen): to a local table on 15 Dec.
    let a2 = st.application_submitted(Some(VELSEN), "2026-12-07T09:00:00Z", "2026-12-08");
    st.triaged(
        Some(VELSEN),
        a2,
        "2026-12-07T09:00:00Z",
        "2026-12-08",
        TriageOutcome::Advice,
        "2026-12-08T10:00:00Z",
    );
    let a7 = st.application_submitted(Some(VELSEN), "2026-12-14T09:00:00Z", "2026-12-15");
    st.triaged(
        Some(VELSEN),
        a7,
        "2026-12-14T09:00:00Z",
        "2026-12-15",
        TriageOutcome::LocalTable,
        "2026-12-15T10:00:00Z",
    );
    // A3 (Haarlem): ICO on 15 Dec, still open.
    let a3 = st.application_submitted(Some(HAARLEM), "2026-12-14T09:00:00Z", "2026-12-15");
    st.triaged(
        Some(HAARLEM),
        a3,
        "2026-12-14T09:00:00Z",
        "2026-12-15",
        TriageOutcome::Ico,
        "2026-12-15T10:30:00Z",
    );
    // Waiting for the triage: A4 (Beverwijk) since 21 Dec 08:00, A5 (no case, no municipality:
    // the region's only) since 24 Dec 09:00.
    st.application_submitted(Some(BEVERWIJK), "2026-12-21T08:00:00Z", "2026-12-22");
    st.application_submitted(None, "2026-12-24T09:00:00Z", "2026-12-29");

    // Dead letters: two of the router (one not even JSON), one of casework.
    st.dead_letter("router", 1, b"\xff not json");
    st.dead_letter("router", 2, br#"{"x":1}"#);
    st.dead_letter("casework", 3, br#"{"y":2}"#);
    st
}
