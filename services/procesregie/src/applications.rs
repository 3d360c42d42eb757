//! Applications (aanmeldingen) for an ICO, from a casework case or for a person not in casework:
//! the form, the completeness gate (an incomplete application is kept as a draft that says what
//! is missing), submission onto the agenda of the triage meeting the cut-off decides, and the
//! application as its readers see it, with the person's earlier referrals.
//!
//! An application never changes once submitted; only the triage's outcome is added to it.

use chrono::{DateTime, NaiveDate, Utc};
use rcn_contracts::envelope::ApiProblem;
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::notice::Problem;
use rcn_contracts::procesregie_api::{
    ApplicationForm, ApplicationList, ApplicationQuery, ApplicationRef, ApplicationStatus,
    ApplicationSummary, ApplicationView, Criteria, EarlierReferral, IcoStatus, MAX_SHORT, MAX_TEXT,
    Missing, OutcomeView, Partner, PersonView, TriageOutcome,
};
use rcn_contracts::procesregie_events::{ApplicationSubmitted, ProcesregieEvent};
use rcn_contracts::{Gemeentecode, SCHEMA_VERSION};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

use crate::Procesregie;
use crate::access::{self, Read, db, not_found};
use crate::visibility::FieldPolicy;
use rcn_contracts::access_log::{Read as AccessRead, What};
use rcn_runtime::trace_context::TraceContext;

/// A person not in casework, as kept: no BSN, only its masked form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPerson {
    pub family_name: String,
    pub given_names: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    pub bsn_masked: Option<String>,
}

/// An application as stored.
#[derive(Debug, Clone)]
pub struct ApplicationRow {
    pub application_id: Uuid,
    pub status: ApplicationStatus,
    pub case_id: Option<Uuid>,
    pub suggestion_id: Option<Uuid>,
    pub person_key: Option<String>,
    pub person: Option<Json<StoredPerson>>,
    pub gemeentecode: Option<String>,
    pub applicant_id: String,
    pub reason: Option<String>,
    pub goal: Option<String>,
    pub criteria: Json<Criteria>,
    pub partners: Json<Vec<Partner>>,
    pub informed: Option<bool>,
    pub not_informed_why: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub triage_on: Option<NaiveDate>,
    pub outcome: Option<TriageOutcome>,
    pub outcome_reason: Option<String>,
    pub advice: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub ico_id: Option<Uuid>,
}

// Short names for the macro's type overrides (a column alias holds at most 63 bytes), which
// resolve where the macro is used.
pub type Status = ApplicationStatus;
pub type Outcome = TriageOutcome;
pub type PersonJson = Json<StoredPerson>;
pub type CriteriaJson = Json<Criteria>;
pub type PartnersJson = Json<Vec<Partner>>;

/// `sqlx::query_as!(ApplicationRow, …)` over `applications a` with every column of
/// [`ApplicationRow`]; `$rest` (a string literal) continues after `FROM applications a`. One
/// column list for every reader, still checked by the compiler.
macro_rules! select_applications {
    ($rest:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            $crate::applications::ApplicationRow,
            r#"SELECT a.application_id, a.status AS "status: crate::applications::Status", a.case_id,
                 a.suggestion_id, a.person_key, a.person AS "person: crate::applications::PersonJson",
                 a.gemeentecode, a.applicant_id, a.reason, a.goal,
                 a.criteria AS "criteria: crate::applications::CriteriaJson",
                 a.partners AS "partners: crate::applications::PartnersJson", a.informed, a.not_informed_why,
                 a.created_at, a.updated_at, a.submitted_at, a.triage_on,
                 a.outcome AS "outcome: crate::applications::Outcome", a.outcome_reason, a.advice, a.decided_by,
                 a.decided_at,
                 (SELECT i.ico_id FROM icos i WHERE i.application_id = a.application_id) AS ico_id
               FROM applications a "# + $rest $(, $arg)*
        )
    };
}
pub(crate) use select_applications;

