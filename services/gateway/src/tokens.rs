//! API tokens of the partner API: one credential per detention institution (or several, e.g.
//! during a rotation). Used by the gateway to authenticate requests and by `rcn tokens` to issue,
//! list, rotate and revoke them.
//!
//! A token reads `rcn_<token id>_<secret>`: the id (32 hex digits) finds the row, the secret (256
//! random bits, 64 hex digits) proves possession. Only SHA-256 of the secret is stored, and it is
//! compared in constant time. This module must never log or store a token or its secret.
//!
//! Every issue, rotation and revocation is recorded in `api_token_log` in the same transaction:
//! who ([`Actor`]: a person in the portal, or the command line), when, which token and, when
//! given, why. [`log`] reads it newest first for the portal's *Partnertoegang*.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::RngCore;
use rcn_contracts::identity::Role;
use rcn_contracts::intake::{PartnerIdentity, check_institution_code};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use subtle::ConstantTimeEq;
use uuid::Uuid;

/// The gateway's migrations (schema `gateway`).
pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

const PREFIX: &str = "rcn_";

/// The longest reason kept with a token change, in characters.
pub const MAX_WHY: usize = 2000;

/// Who changes a token, as the token log records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor<'a> {
    /// A person signed in to the portal, in their own name.
    Portal { user_id: &'a str, role: Role },
    /// `rcn tokens` (or the launcher's demo and benchmark), run by whoever holds the gateway's
    /// database credentials: the log can say no more than "via the command line".
    CommandLine,
}

/// One change to a token in the token log (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub at: DateTime<Utc>,
    /// `issued`, `rotated` or `revoked`.
    pub action: String,
    pub token_id: Uuid,
    pub institution_code: String,
    /// A rotation's successor.
    pub successor_id: Option<Uuid>,
    /// A rotation: how long the old token stayed valid, in seconds.
    pub grace_secs: Option<i64>,
    /// `portal` or `command_line`.
    pub via: String,
    pub user_id: Option<String>,
    pub role: Option<String>,
    pub why: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("{0}")]
    InvalidInstitution(String),
    #[error("the token name may have at most 200 characters")]
    InvalidName,
    #[error("the reason may have at most {MAX_WHY} characters")]
    InvalidWhy,
    #[error("no token with id {0}")]
    NotFound(Uuid),
    #[error("token {0} is already revoked")]
    AlreadyRevoked(Uuid),
    #[error("the token store cannot be used: {0}")]
    Database(#[from] sqlx::Error),
}

/// A newly issued token: the only moment the token itself exists outside its holder.
pub struct IssuedToken {
    pub token_id: Uuid,
    pub institution_code: String,
    /// The bearer token to hand to the institution; not kept anywhere.
    pub token: String,
}

impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken")
            .field("token_id", &self.token_id)
            .field("institution_code", &self.institution_code)
            .finish_non_exhaustive()
    }
}

/// What is known about a token (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TokenInfo {
    pub token_id: Uuid,
    pub institution_code: String,
    pub name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub replaced_by: Option<Uuid>,
}

impl TokenInfo {
    /// Whether the token is valid at `now` (see [`TokenState`]).
    pub fn state(&self, now: DateTime<Utc>) -> TokenState {
        match self.revoked_at {
            None => TokenState::Active,
            Some(at) if at > now => TokenState::Expiring,
            Some(_) => TokenState::Revoked,
        }
    }
}

/// Where a token stands; follows from its revocation time, so it is not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenState {
    Active,
    /// Revoked at a moment still to come: a rotation's grace period.
    Expiring,
    Revoked,
}

impl TokenState {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenState::Active => "active",
            TokenState::Expiring => "expiring",
            TokenState::Revoked => "revoked",
        }
    }
}

impl std::fmt::Display for TokenState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `pad`, so a column width (`{:<8}`) applies.
        f.pad(self.as_str())
    }
}

/// Opens the gateway's schema on `database_url` (creating and migrating it when needed), for the
/// CLI and for tests that issue tokens.
pub async fn open(database_url: &str) -> anyhow::Result<PgPool> {
    Ok(rcn_runtime::db::open(
        database_url,
        "gateway",
        2,
        &MIGRATIONS,
        Duration::from_secs(10),
    )
    .await?)
}

/// Issues a new token for `institution_code`, recorded as `by`'s, with `why` when given.
pub async fn issue(
    pool: &PgPool,
    institution_code: &str,
    name: Option<&str>,
    by: Actor<'_>,
    why: Option<&str>,
) -> Result<IssuedToken, TokenError> {
    check_institution_code(institution_code).map_err(|e| TokenError::InvalidInstitution(e.0))?;
    if name.is_some_and(|n| n.chars().count() > 200) {
        return Err(TokenError::InvalidName);
    }
    let why = checked_why(why)?;
    let mut tx = pool.begin().await?;
    let issued = insert(&mut tx, institution_code, name).await?;
    record(
        &mut tx,
        Record {
            action: "issued",
            token_id: issued.token_id,
            institution_code,
            successor_id: None,
            grace: None,
        },
        by,
        why,
    )
    .await?;
    tx.commit().await?;
    Ok(issued)
}

