//! Example messages: a valid release notice for documentation (OpenAPI, README) and for tests,
//! which vary it field by field. The person is invented; the BSN only passes the 11-proef.

use crate::ReleaseNotice;

/// A complete, valid `release_planned` notice for a person registered in Haarlem.
pub fn release_notice() -> ReleaseNotice {
    serde_json::from_value(release_notice_json()).expect("the example notice is valid")
}

/// The same notice as JSON, to edit into invalid variants.
pub fn release_notice_json() -> serde_json::Value {
    serde_json::json!({
        "notice_id": "PIH-2026-000123",
        "kind": "release_planned",
        "sent_at": "2026-11-20T09:30:00Z",
        "sender": {
            "institution_code": "PI-HAARLEM",
            "institution_name": "PI Haarlem",
            "contact": {"name": "J. de Vries", "phone": "023-5555555", "email": "casemanager@pi-haarlem.example"}
        },
        "person": {
            "bsn": "123456782",
            "family_name": "Jansen",
            "given_names": "Piet",
            "date_of_birth": "1990-04-01",
            "brp_municipality": "GM0392",
            "address": {"postcode": "2011 AB", "house_number": 12, "city": "Haarlem"},
            "no_fixed_abode": false
        },
        "detention": {
            "started_on": "2026-09-01",
            "expected_release_on": "2026-12-15",
            "release_date_firm": true,
            "title": "sentence",
            "release_type": "end_of_sentence"
        },
        "conditions": {
            "id": {"status": "arranged"},
            "housing": {"status": "needs_action", "note": "Geen woning na vrijlating."},
            "income": {"status": "unknown"},
            "debts": {"status": "in_progress"},
            "care": {"status": "arranged"}
        },
        "risk_flags": [],
        "remarks": "Wil na vrijlating terug naar Haarlem."
    })
}
