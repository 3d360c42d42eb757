//! Suggestions to escalate a case, raised by rule from what casework told procesregie: any risk
//! flag; several conditions still open close to the release; overdue conditions on a spoed case.
//! Each rule's thresholds are region settings; a suggestion records the rule and what it looked
//! at, fires at most once per case and rule, and never escalates by itself: a person accepts it
//! (it becomes a draft application) or dismisses it with a reason.

use chrono::{DateTime, NaiveDate, Utc};
use rcn_contracts::envelope::ApiProblem;
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::notice::Problem;
use rcn_contracts::procesregie_api::{
    ApplicationStatus, ApplicationView, IcoSummary, MAX_TEXT, SuggestionDismiss, SuggestionList,
    SuggestionQuery, SuggestionRule, SuggestionStatus, SuggestionView,
};
use rcn_contracts::{Gemeentecode, RiskFlag};
use serde_json::json;
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

use crate::Procesregie;
use crate::access::{self, Read, db, not_found};
use crate::settings::SuggestionRules;

/// A rule that fired, with its inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Fired {
    pub rule: SuggestionRule,
    pub inputs: serde_json::Value,
}

/// The rules, as a pure function of a case's facts at `today` (Amsterdam).
pub fn rules_fired(
    rules: &SuggestionRules,
    today: NaiveDate,
    spoed: bool,
    release: Option<NaiveDate>,
    risk_flags: &[RiskFlag],
    open_conditions: &[String],
    overdue_conditions: &[String],
) -> Vec<Fired> {
    let mut out = Vec::new();
    if rules.risk_flags && !risk_flags.is_empty() {
        out.push(Fired {
            rule: SuggestionRule::RiskFlag,
            inputs: json!({ "risk_flags": risk_flags }),
        });
    }
    if let Some(release) = release {
        let days = (release - today).num_days();
        if rules.open_conditions > 0
            && (0..=i64::from(rules.open_conditions_days)).contains(&days)
            && open_conditions.len() >= rules.open_conditions as usize
        {
            out.push(Fired {
                rule: SuggestionRule::OpenConditionsNearRelease,
                inputs: json!({
                    "open_conditions": open_conditions,
                    "threshold": rules.open_conditions,
                    "expected_release_on": release,
                    "days_to_release": days,
                    "within_days": rules.open_conditions_days,
                    "evaluated_on": today,
                }),
            });
        }
    }
    if rules.spoed_overdue > 0 && spoed && overdue_conditions.len() >= rules.spoed_overdue as usize
    {
        out.push(Fired {
            rule: SuggestionRule::SpoedOverdue,
            inputs: json!({
                "overdue_conditions": overdue_conditions,
                "threshold": rules.spoed_overdue,
                "spoed": true,
                "evaluated_on": today,
            }),
        });
    }
    out
}