/// The reason trimmed, `None` when blank; refused when too long.
fn checked_why(why: Option<&str>) -> Result<Option<&str>, TokenError> {
    let why = why.map(str::trim).filter(|w| !w.is_empty());
    if why.is_some_and(|w| w.chars().count() > MAX_WHY) {
        return Err(TokenError::InvalidWhy);
    }
    Ok(why)
}

/// What changed, for [`record`].
struct Record<'a> {
    action: &'static str,
    token_id: Uuid,
    institution_code: &'a str,
    successor_id: Option<Uuid>,
    grace: Option<Duration>,
}

/// Appends one change to the token log, in the caller's transaction.
async fn record(
    tx: &mut sqlx::PgConnection,
    what: Record<'_>,
    by: Actor<'_>,
    why: Option<&str>,
) -> Result<(), sqlx::Error> {
    let (via, user_id, role) = match by {
        Actor::Portal { user_id, role } => ("portal", Some(user_id), Some(role.as_str())),
        Actor::CommandLine => ("command_line", None, None),
    };
    let grace_secs = what
        .grace
        .map(|g| i64::try_from(g.as_secs()).unwrap_or(i64::MAX));
    sqlx::query!(
        "INSERT INTO api_token_log (action, token_id, institution_code, successor_id, grace_secs, via, user_id, role, why)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        what.action,
        what.token_id,
        what.institution_code,
        what.successor_id,
        grace_secs,
        via,
        user_id,
        role,
        why,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The token log, newest first: at most `limit` entries.
pub async fn log(pool: &PgPool, limit: i64) -> Result<Vec<LogEntry>, TokenError> {
    Ok(sqlx::query_as!(
        LogEntry,
        "SELECT at, action, token_id, institution_code, successor_id, grace_secs, via, user_id, role, why
         FROM api_token_log ORDER BY at DESC, id DESC LIMIT $1",
        limit,
    )
    .fetch_all(pool)
    .await?)
}

async fn insert(
    tx: &mut sqlx::PgConnection,
    institution_code: &str,
    name: Option<&str>,
) -> Result<IssuedToken, TokenError> {
    let token_id = Uuid::new_v4();
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let secret = hex::encode(secret);
    let secret_hash = hash(&secret);
    sqlx::query!(
        "INSERT INTO api_tokens (token_id, institution_code, name, secret_hash) VALUES ($1, $2, $3, $4)",
        token_id,
        institution_code,
        name,
        secret_hash.as_slice(),
    )
    .execute(&mut *tx)
    .await?;
    let token = format!("{PREFIX}{}_{secret}", token_id.simple());
    Ok(IssuedToken {
        token_id,
        institution_code: institution_code.to_owned(),
        token,
    })
}

/// Every token, newest first.
pub async fn list(pool: &PgPool) -> Result<Vec<TokenInfo>, TokenError> {
    Ok(sqlx::query_as!(
        TokenInfo,
        "SELECT token_id, institution_code, name, created_at, revoked_at, last_used_at, replaced_by
         FROM api_tokens ORDER BY institution_code, created_at DESC",
    )
    .fetch_all(pool)
    .await?)
}

/// Issues a successor for `token_id` (same institution and name) and revokes the old token
/// after `grace` (at once when zero), so the institution can switch without downtime. Recorded
/// as `by`'s, with `why` when given.
pub async fn rotate(
    pool: &PgPool,
    token_id: Uuid,
    grace: Duration,
    by: Actor<'_>,
    why: Option<&str>,
) -> Result<IssuedToken, TokenError> {
    let why = checked_why(why)?;
    let mut tx = pool.begin().await?;
    let old = sqlx::query_as!(
        TokenInfo,
        "SELECT token_id, institution_code, name, created_at, revoked_at, last_used_at, replaced_by
         FROM api_tokens WHERE token_id = $1 FOR UPDATE",
        token_id,
    )
    .fetch_optional(&mut *tx)
    .await?;
    let old = old.ok_or(TokenError::NotFound(token_id))?;
    if old.revoked_at.is_some() {
        return Err(TokenError::AlreadyRevoked(token_id));
    }
    let issued = insert(&mut tx, &old.institution_code, old.name.as_deref()).await?;
    let grace_ms = i64::try_from(grace.as_millis()).unwrap_or(i64::MAX);
    sqlx::query!(
        "UPDATE api_tokens SET revoked_at = now() + make_interval(secs => $2::bigint::double precision / 1000), replaced_by = $3
         WHERE token_id = $1",
        token_id,
        grace_ms,
        issued.token_id,
    )
    .execute(&mut *tx)
    .await?;
    record(
        &mut tx,
        Record {
            action: "rotated",
            token_id,
            institution_code: &old.institution_code,
            successor_id: Some(issued.token_id),
            grace: Some(grace),
        },
        by,
        why,
    )
    .await?;
    tx.commit().await?;
    Ok(issued)
}

/// Revokes `token_id` now (also one still in a rotation's grace period). Recorded as `by`'s,
/// with `why` when given.
pub async fn revoke(
    pool: &PgPool,
    token_id: Uuid,
    by: Actor<'_>,
    why: Option<&str>,
) -> Result<TokenInfo, TokenError> {
    let why = checked_why(why)?;
    let mut tx = pool.begin().await?;
    let revoked = sqlx::query_as!(
        TokenInfo,
        "UPDATE api_tokens SET revoked_at = now()
         WHERE token_id = $1 AND (revoked_at IS NULL OR revoked_at > now())
         RETURNING token_id, institution_code, name, created_at, revoked_at, last_used_at, replaced_by",
        token_id,
    )
    .fetch_optional(&mut *tx)
    .await?;
    match revoked {
        Some(info) => {
            record(
                &mut tx,
                Record {
                    action: "revoked",
                    token_id,
                    institution_code: &info.institution_code,
                    successor_id: None,
                    grace: None,
                },
                by,
                why,
            )
            .await?;
            tx.commit().await?;
            Ok(info)
        }
        None => {
            tx.rollback().await?;
            let exists = sqlx::query_scalar!(
                r#"SELECT EXISTS (SELECT 1 FROM api_tokens WHERE token_id = $1) AS "exists!""#,
                token_id,
            )
            .fetch_one(pool)
            .await?;
            Err(if exists {
                TokenError::AlreadyRevoked(token_id)
            } else {
                TokenError::NotFound(token_id)
            })
        }
    }
}

/// The institution a presented bearer token belongs to, when it is well-formed, known, matches
/// and is not revoked; `None` otherwise (without saying which, to the caller).
pub async fn authenticate(
    pool: &PgPool,
    presented: &str,
) -> Result<Option<PartnerIdentity>, sqlx::Error> {
    let Some((token_id, secret)) = parse(presented) else {
        return Ok(None);
    };
    let row = sqlx::query!(
        "SELECT institution_code, secret_hash FROM api_tokens
         WHERE token_id = $1 AND (revoked_at IS NULL OR revoked_at > now())",
        token_id,
    )
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let institution_code = row.institution_code;
    if !bool::from(hash(secret).as_slice().ct_eq(&row.secret_hash)) {
        return Ok(None);
    }
    // Once a minute at most, so a busy institution does not write on every request.
    sqlx::query!(
        "UPDATE api_tokens SET last_used_at = now()
         WHERE token_id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
        token_id,
    )
    .execute(pool)
    .await?;
    Ok(Some(PartnerIdentity {
        institution_code,
        credential: format!("token:{token_id}"),
    }))
}

/// Splits `rcn_<32 hex id>_<64 hex secret>`.
pub(crate) fn parse(presented: &str) -> Option<(Uuid, &str)> {
    let rest = presented.strip_prefix(PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    if id.len() != 32 || secret.len() != 64 || !secret.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some((Uuid::try_parse(id).ok()?, secret))
}

fn hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_tokens_are_looked_up() {
        let id = Uuid::new_v4();
        let secret = "ab".repeat(32);
        let token = format!("rcn_{}_{secret}", id.simple());
        assert_eq!(parse(&token), Some((id, secret.as_str())));
        for bad in [
            "",
            "rcn_",
            "Bearer x",
            &format!("rcn_{}_{}", id.simple(), "ab"),
            &format!("xyz_{}_{secret}", id.simple()),
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert_eq!(
            parse(&format!("rcn_{}_{}", id.simple(), "zz".repeat(32))),
            None
        );
    }

    #[test]
    fn a_token_state_follows_its_revocation_time() {
        let now = Utc::now();
        let mut info = TokenInfo {
            token_id: Uuid::new_v4(),
            institution_code: "PI-HAARLEM".into(),
            name: None,
            created_at: now,
            revoked_at: None,
            last_used_at: None,
            replaced_by: None,
        };
        assert_eq!(info.state(now), TokenState::Active);
        info.revoked_at = Some(now + chrono::Duration::hours(1));
        assert_eq!(info.state(now), TokenState::Expiring);
        info.revoked_at = Some(now - chrono::Duration::seconds(1));
        assert_eq!(info.state(now), TokenState::Revoked);
        assert_eq!(format!("[{:<8}]", TokenState::Active), "[active  ]");
    }
}