impl ApplicationRow {
    /// The need-to-know rule for `who` reading this application.
    pub fn policy<'a>(&'a self, who: &'a Identity) -> FieldPolicy<'a> {
        FieldPolicy::new(
            who,
            self.gemeentecode.as_deref(),
            Some(self.applicant_id.as_str()),
        )
    }

    pub fn visible_to(&self, who: &Identity) -> bool {
        self.policy(who).record()
    }

    fn form(&self) -> ApplicationForm {
        ApplicationForm {
            application_id: Some(self.application_id),
            case_id: self.case_id,
            person: None,
            gemeentecode: self
                .gemeentecode
                .as_deref()
                .and_then(|g| Gemeentecode::parse(g).ok()),
            reason: self.reason.clone(),
            goal: self.goal.clone(),
            criteria: self.criteria.0.clone(),
            partners: self.partners.0.clone(),
            informed: self.informed,
            not_informed_why: self.not_informed_why.clone(),
            submit: false,
        }
    }

    pub fn missing(&self) -> Vec<Missing> {
        missing(
            &self.form(),
            self.case_id.is_some() || self.person.is_some(),
        )
    }

    pub fn summary(&self) -> ApplicationSummary {
        ApplicationSummary {
            application_id: self.application_id,
            status: self.status,
            case_id: self.case_id,
            gemeentecode: self
                .gemeentecode
                .as_deref()
                .and_then(|g| Gemeentecode::parse(g).ok()),
            applicant: self.applicant_id.clone(),
            family_name: self.person.as_ref().map(|p| p.0.family_name.clone()),
            submitted_at: self.submitted_at,
            triage_on: self.triage_on,
            outcome: self.outcome,
            missing: self.missing().len() as u32,
            updated_at: self.updated_at,
        }
    }

