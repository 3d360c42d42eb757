//! Need to know per field (issue 16) in procesregie, every role against every personal field,
//! through the real API: an application from Haarlem's anna for a person not in casework, with a
//! partner's contact details, turned into an ICO with a casusregisseur; and a Haarlem case whose
//! risk flags raised a suggestion. Each kind of caller reads the application, the ICO and the
//! suggestions, and what each field showed is compared with one table. Loosen any rule of
//! `visibility::FieldPolicy` and a row here differs.

use std::collections::BTreeMap;

use chrono::{Days, Utc};
use rcn_contracts::casework_events::RiskFlagsNoted;
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::procesregie_api::{
    ApplicationView, Casusregisseur, IcoUpdate, IcoView, TriageDecision, TriageOutcome,
};
use rcn_contracts::{Condition, ConditionStatus, RiskFlag, SCHEMA_VERSION};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::cases_in::case_opened;
use crate::helpers::{TestProcesregie, complete_form, rcn, regisseur, staff};

/// The partner's contact person and phone in the application (`complete_form`).
const PARTNER_CONTACT: [&str; 2] = ["J. de Vries", "088-8041000"];
/// The casusregisseur's name and phone.
const CASUSREGISSEUR: [&str; 2] = ["M. Bakker", "072-1234567"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Field {
    /// The person's name on the application.
    Name,
    DateOfBirth,
    /// The BSN on the application: procesregie keeps only its masked form.
    Bsn,
    Address,
    /// The partners' contact details on the application.
    PartnerContacts,
    /// The person's name on the ICO.
    IcoPerson,
    /// The casusregisseur's and partners' contact details on the ICO.
    IcoContacts,
    /// Which risk flags raised a suggestion.
    RiskFlags,
}

use Field::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    Shown,
    Masked,
    /// Blank, and the reply says it was withheld.
    Withheld,
    Absent,
    /// Refused with this HTTP status.
    Refused(u16),
}

use Seen::*;

fn identity(user: &str, role: Role) -> Identity {
    Identity {
        user_id: user.into(),
        role,
        gemeentecode: None,
    }
}

async fn ask(p: &TestProcesregie, who: &Identity, verb: &str, body: Value) -> Result<String, u16> {
    p.ask::<_, Value>(verb, who, &body)
        .await
        .map(|v| v.to_string())
        .map_err(|problem| problem.status)
}

fn contacts(raw: &str, texts: &[&str]) -> Seen {
    let shown: Vec<bool> = texts.iter().map(|t| raw.contains(t)).collect();
    match (shown.iter().all(|s| *s), shown.iter().any(|s| *s)) {
        (true, _) => Shown,
        (false, true) => panic!("part of the contact details shown: {raw}"),
        (false, false) if raw.contains("\"partner_contacts_withheld\":true") => Withheld,
        (false, false) => Absent,
    }
}

async fn observe(
    p: &TestProcesregie,
    who: &Identity,
    application: Uuid,
    ico: Uuid,
    flagged_case: Uuid,
) -> BTreeMap<Field, Seen> {
    let mut seen = BTreeMap::new();
    let shown = |yes: bool| if yes { Shown } else { Absent };
    match ask(
        p,
        who,
        "application_get",
        json!({"application_id": application}),
    )
    .await
    {
        Err(status) => {
            for f in [Name, DateOfBirth, Bsn, Address, PartnerContacts] {
                seen.insert(f, Refused(status));
            }
        }
        Ok(raw) => {
            seen.insert(Name, shown(raw.contains("Jansen")));
            seen.insert(DateOfBirth, shown(raw.contains("1990-04-01")));
            seen.insert(
                Bsn,
                match (raw.contains("123456782"), raw.contains("*****6782")) {
                    (true, _) => Shown,
                    (false, true) => Masked,
                    _ => Absent,
                },
            );
            seen.insert(
                Address,
                shown(raw.contains("postcode") || raw.contains("address")),
            );
            seen.insert(PartnerContacts, contacts(&raw, &PARTNER_CONTACT));
        }
    }
    match ask(p, who, "ico_get", json!({"ico_id": ico})).await {
        Err(status) => {
            seen.insert(IcoPerson, Refused(status));
            seen.insert(IcoContacts, Refused(status));
        }
        Ok(raw) => {
            seen.insert(IcoPerson, shown(raw.contains("Jansen")));
            let both = [PARTNER_CONTACT, CASUSREGISSEUR].concat();
            seen.insert(IcoContacts, contacts(&raw, &both));
        }
    }
    seen.insert(
        RiskFlags,
        match ask(p, who, "suggestion_list", json!({"case_id": flagged_case})).await {
            Err(status) => Refused(status),
            Ok(raw) if raw.contains("DOMESTIC_VIOLENCE") => Shown,
            // The suggestion is listed, which flag raised it is not.
            Ok(raw) if raw.contains("risk_flag") => Withheld,
            Ok(_) => Absent,
        },
    );
    seen
}

