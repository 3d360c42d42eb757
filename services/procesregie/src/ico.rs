//! The individueel casusoverleg (ICO): procesregisseur, casusregisseur, partners, goal, the plan
//! van aanpak (actions with owner organisation, description, due date, status and history),
//! reviews, and closure with a reason. Procesregisseurs change it; the RCN and the
//! municipality's staff read it.

use chrono::{DateTime, NaiveDate, Utc};
use rcn_contracts::envelope::ApiProblem;
use rcn_contracts::identity::Identity;
use rcn_contracts::notice::Problem;
use rcn_contracts::procesregie_api::{
    ActionChange, ActionRequest, ActionStatus, ActionView, Casusregisseur, CloseIcoRequest,
    IcoCloseReason, IcoList, IcoQuery, IcoRef, IcoStatus, IcoSummary, IcoUpdate, IcoView,
    MAX_SHORT, MAX_TEXT, Partner, PersonView, ReviewRequest, ReviewView,
};
use rcn_contracts::procesregie_events::{
    IcoActionChanged, IcoClosed, IcoReviewHeld, ProcesregieEvent,
};
use rcn_contracts::{Gemeentecode, SCHEMA_VERSION};
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

use crate::Procesregie;
use crate::access::{self, Read, db, not_found};
use crate::applications::{self, StoredPerson};
use crate::visibility::FieldPolicy;
use rcn_contracts::access_log::{Read as AccessRead, What};
use rcn_runtime::trace_context::TraceContext;

#[derive(Debug)]
struct IcoRow {
    ico_id: Uuid,
    application_id: Uuid,
    status: IcoStatus,
    procesregisseur: String,
    casusregisseur: Option<Json<Casusregisseur>>,
    partners: Json<Vec<Partner>>,
    goal: String,
    opened_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
    close_reason: Option<IcoCloseReason>,
    close_note: Option<String>,
    case_id: Option<Uuid>,
    gemeentecode: Option<String>,
    applicant_id: String,
    person: Option<Json<StoredPerson>>,
    next_review_on: Option<NaiveDate>,
    overdue_actions: i64,
}

/// `sqlx::query_as!(IcoRow, …)` over `icos i JOIN applications a` with every column of
/// [`IcoRow`]; `$rest` (a string literal) continues after the join. One column list for every
/// reader, still checked by the compiler.
macro_rules! select_icos {
    ($rest:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            IcoRow,
            r#"SELECT i.ico_id, i.application_id, i.status AS "status: IcoStatus",
                 i.procesregisseur, i.casusregisseur AS "casusregisseur: Json<Casusregisseur>",
                 i.partners AS "partners: Json<Vec<Partner>>", i.goal, i.opened_at, i.closed_at,
                 i.close_reason AS "close_reason: IcoCloseReason", i.close_note, a.case_id,
                 a.gemeentecode, a.applicant_id, a.person AS "person: Json<StoredPerson>",
                 (SELECT r.next_review_on FROM ico_reviews r WHERE r.ico_id = i.ico_id
                   ORDER BY r.held_on DESC, r.recorded_at DESC LIMIT 1) AS next_review_on,
                 (SELECT count(*) FROM ico_actions x WHERE x.ico_id = i.ico_id
                   AND x.status IN ('open', 'in_progress') AND x.due_on < current_date)
                   AS "overdue_actions!"
               FROM icos i JOIN applications a USING (application_id) "# + $rest $(, $arg)*
        )
    };
}

impl IcoRow {
    fn open(&self) -> bool {
        self.status == IcoStatus::Open
    }

    /// The need-to-know rule for `who` reading this ICO.
    fn policy<'a>(&'a self, who: &'a Identity) -> FieldPolicy<'a> {
        FieldPolicy::new(who, self.gemeentecode.as_deref(), Some(&self.applicant_id))
    }

    fn visible_to(&self, who: &Identity) -> bool {
        self.policy(who).record()
    }

    fn gemeentecode(&self) -> Option<Gemeentecode> {
        self.gemeentecode
            .as_deref()
            .and_then(|g| Gemeentecode::parse(g).ok())
    }