    pub(crate) fn view(&self, who: &Identity, earlier: Vec<EarlierReferral>) -> ApplicationView {
        let policy = self.policy(who);
        let outcome = match (self.outcome, &self.decided_by, self.decided_at) {
            (Some(outcome), Some(by), Some(at)) => Some(OutcomeView {
                outcome,
                reason: self.outcome_reason.clone().unwrap_or_default(),
                advice: self.advice.clone(),
                decided_by: by.clone(),
                decided_at: at,
                ico_id: self.ico_id,
            }),
            _ => None,
        };
        let form = self.form();
        ApplicationView {
            application_id: self.application_id,
            status: self.status,
            case_id: self.case_id,
            suggestion_id: self.suggestion_id,
            gemeentecode: form.gemeentecode,
            applicant: self.applicant_id.clone(),
            person: self.person.as_ref().map(|p| PersonView {
                family_name: p.0.family_name.clone(),
                given_names: p.0.given_names.clone(),
                date_of_birth: p.0.date_of_birth,
                bsn_masked: p.0.bsn_masked.clone(),
            }),
            reason: form.reason,
            goal: form.goal,
            criteria: form.criteria,
            partners: policy.partners(&form.partners),
            partner_contacts_withheld: !policy.partner_contacts(),
            informed: form.informed,
            not_informed_why: form.not_informed_why,
            missing: self.missing(),
            submitted_at: self.submitted_at,
            triage_on: self.triage_on,
            outcome,
            earlier,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

fn blank(s: &Option<String>) -> bool {
    s.as_deref().is_none_or(|s| s.trim().is_empty())
}

fn need(out: &mut Vec<Missing>, field: impl Into<String>, message: &str) {
    out.push(Missing {
        field: field.into(),
        message: message.into(),
    });
}

/// What an application still lacks before it can be submitted, in Dutch for the form. `person`:
/// whether it names a case or a person.
pub fn missing(form: &ApplicationForm, person: bool) -> Vec<Missing> {
    let mut out = Vec::new();
    if !person {
        need(
            &mut out,
            "person",
            "Kies de casus of vul de gegevens van de persoon in.",
        );
    }
    if form.gemeentecode.is_none() {
        need(&mut out, "gemeentecode", "Kies de gemeente van de persoon.");
    }
    if blank(&form.reason) {
        need(&mut out, "reason", "Geef de reden van de aanmelding.");
    }
    if blank(&form.goal) {
        need(&mut out, "goal", "Beschrijf het doel van de aanmelding.");
    }
    let c = &form.criteria;
    if !c.a.met {
        need(
            &mut out,
            "criteria.a",
            "Criterium A moet van toepassing zijn: problemen op meer dan één leefgebied die leiden tot criminaliteit, overlast of verloedering.",
        );
    }
    if !c.b.met {
        need(
            &mut out,
            "criteria.b",
            "Criterium B moet van toepassing zijn: meer dan één keten is nodig, ten minste zorg en veiligheid.",
        );
    }
    if !c.c.met && !c.d.met {
        need(
            &mut out,
            "criteria",
            "Criterium C (gevolgen voor gezin of sociaal systeem) of D (ernstig lokaal veiligheidsprobleem) moet van toepassing zijn.",
        );
    }
    for (name, criterion) in [("a", &c.a), ("b", &c.b), ("c", &c.c), ("d", &c.d)] {
        if criterion.met && blank(&criterion.explanation) {
            need(
                &mut out,
                format!("criteria.{name}.explanation"),
                &format!("Licht criterium {} toe.", name.to_uppercase()),
            );
        }
    }
    if form.partners.is_empty() {
        need(
            &mut out,
            "partners",
            "Noem ten minste één betrokken partner.",
        );
    }
    for (i, p) in form.partners.iter().enumerate() {
        for (field, value, message) in [
            ("organisation", &p.organisation, "Vul de organisatie in."),
            ("contact", &p.contact, "Vul de contactpersoon in."),
            ("phone", &p.phone, "Vul het telefoonnummer in."),
            ("email", &p.email, "Vul het e-mailadres in."),
        ] {
            if value.trim().is_empty() {
                need(&mut out, format!("partners[{i}].{field}"), message);
            }
        }
    }
    match form.informed {
        None => need(
            &mut out,
            "informed",
            "Geef aan of de persoon over de aanmelding wordt geïnformeerd.",
        ),
        Some(false) if blank(&form.not_informed_why) => need(
            &mut out,
            "not_informed_why",
            "Geef aan waarom de persoon niet wordt geïnformeerd.",
        ),
        _ => {}
    }
    out
}

/// What is wrong with partner `i` whatever the state of the form: a field longer than the
/// contract allows, or an e-mail address that is not one. Shared by the application and the ICO.
pub fn partner_problems(i: usize, p: &Partner) -> Vec<Problem> {
    let mut out = Vec::new();
    for (field, value) in [
        ("organisation", &p.organisation),
        ("contact", &p.contact),
        ("phone", &p.phone),
        ("email", &p.email),
    ] {
        if value.chars().count() > MAX_SHORT {
            out.push(Problem::new(
                format!("partners[{i}].{field}"),
                format!("at most {MAX_SHORT} characters"),
            ));
        }
    }
    let e = p.email.trim();
    let plausible = e.contains('@') && !e.starts_with('@') && !e.ends_with('@');
    if !e.is_empty() && !plausible {
        out.push(Problem::new(
            format!("partners[{i}].email"),
            "not an e-mail address",
        ));
    }
    out
}

/// Text that is too long, or an e-mail address that is not one: the request is wrong, not
/// incomplete, and changes nothing.
pub fn problems(form: &ApplicationForm) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut long = |path: String, value: Option<&str>, max: usize| {
        if value.is_some_and(|v| v.chars().count() > max) {
            out.push(Problem::new(path, format!("at most {max} characters")));
        }
    };
    long("reason".into(), form.reason.as_deref(), MAX_TEXT);
    long("goal".into(), form.goal.as_deref(), MAX_TEXT);
    long(
        "not_informed_why".into(),
        form.not_informed_why.as_deref(),
        MAX_TEXT,
    );
    let c = &form.criteria;
    for (name, criterion) in [("a", &c.a), ("b", &c.b), ("c", &c.c), ("d", &c.d)] {
        long(
            format!("criteria.{name}.explanation"),
            criterion.explanation.as_deref(),
            MAX_TEXT,
        );
    }
    if let Some(p) = &form.person {
        long("person.family_name".into(), Some(&p.family_name), MAX_SHORT);
        long(
            "person.given_names".into(),
            p.given_names.as_deref(),
            MAX_SHORT,
        );
    }
    for (i, p) in form.partners.iter().enumerate() {
        out.extend(partner_problems(i, p));
    }
    if form.case_id.is_some() && form.person.is_some() {
        out.push(Problem::new(
            "person",
            "an application is about a case or about a person not in casework, not both; leave person out when you give case_id",
        ));
    }
    if form
        .person
        .as_ref()
        .is_some_and(|p| p.family_name.trim().is_empty())
    {
        out.push(Problem::new("person.family_name", "must not be empty"));
    }
    out
}

impl Procesregie {
    /// Saves an application (new, or the next version of the caller's draft); submits it when
    /// asked and complete.
    pub async fn save_application(
        &self,
        who: &Identity,
        form: &ApplicationForm,
        trace: Option<&TraceContext>,
    ) -> Result<ApplicationView, ApiProblem> {
        let problems = problems(form);
        if !problems.is_empty() {
            return Err(ApiProblem::invalid(problems));
        }
        let now = Utc::now();
        let mut tx = self.pool.begin().await.map_err(db)?;
        let existing = match form.application_id {
            None => None,
            Some(id) => {
                let row = load(&mut tx, id, true).await?;
                let row = row
                    .filter(|r| r.visible_to(who))
                    .ok_or_else(|| not_found("application"))?;
                if row.status != ApplicationStatus::Draft {
                    return Err(ApiProblem::conflict(
                        "this application was submitted and can no longer change",
                    ));
                }
                Some(row)
            }
        };
        // A caller who may not see the draft's partner contacts (the RCN coordinator on someone
        // else's draft) was shown them blank: the stored partners stay rather than be blanked.
        let kept;
        let form = match &existing {
            Some(r) if !r.policy(who).partner_contacts() => {
                kept = ApplicationForm {
                    partners: r.partners.0.clone(),
                    ..form.clone()
                };
                &kept
            }
            _ => form,
        };
        // Whom it is about: the case (as CASES told us), or the person given.
        let (case_id, gemeentecode, person_key, person) = match (form.case_id, &form.person) {
            (Some(case_id), _) => {
                // The case an application from a case is about, as procesregie knows it from CASES.
                let case = sqlx::query!(
                    "SELECT gemeentecode, person_key FROM watched_cases WHERE case_id = $1",
                    case_id
                )
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?
                .filter(|c| access::may_see(who, Some(&c.gemeentecode), None))
                .ok_or_else(|| not_found("case"))?;
                (
                    Some(case_id),
                    Some(case.gemeentecode),
                    case.person_key,
                    None,
                )
            }
            (None, Some(p)) => {
                let key = match (&p.bsn, &self.pseudonyms) {
                    (Some(bsn), Some(k)) => Some(k.person_key(bsn)),
                    _ => None,
                };
                let stored = StoredPerson {
                    family_name: p.family_name.trim().to_owned(),
                    given_names: p.given_names.clone(),
                    date_of_birth: p.date_of_birth,
                    bsn_masked: p.bsn.as_ref().map(|b| b.masked()),
                };
                let gm = form.gemeentecode.as_ref().map(|g| g.as_str().to_owned());
                (None, gm, key, Some(stored))
            }
            // A draft keeps whom it was about when the next version leaves it out.
            (None, None) => match &existing {
                Some(r) => (
                    r.case_id,
                    r.gemeentecode.clone(),
                    r.person_key.clone(),
                    r.person.as_ref().map(|p| p.0.clone()),
                ),
                None => (
                    None,
                    form.gemeentecode.as_ref().map(|g| g.as_str().to_owned()),
                    None,
                    None,
                ),
            },
        };
        // Municipal staff apply for their own municipality's residents.
        if who.role == Role::MunicipalStaff
            && gemeentecode.is_some()
            && gemeentecode.as_deref() != who.gemeentecode.as_ref().map(|g| g.as_str())
        {
            return Err(ApiProblem::forbidden(
                "municipal staff apply only for residents of their own municipality",
            ));
        }
        let mut checked = form.clone();
        checked.gemeentecode = gemeentecode
            .as_deref()
            .and_then(|g| Gemeentecode::parse(g).ok());
        let missing = missing(&checked, case_id.is_some() || person.is_some());
        let submit = form.submit && missing.is_empty();
        let slot = submit.then(|| self.settings.triage.slot_for(now));
        let application_id = existing
            .as_ref()
            .map_or_else(Uuid::now_v7, |r| r.application_id);
        let suggestion_id = existing.as_ref().and_then(|r| r.suggestion_id);
        let status = if submit {
            ApplicationStatus::Submitted
        } else {
            ApplicationStatus::Draft
        };
        let applicant_id = existing
            .as_ref()
            .map_or(who.user_id.as_str(), |r| r.applicant_id.as_str());
        sqlx::query!(
            "INSERT INTO applications (application_id, status, case_id, suggestion_id, person_key, person,
                 gemeentecode, applicant_id, applicant_role, applicant_gemeentecode, reason, goal,
                 criteria, partners, informed, not_informed_why, created_at, updated_at,
                 submitted_at, triage_on)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17, $18, $19)
             ON CONFLICT (application_id) DO UPDATE SET status = EXCLUDED.status,
                 case_id = EXCLUDED.case_id, person_key = EXCLUDED.person_key, person = EXCLUDED.person,
                 gemeentecode = EXCLUDED.gemeentecode, reason = EXCLUDED.reason, goal = EXCLUDED.goal,
                 criteria = EXCLUDED.criteria, partners = EXCLUDED.partners, informed = EXCLUDED.informed,
                 not_informed_why = EXCLUDED.not_informed_why, updated_at = EXCLUDED.updated_at,
                 submitted_at = EXCLUDED.submitted_at, triage_on = EXCLUDED.triage_on",
            application_id,
            status as ApplicationStatus,
            case_id,
            suggestion_id,
            person_key.as_deref(),
            person.as_ref().map(Json) as Option<Json<&StoredPerson>>,
            gemeentecode.as_deref(),
            applicant_id,
            who.role as Role,
            who.gemeentecode.as_ref().map(|g| g.as_str()),
            form.reason.as_deref().map(str::trim),
            form.goal.as_deref().map(str::trim),
            Json(&form.criteria) as Json<&Criteria>,
            Json(&form.partners) as Json<&Vec<Partner>>,
            form.informed,
            form.not_informed_why.as_deref().map(str::trim),
            now,
            submit.then_some(now),
            slot.map(|s| s.meeting_on),
        )
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if let Some(slot) = slot {
            let from_rule = match suggestion_id {
                Some(id) => sqlx::query_scalar!(
                    r#"SELECT rule AS "rule: rcn_contracts::procesregie_api::SuggestionRule" FROM suggestions WHERE suggestion_id = $1"#,
                    id
                )
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?,
                None => None,
            };
            let event = ApplicationSubmitted {
                schema_version: SCHEMA_VERSION,
                event_id: Uuid::now_v7(),
                application_id,
                case_id,
                from_rule,
                gemeentecode: checked.gemeentecode.clone(),
                triage_on: slot.meeting_on,
                submitted_at: now,
            };
            self.announce(
                &mut tx,
                ProcesregieEvent::ApplicationSubmitted,
                event.event_id,
                &event,
                trace,
            )
            .await?;
            tracing::info!(%application_id, triage_on = %slot.meeting_on, "application submitted");
        }
        let view = self
            .read_application(
                &mut tx,
                who,
                application_id,
                AccessRead::ApplicationSave,
                None,
            )
            .await?;
        tx.commit().await.map_err(db)?;
        Ok(view)
    }

