//! Need to know, per field: the one rule every casework reader of personal data asks what a
//! caller is shown of a case (issue 16). The case page, the inbox rows and the task history all
//! go through [`FieldPolicy`]; none of them decides on its own.
//!
//! | field | shown to |
//! |---|---|
//! | the case at all | its municipality's staff, the RCN coordinator, the procesregisseur (another municipality's staff: `not_found`; the privacy officer and the administrator read no case here: `forbidden`); a case closed because the municipality is no longer responsible (moved out of the region, cancelled by the institution) no longer its staff: `not_found`, the RCN and procesregie until retention removes it |
//! | name, date of birth | whoever may see the case |
//! | full BSN | the case's own municipality's staff, and the privacy officer (whose reads of a person go through the export); everyone else `*****6782`; a list (the inbox) masks it for everyone |
//! | risk flags | the RCN coordinator and the procesregisseur only |
//! | notes and reasons of the care task (health data) | whoever holds the care task, and the RCN coordinator, who supervises the region's aftercare (DOMAIN.md: the RCN coordinates every case and takes over what nobody can); a municipal colleague who does not hold it and the procesregisseur see *that* there is a note, not its text |
//! | notes of the other conditions | whoever may see the case |
//! | address | nobody: casework does not keep it |
//!
//! It must never widen what a caller sees beyond this table, and never read the request body to
//! decide: only the `Rcn-Identity` the kit verified.

use rcn_contracts::access_log::{Field, Read, What};
use rcn_contracts::casework_api::{CloseReason, ErrorCode};
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::{Condition, Gemeentecode};

use crate::error::{Result, not_found, refuse};
use crate::inbox::mask;

/// Roles that read cases in casework at all; the others are refused outright (not `not_found`:
/// their role sees no case, so the refusal tells them nothing about any one case).
pub fn require_case_reader(who: &Identity) -> Result<()> {
    match who.role {
        Role::MunicipalStaff | Role::RcnCoordinator | Role::Procesregisseur => Ok(()),
        Role::PrivacyOfficer | Role::Administrator => Err(refuse(
            ErrorCode::Forbidden,
            "Your role reads no cases in casework.",
        )),
    }
}

/// Whether a case closed for `reason` is no longer its municipality's to read: the person moved
/// out of the region (another region's municipality is responsible now) or the institution
/// cancelled its notices (there is no aftercare to give). Closed for any other reason (completed,
/// deceased, a duplicate, by hand for another reason) the case stays the municipality's own record
/// until retention removes it. Reopening clears the reason, and with it this rule.
pub fn ends_municipal_access(reason: Option<CloseReason>) -> bool {
    matches!(
        reason,
        Some(CloseReason::MovedOutOfRegion | CloseReason::Cancelled)
    )
}

/// Whether `who` may see a case of `gemeente`, closed for `closed_reason` (none while open): the
/// one answer every casework reader of a case asks.
pub fn may_see_case(
    who: &Identity,
    gemeente: &Gemeentecode,
    closed_reason: Option<CloseReason>,
) -> bool {
    who.may_see(gemeente)
        && !(who.role == Role::MunicipalStaff && ends_municipal_access(closed_reason))
}

/// What one caller is shown of one case of municipality `gemeente`.
#[derive(Debug, Clone, Copy)]
pub struct FieldPolicy<'a> {
    who: &'a Identity,
    gemeente: &'a Gemeentecode,
}

impl<'a> FieldPolicy<'a> {
    /// The rule for `who` reading a case of `gemeente`, without asking whether they may read it
    /// at all (for the rule's own tests, and readers that checked that themselves).
    pub fn rule(who: &'a Identity, gemeente: &'a Gemeentecode) -> Self {
        FieldPolicy { who, gemeente }
    }

    /// The rule for `who` reading a case of `gemeente`, closed for `closed_reason` (none while
    /// open): `forbidden` for a role that reads no case, `not_found` for a case of another
    /// municipality or one its municipality no longer has ([`ends_municipal_access`]).
    pub fn for_case(
        who: &'a Identity,
        gemeente: &'a Gemeentecode,
        closed_reason: Option<CloseReason>,
    ) -> Result<Self> {
        require_case_reader(who)?;
        if !may_see_case(who, gemeente, closed_reason) {
            return Err(not_found());
        }
        Ok(Self::rule(who, gemeente))
    }

    /// Whether the full BSN is shown.
    pub fn full_bsn(&self) -> bool {
        self.who.may_work(self.gemeente) || self.who.role == Role::PrivacyOfficer
    }

    /// The BSN as shown, and whether it is masked.
    pub fn bsn(&self, stored: &str) -> (String, bool) {
        if self.full_bsn() {
            (stored.to_owned(), false)
        } else {
            (mask(stored), true)
        }
    }

    /// The BSN in a list of many people: always masked, the full number is for one case at a time.
    pub fn bsn_in_list(&self, stored: &str) -> String {
        mask(stored)
    }

    /// Whether the risk flags (and their details) are shown.
    pub fn risk_flags(&self) -> bool {
        matches!(self.who.role, Role::RcnCoordinator | Role::Procesregisseur)
    }

    /// Whether the notes and reasons of task `condition`, held by `holder`, are shown.
    pub fn notes(&self, condition: Condition, holder: Option<&str>) -> bool {
        match condition {
            // Health data: the holder of the care task, and the RCN coordinator who supervises it.
            Condition::Care => {
                let holds =
                    self.who.may_work(self.gemeente) && holder == Some(self.who.user_id.as_str());
                holds || self.who.role == Role::RcnCoordinator
            }
            _ => self.who.may_see(self.gemeente),
        }
    }