impl Procesregie {
    /// Applies the rules to `case_id` as it stands in this transaction, at `at`; records each
    /// rule that fires for the first time.
    pub async fn evaluate(
        &self,
        tx: &mut PgConnection,
        case_id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        // What the rules look at for one case.
        let Some(facts) = sqlx::query!(
            r#"SELECT gemeentecode, expected_release_on, spoed, open,
                 risk_flags AS "risk_flags: Json<Vec<RiskFlag>>"
               FROM watched_cases WHERE case_id = $1"#,
            case_id
        )
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(());
        };
        if !facts.open {
            return Ok(());
        }
        let open: Vec<String> = sqlx::query_scalar!(
            "SELECT condition FROM watched_conditions
             WHERE case_id = $1 AND status NOT IN ('arranged', 'not_applicable') ORDER BY condition",
            case_id
        )
        .fetch_all(&mut *tx)
        .await?;
        let overdue: Vec<String> = sqlx::query_scalar!(
            "SELECT DISTINCT o.condition FROM overdue_conditions o
             LEFT JOIN watched_conditions w ON w.case_id = o.case_id AND w.condition = o.condition
             WHERE o.case_id = $1 AND coalesce(w.status NOT IN ('arranged', 'not_applicable'), true)
             ORDER BY o.condition",
            case_id
        )
        .fetch_all(&mut *tx)
        .await?;
        let today = at.with_timezone(&chrono_tz::Europe::Amsterdam).date_naive();
        for fired in rules_fired(
            &self.settings.rules,
            today,
            facts.spoed,
            facts.expected_release_on,
            &facts.risk_flags.0,
            &open,
            &overdue,
        ) {
            let raised = sqlx::query!(
                "INSERT INTO suggestions (suggestion_id, case_id, gemeentecode, rule, inputs, raised_at)
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (case_id, rule) DO NOTHING",
                Uuid::now_v7(),
                case_id,
                &facts.gemeentecode,
                fired.rule as SuggestionRule,
                &fired.inputs,
                at,
            )
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if raised == 1 {
                tracing::info!(%case_id, rule = fired.rule.as_str(), "escalation suggested");
            }
        }
        Ok(())
    }

    pub async fn list_suggestions(
        &self,
        who: &Identity,
        q: &SuggestionQuery,
    ) -> Result<SuggestionList, ApiProblem> {
        let why = access::read_why(q.why.as_deref())?;
        let mut tx = self.pool.begin().await.map_err(db)?;
        let status = q.status.unwrap_or(SuggestionStatus::Open);
        let rows: Vec<SuggestionRow> = select_suggestions!(
            "WHERE status = $1 AND ($2::uuid IS NULL OR case_id = $2)
               AND ($3 OR (gemeentecode = $4 AND NOT EXISTS (
                   SELECT 1 FROM watched_cases w WHERE w.case_id = suggestions.case_id
                      AND w.closed_reason IN ('moved_out_of_region', 'cancelled'))))
             ORDER BY raised_at DESC LIMIT 500",
            status as SuggestionStatus,
            q.case_id,
            access::sees_region(who),
            who.gemeentecode.as_ref().map(|g| g.as_str()),
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let mut case_ids: Vec<Uuid> = rows.iter().map(|r| r.case_id).collect();
        if let Some(c) = q.case_id {
            case_ids.push(c);
        }
        case_ids.sort();
        case_ids.dedup();
        // The ICOs of cases the caller may see (a case id of another municipality finds none).
        let icos: Vec<IcoSummary> = crate::ico::of_cases(&mut tx, &case_ids)
            .await?
            .into_iter()
            .filter(|i| {
                access::sees_region(who) || i.gemeentecode.as_ref() == who.gemeentecode.as_ref()
            })
            .collect();
        let reads: Vec<Read> = rows
            .iter()
            .map(|r| Read {
                case_id: Some(r.case_id),
                ..Read::default()
            })
            .collect();
        let what =
            rcn_contracts::access_log::What::new(rcn_contracts::access_log::Read::SuggestionList);
        access::log_reads_why(&mut tx, who, &what.to_log(), &reads, why).await?;
        // The ICO summaries shown beside them (the case page's: the person's family name, the
        // procesregisseur, the next review) are reads of that person too, logged as a list of
        // ICOs is, in one statement.
        let shown: Vec<Read> = icos
            .iter()
            .map(|i| Read {
                application_id: Some(i.application_id),
                ico_id: Some(i.ico_id),
                case_id: None,
            })
            .collect();
        let what = rcn_contracts::access_log::What::new(rcn_contracts::access_log::Read::IcoList);
        access::log_reads_why(&mut tx, who, &what.to_log(), &shown, why).await?;
        tx.commit().await.map_err(db)?;
        Ok(SuggestionList {
            suggestions: rows.iter().map(|r| r.view(who)).collect(),
            icos,
        })
    }

    /// A person accepts a suggestion: it becomes a draft application from the case, to complete
    /// and submit.
    pub async fn accept_suggestion(
        &self,
        who: &Identity,
        suggestion_id: Uuid,
    ) -> Result<ApplicationView, ApiProblem> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let row = self
            .suggestion_to_decide(&mut tx, who, suggestion_id)
            .await?;
        let rule = row.rule;
        let application_id = Uuid::now_v7();
        let now = Utc::now();
        sqlx::query!(
            "INSERT INTO applications (application_id, status, case_id, suggestion_id, person_key,
                 gemeentecode, applicant_id, applicant_role, applicant_gemeentecode, reason, created_at, updated_at)
             SELECT $1, $9, $2, $3, w.person_key, w.gemeentecode, $4, $5, $6, $7, $8, $8
             FROM watched_cases w WHERE w.case_id = $2",
            application_id,
            row.case_id,
            suggestion_id,
            &who.user_id,
            who.role as Role,
            who.gemeentecode.as_ref().map(|g| g.as_str()),
            format!("Voorgesteld door de regel: {}.", rule.dutch()),
            now,
            ApplicationStatus::Draft as ApplicationStatus,
        )
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query!(
            "UPDATE suggestions SET status = $5, decided_by = $2, decided_at = $3, application_id = $4
             WHERE suggestion_id = $1",
            suggestion_id,
            &who.user_id,
            now,
            application_id,
            SuggestionStatus::Accepted as SuggestionStatus,
        )
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        let view = self
            .read_application(
                &mut tx,
                who,
                application_id,
                rcn_contracts::access_log::Read::SuggestionAccept,
                None,
            )
            .await?;
        tx.commit().await.map_err(db)?;
        Ok(view)
    }

    pub async fn dismiss_suggestion(
        &self,
        who: &Identity,
        d: &SuggestionDismiss,
    ) -> Result<SuggestionView, ApiProblem> {
        let reason = d.reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_TEXT {
            return Err(ApiProblem::invalid(vec![Problem::new(
                "reason",
                format!(
                    "give the reason for dismissing the suggestion (1 to {MAX_TEXT} characters)"
                ),
            )]));
        }
        let mut tx = self.pool.begin().await.map_err(db)?;
        self.suggestion_to_decide(&mut tx, who, d.suggestion_id)
            .await?;
        let row = sqlx::query_as!(
            SuggestionRow,
            r#"UPDATE suggestions SET status = $4, decided_by = $2, decided_at = now(), dismiss_reason = $3
               WHERE suggestion_id = $1
               RETURNING suggestion_id, case_id, gemeentecode, rule AS "rule: SuggestionRule",
                 inputs, raised_at, status AS "status: SuggestionStatus", decided_by, decided_at,
                 dismiss_reason, application_id"#,
            d.suggestion_id,
            &who.user_id,
            reason,
            SuggestionStatus::Dismissed as SuggestionStatus,
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(row.view(who))
    }

    /// The suggestion, locked, when `who` may decide it (the municipality's staff, the RCN or a
    /// procesregisseur) and nobody has yet.
    async fn suggestion_to_decide(
        &self,
        tx: &mut PgConnection,
        who: &Identity,
        suggestion_id: Uuid,
    ) -> Result<SuggestionRow, ApiProblem> {
        let row = select_suggestions!("WHERE suggestion_id = $1 FOR UPDATE", suggestion_id,)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?
            .filter(|r: &SuggestionRow| access::may_see(who, Some(&r.gemeentecode), None))
            .ok_or_else(|| not_found("suggestion"))?;
        if !access::sees_region(who) && municipality_released(tx, row.case_id).await.map_err(db)? {
            return Err(not_found("suggestion"));
        }
        if row.status != SuggestionStatus::Open {
            return Err(ApiProblem::conflict(format!(
                "this suggestion was already {} by {}",
                row.status.as_str(),
                row.decided_by.as_deref().unwrap_or("someone")
            )));
        }
        Ok(row)
    }
}