    /// The application as `who` may see it, with the person's earlier referrals; the read is
    /// logged as `read`, with what the need-to-know rule let it show and the reader's `why`.
    pub async fn read_application(
        &self,
        conn: &mut PgConnection,
        who: &Identity,
        application_id: Uuid,
        read: AccessRead,
        why: Option<&str>,
    ) -> Result<ApplicationView, ApiProblem> {
        let row = load(conn, application_id, false)
            .await?
            .filter(|r| r.visible_to(who))
            .ok_or_else(|| not_found("application"))?;
        let earlier = match &row.person_key {
            None => Vec::new(),
            Some(key) => earlier(conn, key, application_id).await?,
        };
        access::log_reads_why(
            conn,
            who,
            &row.policy(who).record_read(read).to_log(),
            &[Read {
                application_id: Some(application_id),
                case_id: row.case_id,
                ico_id: row.ico_id,
            }],
            why,
        )
        .await?;
        Ok(row.view(who, earlier))
    }

    pub async fn get_application(
        &self,
        who: &Identity,
        r: &ApplicationRef,
    ) -> Result<ApplicationView, ApiProblem> {
        let why = access::read_why(r.why.as_deref())?;
        let mut tx = self.pool.begin().await.map_err(db)?;
        let view = self
            .read_application(&mut tx, who, r.application_id, AccessRead::Application, why)
            .await?;
        tx.commit().await.map_err(db)?;
        Ok(view)
    }