    fn summary(&self) -> IcoSummary {
        IcoSummary {
            ico_id: self.ico_id,
            application_id: self.application_id,
            gemeentecode: self.gemeentecode(),
            family_name: self.person.as_ref().map(|p| p.0.family_name.clone()),
            status: self.status,
            procesregisseur: self.procesregisseur.clone(),
            overdue_actions: self.overdue_actions as u32,
            next_review_on: self.next_review_on,
            opened_at: self.opened_at,
        }
    }
}

/// The ICOs of these cases (for the case page and the suggestion list).
pub async fn of_cases(
    conn: &mut PgConnection,
    case_ids: &[Uuid],
) -> Result<Vec<IcoSummary>, ApiProblem> {
    let rows: Vec<IcoRow> = select_icos!(
        "WHERE a.case_id = ANY($1) ORDER BY i.opened_at DESC",
        case_ids
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    Ok(rows.iter().map(IcoRow::summary).collect())
}

fn text_problems(out: &mut Vec<Problem>, path: &str, value: &str, max: usize) {
    if value.trim().is_empty() {
        out.push(Problem::new(path, "must not be empty"));
    } else if value.chars().count() > max {
        out.push(Problem::new(path, format!("at most {max} characters")));
    }
}

fn invalid_if_any(problems: Vec<Problem>) -> Result<(), ApiProblem> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ApiProblem::invalid(problems))
    }
}

impl Procesregie {
    async fn load_ico(
        &self,
        conn: &mut PgConnection,
        who: &Identity,
        ico_id: Uuid,
        lock: bool,
    ) -> Result<IcoRow, ApiProblem> {
        let row = if lock {
            select_icos!("WHERE i.ico_id = $1 FOR UPDATE OF i", ico_id)
                .fetch_optional(&mut *conn)
                .await
        } else {
            select_icos!("WHERE i.ico_id = $1", ico_id)
                .fetch_optional(&mut *conn)
                .await
        };
        row.map_err(db)?
            .filter(|r| r.visible_to(who))
            .ok_or_else(|| not_found("ICO"))
    }

    /// Loads the ICO to change it: a procesregisseur's, and still open.
    async fn ico_to_change(
        &self,
        conn: &mut PgConnection,
        who: &Identity,
        ico_id: Uuid,
    ) -> Result<IcoRow, ApiProblem> {
        access::require_regisseur(who)?;
        let row = self.load_ico(conn, who, ico_id, true).await?;
        if !row.open() {
            return Err(ApiProblem::conflict(
                "this ICO is closed; its plan can no longer change",
            ));
        }
        Ok(row)
    }

    async fn ico_view(
        &self,
        conn: &mut PgConnection,
        who: &Identity,
        ico_id: Uuid,
        read: AccessRead,
    ) -> Result<IcoView, ApiProblem> {
        let row = self.load_ico(conn, who, ico_id, false).await?;
        self.view_of(conn, who, row, read, None).await
    }