/// Whether casework closed the case because its municipality is no longer responsible (moved out
/// of the region, cancelled by the institution): as in casework's need to know, the
/// municipality's staff then no longer see the case, nor what procesregie raised about it; the
/// RCN and procesregie still do until retention removes it.
async fn municipality_released(tx: &mut PgConnection, case_id: Uuid) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query_scalar!(
        "SELECT 1 FROM watched_cases
          WHERE case_id = $1 AND closed_reason IN ('moved_out_of_region', 'cancelled')",
        case_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .is_some())
}

/// `sqlx::query_as!(SuggestionRow, …)` with every column of [`SuggestionRow`] from
/// `suggestions`; `$rest` (a string literal) continues after `FROM suggestions`. One column list
/// for every reader, still checked by the compiler.
macro_rules! select_suggestions {
    ($rest:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            SuggestionRow,
            r#"SELECT suggestion_id, case_id, gemeentecode, rule AS "rule: SuggestionRule", inputs,
                 raised_at, status AS "status: SuggestionStatus", decided_by, decided_at,
                 dismiss_reason, application_id
               FROM suggestions "# + $rest $(, $arg)*
        )
    };
}
use select_suggestions;

#[derive(Debug)]
struct SuggestionRow {
    suggestion_id: Uuid,
    case_id: Uuid,
    gemeentecode: String,
    rule: SuggestionRule,
    inputs: serde_json::Value,
    raised_at: DateTime<Utc>,
    status: SuggestionStatus,
    decided_by: Option<String>,
    decided_at: Option<DateTime<Utc>>,
    dismiss_reason: Option<String>,
    application_id: Option<Uuid>,
}