    /// The access log's words for a case page read: which of the guarded fields were shown.
    pub fn case_detail_read(&self, care_holder: Option<&str>) -> What {
        What::new(Read::CaseDetail)
            .with(Field::Bsn, self.full_bsn())
            .with(Field::RiskFlags, self.risk_flags())
            .with(Field::CareNote, self.notes(Condition::Care, care_holder))
    }

    /// The access log's words for a task history read.
    pub fn task_history_read(&self, condition: Condition, holder: Option<&str>) -> What {
        What::new(Read::TaskHistory(condition)).with(Field::Notes, self.notes(condition, holder))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(user: &str, role: Role, gemeente: Option<&str>) -> Identity {
        Identity {
            user_id: user.into(),
            role,
            gemeentecode: gemeente.map(|g| Gemeentecode::parse(g).unwrap()),
        }
    }

    /// (full BSN, risk flags, care note, housing note) for each kind of caller, the care task held
    /// by anna of Haarlem.
    #[test]
    fn every_role_against_every_guarded_field() {
        let haarlem = Gemeentecode::parse("GM0392").unwrap();
        let table = [
            (
                who("anna", Role::MunicipalStaff, Some("GM0392")),
                (true, false, true, true),
            ),
            (
                who("bert", Role::MunicipalStaff, Some("GM0392")),
                (true, false, false, true),
            ),
            (
                who("anna", Role::MunicipalStaff, Some("GM0453")),
                (false, false, false, false),
            ),
            (
                who("rita", Role::RcnCoordinator, None),
                (false, true, true, true),
            ),
            (
                who("paul", Role::Procesregisseur, None),
                (false, true, false, true),
            ),
            (
                who("anna", Role::PrivacyOfficer, None),
                (true, false, false, false),
            ),
            (
                who("anna", Role::Administrator, None),
                (false, false, false, false),
            ),
        ];
        for (caller, expected) in table {
            let p = FieldPolicy::rule(&caller, &haarlem);
            let got = (
                p.full_bsn(),
                p.risk_flags(),
                p.notes(Condition::Care, Some("anna")),
                p.notes(Condition::Housing, Some("anna")),
            );
            assert_eq!(got, expected, "{caller:?}");
        }
    }

    #[test]
    fn only_case_readers_get_a_rule_and_another_municipality_gets_not_found() {
        let haarlem = Gemeentecode::parse("GM0392").unwrap();
        let code = |w: &Identity| match FieldPolicy::for_case(w, &haarlem, None) {
            Ok(_) => None,
            Err(crate::error::CaseworkError::Refused(e)) => ErrorCode::of(&e),
            Err(e) => panic!("{e}"),
        };
        assert_eq!(code(&who("a", Role::MunicipalStaff, Some("GM0392"))), None);
        assert_eq!(
            code(&who("a", Role::MunicipalStaff, Some("GM0453"))),
            Some(ErrorCode::NotFound)
        );
        assert_eq!(
            code(&who("a", Role::PrivacyOfficer, None)),
            Some(ErrorCode::Forbidden)
        );
        assert_eq!(
            code(&who("a", Role::Administrator, None)),
            Some(ErrorCode::Forbidden)
        );
    }

    #[test]
    fn a_case_closed_as_moved_out_or_cancelled_is_no_longer_its_municipality_s() {
        let haarlem = Gemeentecode::parse("GM0392").unwrap();
        let anna = who("anna", Role::MunicipalStaff, Some("GM0392"));
        let rita = who("rita", Role::RcnCoordinator, None);
        let paul = who("paul", Role::Procesregisseur, None);
        for reason in [CloseReason::MovedOutOfRegion, CloseReason::Cancelled] {
            assert!(!may_see_case(&anna, &haarlem, Some(reason)), "{reason:?}");
            assert!(may_see_case(&rita, &haarlem, Some(reason)), "{reason:?}");
            assert!(may_see_case(&paul, &haarlem, Some(reason)), "{reason:?}");
            assert!(matches!(
                FieldPolicy::for_case(&anna, &haarlem, Some(reason)),
                Err(crate::error::CaseworkError::Refused(e)) if ErrorCode::of(&e) == Some(ErrorCode::NotFound)
            ));
        }
        for reason in [
            None,
            Some(CloseReason::Completed),
            Some(CloseReason::Deceased),
            Some(CloseReason::Duplicate),
            Some(CloseReason::Other),
        ] {
            assert!(may_see_case(&anna, &haarlem, reason), "{reason:?}");
        }
    }

    #[test]
    fn the_log_says_which_guarded_fields_were_shown() {
        let haarlem = Gemeentecode::parse("GM0392").unwrap();
        let bert = who("bert", Role::MunicipalStaff, Some("GM0392"));
        let p = FieldPolicy::rule(&bert, &haarlem);
        assert_eq!(
            p.case_detail_read(Some("anna")).to_log(),
            "case_detail (bsn: true, risk_flags: false, care_note: false)"
        );
        assert_eq!(
            p.task_history_read(Condition::Care, Some("anna")).to_log(),
            "task_history (condition: care, notes: false)"
        );
        let (bsn, masked) = p.bsn("123456782");
        assert_eq!((bsn.as_str(), masked), ("123456782", false));
        assert_eq!(p.bsn_in_list("123456782"), "*****6782");
    }
}