    /// The ICOs of these applications in full, oldest first, for the privacy officer's export
    /// (`privacy_export.rs`, which checked the role): each read logged as `read`.
    pub(crate) async fn icos_of_applications(
        &self,
        conn: &mut PgConnection,
        who: &Identity,
        application_ids: &[Uuid],
        read: AccessRead,
    ) -> Result<Vec<IcoView>, ApiProblem> {
        let rows: Vec<IcoRow> = select_icos!(
            "WHERE i.application_id = ANY($1) ORDER BY i.opened_at, i.ico_id",
            application_ids
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
        let mut views = Vec::with_capacity(rows.len());
        for row in rows {
            views.push(self.view_of(conn, who, row, read, None).await?);
        }
        Ok(views)
    }

    /// The ICO of `row` in full, its read logged as `read` with the reader's `why`; who may see
    /// it was decided before.
    async fn view_of(
        &self,
        conn: &mut PgConnection,
        who: &Identity,
        row: IcoRow,
        read: AccessRead,
        why: Option<&str>,
    ) -> Result<IcoView, ApiProblem> {
        let ico_id = row.ico_id;
        let policy = row.policy(who);
        let actions = sqlx::query!(
            r#"SELECT action_id, owner_organisation, description, due_on,
                 status AS "status: ActionStatus"
               FROM ico_actions WHERE ico_id = $1 ORDER BY created_at, action_id"#,
            ico_id
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
        let history = sqlx::query!(
            r#"SELECT h.action_id, h.at, h.by_user, h.owner_organisation, h.description, h.due_on,
                 h.status AS "status: ActionStatus"
               FROM ico_action_history h JOIN ico_actions x USING (action_id)
               WHERE x.ico_id = $1 ORDER BY h.id"#,
            ico_id
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
        let reviews = sqlx::query!(
            "SELECT review_id, held_on, notes, next_review_on, recorded_by FROM ico_reviews
             WHERE ico_id = $1 ORDER BY held_on, recorded_at",
            ico_id
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
        access::log_reads_why(
            conn,
            who,
            &policy.record_read(read).to_log(),
            &[Read {
                application_id: Some(row.application_id),
                ico_id: Some(ico_id),
                case_id: row.case_id,
            }],
            why,
        )
        .await?;
        Ok(IcoView {
            ico_id,
            application_id: row.application_id,
            case_id: row.case_id,
            gemeentecode: row.gemeentecode(),
            person: row.person.as_ref().map(|p| PersonView {
                family_name: p.0.family_name.clone(),
                given_names: p.0.given_names.clone(),
                date_of_birth: p.0.date_of_birth,
                bsn_masked: p.0.bsn_masked.clone(),
            }),
            status: row.status,
            procesregisseur: row.procesregisseur.clone(),
            casusregisseur: row
                .casusregisseur
                .as_ref()
                .map(|c| policy.casusregisseur(&c.0)),
            partners: policy.partners(&row.partners.0),
            partner_contacts_withheld: !policy.partner_contacts(),
            goal: row.goal.clone(),
            actions: actions
                .iter()
                .map(|a| ActionView {
                    action_id: a.action_id,
                    owner_organisation: a.owner_organisation.clone(),
                    description: a.description.clone(),
                    due_on: a.due_on,
                    status: a.status,
                    history: history
                        .iter()
                        .filter(|h| h.action_id == a.action_id)
                        .map(|h| ActionChange {
                            at: h.at,
                            by: h.by_user.clone(),
                            status: h.status,
                            due_on: h.due_on,
                            description: h.description.clone(),
                            owner_organisation: h.owner_organisation.clone(),
                        })
                        .collect(),
                })
                .collect(),
            reviews: reviews
                .into_iter()
                .map(|r| ReviewView {
                    review_id: r.review_id,
                    held_on: r.held_on,
                    notes: r.notes,
                    next_review_on: r.next_review_on,
                    recorded_by: r.recorded_by,
                })
                .collect(),
            next_review_on: row.next_review_on,
            opened_at: row.opened_at,
            closed_at: row.closed_at,
            close_reason: row.close_reason,
            close_note: row.close_note.clone(),
        })
    }

    pub async fn get_ico(&self, who: &Identity, r: &IcoRef) -> Result<IcoView, ApiProblem> {
        let why = access::read_why(r.why.as_deref())?;
        let mut tx = self.pool.begin().await.map_err(db)?;
        let row = self.load_ico(&mut tx, who, r.ico_id, false).await?;
        let view = self
            .view_of(&mut tx, who, row, AccessRead::Ico, why)
            .await?;
        tx.commit().await.map_err(db)?;
        Ok(view)
    }

    pub async fn list_icos(&self, who: &Identity, q: &IcoQuery) -> Result<IcoList, ApiProblem> {
        let why = access::read_why(q.why.as_deref())?;
        let mut tx = self.pool.begin().await.map_err(db)?;
        let rows: Vec<IcoRow> = select_icos!(
            "WHERE ($1::text IS NULL OR i.status = $1) AND (NOT $2 OR i.procesregisseur = $3)
               AND ($4 OR a.applicant_id = $3 OR a.gemeentecode = $5)
             ORDER BY i.opened_at DESC LIMIT 500",
            q.status as Option<IcoStatus>,
            q.mine,
            &who.user_id,
            access::sees_region(who),
            who.gemeentecode.as_ref().map(|g| g.as_str()),
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let reads: Vec<Read> = rows
            .iter()
            .map(|r| Read {
                application_id: Some(r.application_id),
                ico_id: Some(r.ico_id),
                case_id: r.case_id,
            })
            .collect();
        access::log_reads_why(
            &mut tx,
            who,
            &What::new(AccessRead::IcoList).to_log(),
            &reads,
            why,
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(IcoList {
            icos: rows.iter().map(IcoRow::summary).collect(),
        })
    }

    pub async fn update_ico(&self, who: &Identity, u: &IcoUpdate) -> Result<IcoView, ApiProblem> {
        let mut problems = Vec::new();
        if let Some(c) = &u.casusregisseur {
            text_problems(&mut problems, "casusregisseur.name", &c.name, MAX_SHORT);
            text_problems(
                &mut problems,
                "casusregisseur.organisation",
                &c.organisation,
                MAX_SHORT,
            );
        }
        if let Some(goal) = &u.goal {
            text_problems(&mut problems, "goal", goal, MAX_TEXT);
        }
        if let Some(partners) = &u.partners {
            if partners.is_empty() {
                problems.push(Problem::new(
                    "partners",
                    "an ICO has at least one partner; name one",
                ));
            }
            for (i, p) in partners.iter().enumerate() {
                if p.organisation.trim().is_empty() {
                    problems.push(Problem::new(
                        format!("partners[{i}].organisation"),
                        "must not be empty",
                    ));
                }
                problems.extend(applications::partner_problems(i, p));
            }
        }
        invalid_if_any(problems)?;
        let mut tx = self.pool.begin().await.map_err(db)?;
        self.ico_to_change(&mut tx, who, u.ico_id).await?;
        sqlx::query!(
            "UPDATE icos SET casusregisseur = coalesce($2, casusregisseur),
                 partners = coalesce($3, partners), goal = coalesce($4, goal)
             WHERE ico_id = $1",
            u.ico_id,
            u.casusregisseur.as_ref().map(Json) as Option<Json<&Casusregisseur>>,
            u.partners.as_ref().map(Json) as Option<Json<&Vec<Partner>>>,
            u.goal.as_deref().map(str::trim),
        )
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        let view = self
            .ico_view(&mut tx, who, u.ico_id, AccessRead::IcoUpdate)
            .await?;
        tx.commit().await.map_err(db)?;
        Ok(view)
    }

    /// Adds an action to the plan van aanpak, or changes one; every version goes into its
    /// history.
    pub async fn change_action(
        &self,
        who: &Identity,
        a: &ActionRequest,
        trace: Option<&TraceContext>,
    ) -> Result<IcoView, ApiProblem> {
        let mut problems = Vec::new();
        text_problems(
            &mut problems,
            "owner_organisation",
            &a.owner_organisation,
            MAX_SHORT,
        );
        text_problems(&mut problems, "description", &a.description, MAX_TEXT);
        invalid_if_any(problems)?;
        let now = Utc::now();
        let mut tx = self.pool.begin().await.map_err(db)?;
        self.ico_to_change(&mut tx, who, a.ico_id).await?;
        let (action_id, created) = match a.action_id {
            None => {
                let id = Uuid::now_v7();
                sqlx::query!(
                    "INSERT INTO ico_actions (action_id, ico_id, owner_organisation, description, due_on, status, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    id,
                    a.ico_id,
                    a.owner_organisation.trim(),
                    a.description.trim(),
                    a.due_on,
                    a.status as ActionStatus,
                    now,
                )
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                (id, true)
            }
            Some(id) => {
                let changed = sqlx::query!(
                    "UPDATE ico_actions SET owner_organisation = $3, description = $4, due_on = $5, status = $6
                     WHERE action_id = $1 AND ico_id = $2",
                    id,
                    a.ico_id,
                    a.owner_organisation.trim(),
                    a.description.trim(),
                    a.due_on,
                    a.status as ActionStatus,
                )
                .execute(&mut *tx)
                .await
                .map_err(db)?
                .rows_affected();
                if changed == 0 {
                    return Err(not_found("action in this ICO"));
                }
                (id, false)
            }
        };
        sqlx::query!(
            "INSERT INTO ico_action_history (action_id, at, by_user, owner_organisation, description, due_on, status)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            action_id,
            now,
            &who.user_id,
            a.owner_organisation.trim(),
            a.description.trim(),
            a.due_on,
            a.status as ActionStatus,
        )
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        let event = IcoActionChanged {
            schema_version: SCHEMA_VERSION,
            event_id: Uuid::now_v7(),
            ico_id: a.ico_id,
            action_id,
            created,
            owner_organisation: a.owner_organisation.trim().to_owned(),
            status: a.status,
            due_on: a.due_on,
            by: who.user_id.clone(),
            at: now,
        };
        self.announce(
            &mut tx,
            ProcesregieEvent::IcoActionChanged,
            event.event_id,
            &event,
            trace,
        )
        .await?;
        let view = self
            .ico_view(&mut tx, who, a.ico_id, AccessRead::IcoAction)
            .await?;
        tx.commit().await.map_err(db)?;
        Ok(view)
    }

    pub async fn hold_review(
        &self,
        who: &Identity,
        r: &ReviewRequest,
        trace: Option<&TraceContext>,
    ) -> Result<IcoView, ApiProblem> {
        let mut problems = Vec::new();
        text_problems(&mut problems, "notes", &r.notes, MAX_TEXT);
        if r.next_review_on.is_some_and(|next| next <= r.held_on) {
            problems.push(Problem::new(
                "next_review_on",
                "the next review comes after this one",
            ));
        }
        invalid_if_any(problems)?;
        let now = Utc::now();
        let mut tx = self.pool.begin().await.map_err(db)?;
        self.ico_to_change(&mut tx, who, r.ico_id).await?;
        let review_id = Uuid::now_v7();
        sqlx::query!(
            "INSERT INTO ico_reviews (review_id, ico_id, held_on, notes, next_review_on, recorded_by, recorded_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            review_id,
            r.ico_id,
            r.held_on,
            r.notes.trim(),
            r.next_review_on,
            &who.user_id,
            now,
        )
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        let event = IcoReviewHeld {
            schema_version: SCHEMA_VERSION,
            event_id: Uuid::now_v7(),
            ico_id: r.ico_id,
            review_id,
            held_on: r.held_on,
            next_review_on: r.next_review_on,
            at: now,
        };
        self.announce(
            &mut tx,
            ProcesregieEvent::IcoReviewHeld,
            event.event_id,
            &event,
            trace,
        )
        .await?;
        let view = self
            .ico_view(&mut tx, who, r.ico_id, AccessRead::IcoReview)
            .await?;
        tx.commit().await.map_err(db)?;
        Ok(view)
    }

    pub async fn close_ico(
        &self,
        who: &Identity,
        c: &CloseIcoRequest,
        trace: Option<&TraceContext>,
    ) -> Result<IcoView, ApiProblem> {
        if c.note
            .as_deref()
            .is_some_and(|n| n.chars().count() > MAX_TEXT)
        {
            return Err(ApiProblem::invalid(vec![Problem::new(
                "note",
                format!("at most {MAX_TEXT} characters"),
            )]));
        }
        let now = Utc::now();
        let mut tx = self.pool.begin().await.map_err(db)?;
        let row = self.ico_to_change(&mut tx, who, c.ico_id).await?;
        sqlx::query!(
            "UPDATE icos SET status = $6, closed_at = $2, close_reason = $3, close_note = $4, closed_by = $5
             WHERE ico_id = $1",
            c.ico_id,
            now,
            c.reason as IcoCloseReason,
            c.note.as_deref().map(str::trim),
            &who.user_id,
            IcoStatus::Closed as IcoStatus,
        )
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        let open_actions: i64 = sqlx::query_scalar!(
            r#"SELECT count(*) AS "count!" FROM ico_actions WHERE ico_id = $1 AND status IN ('open', 'in_progress')"#,
            c.ico_id
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        let event = IcoClosed {
            schema_version: SCHEMA_VERSION,
            event_id: Uuid::now_v7(),
            ico_id: c.ico_id,
            reason: c.reason,
            open_actions: open_actions as u32,
            opened_at: row.opened_at,
            closed_at: now,
        };
        self.announce(
            &mut tx,
            ProcesregieEvent::IcoClosed,
            event.event_id,
            &event,
            trace,
        )
        .await?;
        let view = self
            .ico_view(&mut tx, who, c.ico_id, AccessRead::IcoClose)
            .await?;
        tx.commit().await.map_err(db)?;
        tracing::info!(ico_id = %c.ico_id, reason = c.reason.as_str(), "ICO closed");
        Ok(view)
    }
}
