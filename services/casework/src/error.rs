//! Why a casework request failed: a rule the request breaks (answered as it is), or the database
//! (logged, and answered with a problem of a stable kind and a sentence that reveals nothing of
//! it).

use rcn_contracts::casework_api::{ErrorCode, HELD_BY};
use rcn_contracts::envelope::ApiProblem;

#[derive(Debug, thiserror::Error)]
pub enum CaseworkError {
    /// The request breaks a rule; the caller is told which, as a problem of one of
    /// [`ErrorCode`]'s kinds.
    #[error("{}", .0.detail)]
    Refused(ApiProblem),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

/// SQLSTATEs of a transaction PostgreSQL aborted because of concurrent ones: deadlock detected,
/// serialization failure. Running it again is the cure.
const TRANSIENT_CONFLICTS: [&str; 2] = ["40P01", "40001"];

impl CaseworkError {
    /// Whether PostgreSQL aborted the transaction only because of a concurrent one (see
    /// [`crate::retry`]).
    pub fn is_transient_conflict(&self) -> bool {
        match self {
            CaseworkError::Db(sqlx::Error::Database(db)) => db
                .code()
                .is_some_and(|c| TRANSIENT_CONFLICTS.contains(&c.as_ref())),
            _ => false,
        }
    }

    /// The answer for the caller. Database errors become `unavailable` (try again) or `internal`.
    pub fn to_problem(&self) -> ApiProblem {
        match self {
            CaseworkError::Refused(p) => p.clone(),
            e if e.is_transient_conflict() => ErrorCode::Unavailable.problem(
                "Many changes to these tasks arrived at the same moment. Please try again.",
            ),
            CaseworkError::Db(e) if rcn_runtime::db::is_unavailable(e) => ErrorCode::Unavailable
                .problem(
                    "Casework cannot reach its database right now. Please try again in a minute.",
                ),
            CaseworkError::Db(_) => {
                ErrorCode::Internal.problem("Something went wrong in casework. It has been logged.")
            }
        }
    }
}

/// A refusal of kind `code` with `message` for a person.
pub fn refuse(code: ErrorCode, message: impl Into<String>) -> CaseworkError {
    CaseworkError::Refused(code.problem(message))
}

/// A refusal about a task, naming who holds it when someone does.
pub fn refuse_held(
    code: ErrorCode,
    message: impl Into<String>,
    holder: Option<&str>,
) -> CaseworkError {
    let problem = code.problem(message);
    CaseworkError::Refused(match holder {
        Some(holder) => problem.with_extension(HELD_BY, holder),
        None => problem,
    })
}

/// The answer for a task or case the caller cannot see: the same whether it does not exist or
/// belongs to another municipality, so its existence is not revealed either.
pub fn not_found() -> CaseworkError {
    refuse(
        ErrorCode::NotFound,
        "There is no such task or case among the cases you may see.",
    )
}

/// Someone else holds the task; says who.
pub fn claimed_by_other(holder: &str) -> CaseworkError {
    refuse_held(
        ErrorCode::ClaimedByOther,
        format!(
            "{holder} is working on this task. Ask them to hand it over, or pick another task."
        ),
        Some(holder),
    )
}

pub type Result<T, E = CaseworkError> = std::result::Result<T, E>;
