//! Need to know, per field: the one rule every procesregie reader of personal data asks what a
//! caller is shown of an application, an ICO or a suggestion (issue 16). The application and ICO
//! readers and the suggestion list go through [`FieldPolicy`]; none of them decides on its own.
//!
//! | field | shown to |
//! |---|---|
//! | the record at all | the procesregisseur and the RCN coordinator (the region), the municipality's staff, and whoever applied; anyone else `not found` (the privacy officer and the administrator included: procesregie is not where they read a person) |
//! | the person: name, date of birth | whoever may see the record |
//! | BSN | never in full: procesregie keeps only the masked form |
//! | risk flags and their details (a suggestion's inputs) | the procesregisseur and the RCN coordinator only |
//! | partners' contact person, phone, email; the casusregisseur's name, phone, email | the procesregisseur (chairs the ICO), the applicant and the municipality's staff (they work with the partners); the RCN coordinator sees which organisations take part, not whom to call there |
//! | address | nobody: procesregie does not keep it |
//!
//! It must never widen what a caller sees beyond this table.

use rcn_contracts::access_log::{Field, Read, What};
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::procesregie_api::{Casusregisseur, Partner};

use crate::access;

/// What one caller is shown of one record of municipality `gemeente`, made by `applicant`.
#[derive(Debug, Clone, Copy)]
pub struct FieldPolicy<'a> {
    who: &'a Identity,
    gemeente: Option<&'a str>,
    applicant: Option<&'a str>,
}

impl<'a> FieldPolicy<'a> {
    pub fn new(who: &'a Identity, gemeente: Option<&'a str>, applicant: Option<&'a str>) -> Self {
        FieldPolicy {
            who,
            gemeente,
            applicant,
        }
    }

    /// Whether the caller may see the record at all (and with it the person's name and date of
    /// birth and the masked BSN).
    pub fn record(&self) -> bool {
        access::may_see(self.who, self.gemeente, self.applicant)
    }

    /// Whether risk flags and their details are shown.
    pub fn risk_flags(&self) -> bool {
        self.record() && access::sees_region(self.who)
    }

    /// Whether the partners' and the casusregisseur's contact details are shown.
    pub fn partner_contacts(&self) -> bool {
        let own_municipality = self.who.role == Role::MunicipalStaff
            && self.gemeente.is_some()
            && self.who.gemeentecode.as_ref().map(|g| g.as_str()) == self.gemeente;
        self.record()
            && (self.who.role == Role::Procesregisseur
                || self.applicant == Some(self.who.user_id.as_str())
                || own_municipality)
    }

    /// The partners as shown: the organisation always, the contact details when allowed.
    pub fn partners(&self, partners: &[Partner]) -> Vec<Partner> {
        if self.partner_contacts() {
            return partners.to_vec();
        }
        partners
            .iter()
            .map(|p| Partner {
                organisation: p.organisation.clone(),
                contact: String::new(),
                phone: String::new(),
                email: String::new(),
            })
            .collect()
    }

    /// The casusregisseur as shown: the organisation always, name and contact when allowed.
    pub fn casusregisseur(&self, c: &Casusregisseur) -> Casusregisseur {
        if self.partner_contacts() {
            return c.clone();
        }
        Casusregisseur {
            name: String::new(),
            organisation: c.organisation.clone(),
            phone: String::new(),
            email: String::new(),
        }
    }

    /// The access log's words for reading one application or ICO (`read`).
    pub fn record_read(&self, read: Read) -> What {
        What::new(read).with(Field::PartnerContacts, self.partner_contacts())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcn_contracts::Gemeentecode;

    fn who(user: &str, role: Role, gm: Option<&str>) -> Identity {
        Identity {
            user_id: user.into(),
            role,
            gemeentecode: gm.map(|g| Gemeentecode::parse(g).unwrap()),
        }
    }

    /// (record, risk flags, partner contacts) for each kind of caller, of an application of
    /// Haarlem made by anna.
    #[test]
    fn every_role_against_every_guarded_field() {
        let table = [
            (
                who("anna", Role::MunicipalStaff, Some("GM0392")),
                (true, false, true),
            ),
            (
                who("bert", Role::MunicipalStaff, Some("GM0392")),
                (true, false, true),
            ),
            (
                who("vera", Role::MunicipalStaff, Some("GM0453")),
                (false, false, false),
            ),
            (who("rita", Role::RcnCoordinator, None), (true, true, false)),
            (who("paul", Role::Procesregisseur, None), (true, true, true)),
            (who("fg", Role::PrivacyOfficer, None), (false, false, false)),
            (
                who("beheer", Role::Administrator, None),
                (false, false, false),
            ),
        ];
        for (caller, expected) in table {
            let p = FieldPolicy::new(&caller, Some("GM0392"), Some("anna"));
            assert_eq!(
                (p.record(), p.risk_flags(), p.partner_contacts()),
                expected,
                "{caller:?}"
            );
        }
    }

    #[test]
    fn withheld_contacts_keep_the_organisation_only() {
        let rita = who("rita", Role::RcnCoordinator, None);
        let p = FieldPolicy::new(&rita, Some("GM0392"), Some("anna"));
        let shown = p.partners(&[Partner {
            organisation: "GGZ".into(),
            contact: "J. de Vries".into(),
            phone: "088".into(),
            email: "j@ggz.example".into(),
        }]);
        assert_eq!(shown[0].organisation, "GGZ");
        assert!(shown[0].contact.is_empty() && shown[0].phone.is_empty());
        assert!(shown[0].email.is_empty());
        assert_eq!(
            p.record_read(Read::Application).to_log(),
            "application (partner_contacts: false)"
        );
    }
}
