//! Why a casework request failed: a rule the request breaks (answered as it is), or the database
//! (logged, and answered with a stable code and a sentence that reveals nothing of it).

use rcn_contracts::casework_api::{ApiError, ErrorCode};

#[derive(Debug, thiserror::Error)]
pub enum CaseworkError {
    /// The request breaks a rule; the caller is told which.
    #[error("{}", .0.message)]
    Refused(ApiError),
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
    pub fn to_api(&self) -> ApiError {
        match self {
            CaseworkError::Refused(e) => e.clone(),
            e if e.is_transient_conflict() => ApiError::new(
                ErrorCode::Unavailable,
                "Many changes to these tasks arrived at the same moment. Please try again.",
            ),
            CaseworkError::Db(e) if rcn_runtime::db::is_unavailable(e) => ApiError::new(
                ErrorCode::Unavailable,
                "Casework cannot reach its database right now. Please try again in a minute.",
            ),
            CaseworkError::Db(_) => ApiError::new(
                ErrorCode::Internal,
                "Something went wrong in casework. It has been logged.",
            ),
        }
    }
}

/// A refusal with `code` and a message for a person.
pub fn refuse(code: ErrorCode, message: impl Into<String>) -> CaseworkError {
    CaseworkError::Refused(ApiError::new(code, message))
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
    CaseworkError::Refused(ApiError {
        code: ErrorCode::ClaimedByOther,
        message: format!(
            "{holder} is working on this task. Ask them to hand it over, or pick another task."
        ),
        held_by: Some(holder.to_owned()),
    })
}

pub type Result<T, E = CaseworkError> = std::result::Result<T, E>;