impl SuggestionRow {
    fn view(&self, who: &Identity) -> SuggestionView {
        let rule = self.rule;
        // Risk-flag details only as the need-to-know rule allows (procesregie and RCN roles).
        let policy = crate::visibility::FieldPolicy::new(who, Some(&self.gemeentecode), None);
        let inputs =
            (rule != SuggestionRule::RiskFlag || policy.risk_flags()).then(|| self.inputs.clone());
        SuggestionView {
            suggestion_id: self.suggestion_id,
            case_id: self.case_id,
            gemeentecode: Gemeentecode::parse(&self.gemeentecode)
                .unwrap_or_else(|_| Gemeentecode::parse("GM0000").expect("a placeholder code")),
            rule,
            rule_text: rule.dutch().to_owned(),
            inputs,
            raised_at: self.raised_at,
            status: self.status,
            decided_by: self.decided_by.clone(),
            decided_at: self.decided_at,
            dismiss_reason: self.dismiss_reason.clone(),
            application_id: self.application_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn conds(n: usize) -> Vec<String> {
        ["id", "housing", "income", "debts", "care"][..n]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    fn fired(
        spoed: bool,
        release: Option<&str>,
        flags: &[RiskFlag],
        open: usize,
        overdue: usize,
    ) -> Vec<SuggestionRule> {
        rules_fired(
            &SuggestionRules::default(),
            day("2026-11-23"),
            spoed,
            release.map(day),
            flags,
            &conds(open),
            &conds(overdue),
        )
        .into_iter()
        .map(|f| f.rule)
        .collect()
    }

    #[test]
    fn each_rule_fires_at_its_threshold_and_not_just_below() {
        assert_eq!(
            fired(false, None, &[RiskFlag::TBS], 0, 0),
            [SuggestionRule::RiskFlag]
        );
        assert!(fired(false, None, &[], 5, 0).is_empty(), "no release date");
        // Three open, release in 14 days: fires; two open, or 15 days: not.
        assert_eq!(
            fired(false, Some("2026-12-07"), &[], 3, 0),
            [SuggestionRule::OpenConditionsNearRelease]
        );
        assert!(fired(false, Some("2026-12-07"), &[], 2, 0).is_empty());
        assert!(fired(false, Some("2026-12-08"), &[], 5, 0).is_empty());
        assert!(
            fired(false, Some("2026-11-22"), &[], 5, 0).is_empty(),
            "released"
        );
        // One overdue condition on a spoed case: fires; not spoed, or none overdue: not.
        assert_eq!(fired(true, None, &[], 0, 1), [SuggestionRule::SpoedOverdue]);
        assert!(fired(false, None, &[], 0, 1).is_empty());
        assert!(fired(true, None, &[], 0, 0).is_empty());
    }

    #[test]
    fn a_threshold_of_zero_turns_a_rule_off() {
        let off = SuggestionRules {
            risk_flags: false,
            open_conditions: 0,
            open_conditions_days: 14,
            spoed_overdue: 0,
        };
        assert!(
            rules_fired(
                &off,
                day("2026-11-23"),
                true,
                Some(day("2026-11-24")),
                &[RiskFlag::TBS],
                &conds(5),
                &conds(5)
            )
            .is_empty()
        );
    }
}