#[tokio::test]
async fn every_role_sees_each_personal_field_exactly_as_need_to_know_allows() {
    let p = TestProcesregie::spawn().await;

    // anna of Haarlem applies; the triage makes it an ICO with a casusregisseur.
    let anna = staff("anna", "GM0392");
    let a: ApplicationView = p
        .ask("application_save", &anna, &complete_form("GM0392"))
        .await
        .expect("anna applies");
    let pr = regisseur("pr-1");
    let triaged: ApplicationView = p
        .ask(
            "triage_decide",
            &pr,
            &TriageDecision {
                application_id: a.application_id,
                outcome: TriageOutcome::Ico,
                reason: "voldoet aan A, B en D".into(),
                advice: None,
            },
        )
        .await
        .expect("the triage decides");
    let ico_id = triaged
        .outcome
        .and_then(|o| o.ico_id)
        .expect("an ICO is opened");
    let _: IcoView = p
        .ask(
            "ico_update",
            &pr,
            &IcoUpdate {
                ico_id,
                casusregisseur: Some(Casusregisseur {
                    name: CASUSREGISSEUR[0].into(),
                    organisation: "GGZ Noord-Holland-Noord".into(),
                    phone: CASUSREGISSEUR[1].into(),
                    email: "m.bakker@ggz.example".into(),
                }),
                partners: None,
                goal: None,
            },
        )
        .await
        .expect("the casusregisseur is named");

    // A Haarlem case whose notice carried a risk flag: procesregie suggests an ICO.
    let release = Utc::now().date_naive() + Days::new(60);
    let c = case_opened(
        "GM0392",
        Some(release),
        false,
        &[(Condition::Id, ConditionStatus::Unknown)],
    );
    p.publish_case_event(
        p.subjects.case_opened(&c.gemeentecode),
        &c.event_id.to_string(),
        &c,
    )
    .await;
    let flags = RiskFlagsNoted {
        schema_version: SCHEMA_VERSION,
        event_id: Uuid::now_v7(),
        case_id: c.case_id,
        episode_key: c.episode_key.clone(),
        person_key: c.person_key.clone().expect("a person key"),
        gemeentecode: c.gemeentecode.clone(),
        risk_flags: vec![RiskFlag::DomesticViolence],
        noted_at: Utc::now(),
    };
    p.publish_case_event(
        p.subjects.risk_flags_noted(&c.gemeentecode),
        "ntk-flags",
        &flags,
    )
    .await;
    p.wait_until_caught_up().await;

    let none = Refused(404);
    // (who, [Name, DateOfBirth, Bsn, Address, PartnerContacts, IcoPerson, IcoContacts, RiskFlags])
    let table: Vec<(&str, Identity, [Seen; 8])> = vec![
        (
            "the applicant (staff of the municipality)",
            anna.clone(),
            [Shown, Shown, Masked, Absent, Shown, Shown, Shown, Withheld],
        ),
        (
            "a colleague of the applicant",
            staff("bert", "GM0392"),
            [Shown, Shown, Masked, Absent, Shown, Shown, Shown, Withheld],
        ),
        (
            "staff of another municipality",
            staff("vera", "GM0453"),
            [none, none, none, none, none, none, none, Absent],
        ),
        (
            "the RCN coordinator",
            rcn("rita"),
            [
                Shown, Shown, Masked, Absent, Withheld, Shown, Withheld, Shown,
            ],
        ),
        (
            "a procesregisseur (not the ICO's chair)",
            regisseur("paul"),
            [Shown, Shown, Masked, Absent, Shown, Shown, Shown, Shown],
        ),
        (
            "the privacy officer",
            identity("fg", Role::PrivacyOfficer),
            [none, none, none, none, none, none, none, Absent],
        ),
        (
            "the administrator",
            identity("beheer", Role::Administrator),
            [none, none, none, none, none, none, none, Absent],
        ),
    ];
    let fields = [
        Name,
        DateOfBirth,
        Bsn,
        Address,
        PartnerContacts,
        IcoPerson,
        IcoContacts,
        RiskFlags,
    ];
    let mut wrong = Vec::new();
    for (label, who, expected) in &table {
        let seen = observe(&p, who, a.application_id, ico_id, c.case_id).await;
        for (field, want) in fields.iter().zip(expected) {
            let got = seen.get(field).copied();
            if got != Some(*want) {
                wrong.push(format!(
                    "{label}, {field:?}: expected {want:?}, saw {got:?}"
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "need to know broken:\n{}",
        wrong.join("\n")
    );

    // The log says whether contact details were shown.
    let rita: Vec<String> = sqlx::query_scalar(
        "SELECT what FROM procesregie.access_log WHERE user_id = 'rita' ORDER BY id",
    )
    .fetch_all(&p.db)
    .await
    .expect("the access log");
    assert!(
        rita.contains(&"application (partner_contacts: false)".to_owned())
            && rita.contains(&"ico (partner_contacts: false)".to_owned()),
        "{rita:?}"
    );

    // The RCN coordinator saving anna's draft cannot blank the contact details she was not shown.
    let mut form = complete_form("GM0392");
    form.submit = false;
    let draft: ApplicationView = p
        .ask("application_save", &anna, &form)
        .await
        .expect("anna saves a draft");
    let mut blanked = form.clone();
    blanked.application_id = Some(draft.application_id);
    for partner in &mut blanked.partners {
        partner.contact.clear();
        partner.phone.clear();
        partner.email.clear();
    }
    let _: ApplicationView = p
        .ask("application_save", &rcn("rita"), &blanked)
        .await
        .expect("the RCN saves the draft");
    let kept: ApplicationView = p
        .ask(
            "application_get",
            &anna,
            &json!({"application_id": draft.application_id}),
        )
        .await
        .expect("anna reads her draft");
    assert_eq!(kept.partners, form.partners, "the contact details stay");
    p.stop().await;
}