    pub async fn list_applications(
        &self,
        who: &Identity,
        q: &ApplicationQuery,
    ) -> Result<ApplicationList, ApiProblem> {
        let why = access::read_why(q.why.as_deref())?;
        let mut tx = self.pool.begin().await.map_err(db)?;
        let rows: Vec<ApplicationRow> = select_applications!(
            "WHERE ($1::text IS NULL OR a.status = $1) AND ($2::uuid IS NULL OR a.case_id = $2)
               AND ($3 OR a.applicant_id = $4 OR a.gemeentecode = $5)
             ORDER BY a.updated_at DESC LIMIT 500",
            q.status as Option<ApplicationStatus>,
            q.case_id,
            access::sees_region(who),
            &who.user_id,
            who.gemeentecode.as_ref().map(|g| g.as_str()),
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let reads: Vec<Read> = rows
            .iter()
            .map(|r| Read {
                application_id: Some(r.application_id),
                case_id: r.case_id,
                ico_id: r.ico_id,
            })
            .collect();
        let what = What::new(AccessRead::ApplicationList).to_log();
        access::log_reads_why(&mut tx, who, &what, &reads, why).await?;
        tx.commit().await.map_err(db)?;
        Ok(ApplicationList {
            applications: rows.iter().map(ApplicationRow::summary).collect(),
        })
    }
}

/// One application, locked for update when `lock`.
pub async fn load(
    conn: &mut PgConnection,
    application_id: Uuid,
    lock: bool,
) -> Result<Option<ApplicationRow>, ApiProblem> {
    let row = if lock {
        select_applications!(
            "WHERE a.application_id = $1 FOR UPDATE OF a",
            application_id
        )
        .fetch_optional(&mut *conn)
        .await
    } else {
        select_applications!("WHERE a.application_id = $1", application_id)
            .fetch_optional(&mut *conn)
            .await
    };
    row.map_err(db)
}

/// The other applications about the person with pseudonym `person_key`, newest first.
async fn earlier(
    conn: &mut PgConnection,
    person_key: &str,
    except: Uuid,
) -> Result<Vec<EarlierReferral>, ApiProblem> {
    let rows = sqlx::query!(
        r#"SELECT a.application_id, a.status AS "status: ApplicationStatus", a.submitted_at,
             a.outcome AS "outcome: TriageOutcome", i.ico_id AS "ico_id?",
             i.status AS "ico_status?: IcoStatus"
         FROM applications a LEFT JOIN icos i ON i.application_id = a.application_id
         WHERE a.person_key = $1 AND a.application_id <> $2
         ORDER BY a.created_at DESC"#,
        person_key,
        except
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    Ok(rows
        .into_iter()
        .map(|r| EarlierReferral {
            application_id: r.application_id,
            status: r.status,
            submitted_at: r.submitted_at,
            outcome: r.outcome,
            ico_id: r.ico_id,
            ico_status: r.ico_status,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcn_contracts::procesregie_api::Criterion;

    fn yes(why: &str) -> Criterion {
        Criterion {
            met: true,
            explanation: Some(why.into()),
        }
    }

    pub fn complete() -> ApplicationForm {
        ApplicationForm {
            gemeentecode: Some(Gemeentecode::parse("GM0392").unwrap()),
            reason: Some("Woont op straat, schulden, dreigt terug te vallen".into()),
            goal: Some("Stabiele woonplek en begeleiding".into()),
            criteria: Criteria {
                a: yes("wonen, schulden, verslaving"),
                b: yes("zorg en veiligheid"),
                c: Criterion::default(),
                d: yes("overlast in de wijk"),
            },
            partners: vec![Partner {
                organisation: "Reclassering".into(),
                contact: "J. de Vries".into(),
                phone: "023-1234567".into(),
                email: "j.devries@example.nl".into(),
            }],
            informed: Some(true),
            ..Default::default()
        }
    }

    fn fields(form: &ApplicationForm) -> Vec<String> {
        missing(form, true).into_iter().map(|m| m.field).collect()
    }

    #[test]
    fn a_complete_application_lacks_nothing() {
        assert_eq!(fields(&complete()), Vec::<String>::new());
    }

    #[test]
    fn the_gate_says_what_is_missing_field_by_field() {
        assert_eq!(
            missing(&ApplicationForm::default(), false)
                .iter()
                .map(|m| m.field.as_str())
                .collect::<Vec<_>>(),
            [
                "person",
                "gemeentecode",
                "reason",
                "goal",
                "criteria.a",
                "criteria.b",
                "criteria",
                "partners",
                "informed"
            ]
        );
        let mut f = complete();
        f.criteria.d = Criterion::default();
        assert_eq!(fields(&f), ["criteria"], "C or D must apply");
        f.criteria.c = Criterion {
            met: true,
            explanation: Some("  ".into()),
        };
        assert_eq!(fields(&f), ["criteria.c.explanation"]);
        let mut f = complete();
        f.informed = Some(false);
        assert_eq!(fields(&f), ["not_informed_why"]);
        f.not_informed_why = Some("Gevaar voor de melder".into());
        assert!(fields(&f).is_empty());
        f.partners[0].phone = " ".into();
        assert_eq!(fields(&f), ["partners[0].phone"]);
        let m = missing(&f, true);
        assert_eq!(m[0].message, "Vul het telefoonnummer in.");
    }

    #[test]
    fn wrong_input_is_a_problem_not_a_gap() {
        let mut f = complete();
        f.reason = Some("x".repeat(MAX_TEXT + 1));
        f.partners[0].email = "geen-adres".into();
        let p: Vec<String> = problems(&f).into_iter().map(|p| p.path).collect();
        assert_eq!(p, ["reason", "partners[0].email"]);
    }
}
