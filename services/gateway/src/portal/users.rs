//! The people of the portal (`gateway.portal_users`): built-in accounts with an argon2id password
//! hash, for development and small sites without an identity provider (`rcn users add|list|
//! disable`), and everyone who signed in through one (no hash). The portal offers a
//! municipality's people as the colleagues a task can be handed over to.
//!
//! This module must never log or return a password or its hash.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Utc};
use rcn_contracts::identity::{Identity, Role, check_user_id};
use rcn_contracts::value::Gemeentecode;
use sqlx::PgPool;

/// The shortest password a built-in account may have.
pub const MIN_PASSWORD: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("{0}")]
    Invalid(String),
    #[error("there is already an account {0}")]
    Exists(String),
    #[error("no account {0}")]
    NotFound(String),
    #[error("the account store cannot be used: {0}")]
    Database(#[from] sqlx::Error),
}

/// A person as the portal knows them (never their password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    pub user_id: String,
    pub display_name: String,
    pub role: Role,
    pub gemeentecode: Option<String>,
    /// Whether the person has a built-in account (a password), or signs in elsewhere.
    pub builtin: bool,
    pub created_at: DateTime<Utc>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub disabled_at: Option<DateTime<Utc>>,
}

/// What a new built-in account is.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub user_id: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub gemeentecode: Option<Gemeentecode>,
    pub password: &'a str,
}

/// Adds a built-in account.
pub async fn add(pool: &PgPool, new: NewUser<'_>) -> Result<(), UserError> {
    let identity = Identity {
        user_id: new.user_id.to_owned(),
        role: new.role,
        gemeentecode: new.gemeentecode.clone(),
    };
    identity.check().map_err(|e| UserError::Invalid(e.0))?;
    if new.role != Role::MunicipalStaff && new.gemeentecode.is_some() {
        return Err(UserError::Invalid(
            "only municipal staff belong to a municipality; leave out the gemeentecode".into(),
        ));
    }
    let name = new.display_name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(UserError::Invalid(
            "the display name has 1 to 200 characters".into(),
        ));
    }
    if new.password.chars().count() < MIN_PASSWORD {
        return Err(UserError::Invalid(format!(
            "the password needs at least {MIN_PASSWORD} characters"
        )));
    }
    let hash = hash_password(new.password)?;
    let inserted = sqlx::query!(
        "INSERT INTO portal_users (user_id, display_name, role, gemeentecode, password_hash)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id) DO NOTHING",
        new.user_id,
        name,
        new.role as Role,
        new.gemeentecode.as_ref().map(|g| g.as_str()),
        hash,
    )
    .execute(pool)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Err(UserError::Exists(new.user_id.to_owned()));
    }
    Ok(())
}

/// Gives a built-in account a new password and enables it again (for `rcn run --demo`, which
/// prints fresh passwords on every start).
pub async fn reset_password(pool: &PgPool, user_id: &str, password: &str) -> Result<(), UserError> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(UserError::Invalid(format!(
            "the password needs at least {MIN_PASSWORD} characters"
        )));
    }
    let hash = hash_password(password)?;
    let found = sqlx::query!(
        "UPDATE portal_users SET password_hash = $2, disabled_at = NULL WHERE user_id = $1",
        user_id,
        hash,
    )
    .execute(pool)
    .await?
    .rows_affected();
    if found == 0 {
        return Err(UserError::NotFound(user_id.to_owned()));
    }
    Ok(())
}

/// Every person, by municipality and id.
pub async fn list(pool: &PgPool) -> Result<Vec<UserInfo>, UserError> {
    Ok(sqlx::query_as!(
        UserInfo,
        r#"SELECT user_id, display_name, role AS "role: Role", gemeentecode,
                password_hash IS NOT NULL AS "builtin!", created_at, last_sign_in_at, disabled_at
         FROM portal_users ORDER BY gemeentecode NULLS FIRST, user_id"#,
    )
    .fetch_all(pool)
    .await?)
}

/// Disables a person: they cannot sign in any more, and their open sessions end now. Returns
/// how many sessions ended.
pub async fn disable(pool: &PgPool, user_id: &str) -> Result<u64, UserError> {
    let found = sqlx::query!(
        "UPDATE portal_users SET disabled_at = COALESCE(disabled_at, now()) WHERE user_id = $1",
        user_id,
    )
    .execute(pool)
    .await?
    .rows_affected();
    if found == 0 {
        return Err(UserError::NotFound(user_id.to_owned()));
    }
    Ok(crate::portal::session::end_all_of(pool, user_id).await?)
}

/// The identity and display name of a built-in account whose password matches; `None` for an
/// unknown, disabled or password-less account or a wrong password (which one is not told).
pub async fn verify(
    pool: &PgPool,
    user_id: &str,
    password: &str,
) -> Result<Option<(Identity, String)>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT display_name, role AS "role: Role", gemeentecode,
                password_hash AS "password_hash!"
         FROM portal_users
         WHERE user_id = $1 AND disabled_at IS NULL AND password_hash IS NOT NULL"#,
        user_id,
    )
    .fetch_optional(pool)
    .await?
    .map(|r| (r.display_name, r.role, r.gemeentecode, r.password_hash));
    let Some((display_name, role, gemeentecode, stored)) = row else {
        // Spend the time a real check takes, so a wrong name and a wrong password look alike.
        let _ = hash_password(password);
        return Ok(None);
    };
    let matches = PasswordHash::new(&stored).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    });
    if !matches {
        return Ok(None);
    }
    let Ok(gemeentecode) = gemeentecode.as_deref().map(Gemeentecode::parse).transpose() else {
        tracing::error!(
            user = user_id,
            "a built-in account has an unreadable municipality"
        );
        return Ok(None);
    };
    Ok(Some((
        Identity {
            user_id: user_id.to_owned(),
            role,
            gemeentecode,
        },
        display_name,
    )))
}

/// The municipal staff of `gemeente` who can sign in, but not `except`: to hand a task over to.
pub async fn colleagues(
    pool: &PgPool,
    gemeente: &Gemeentecode,
    except: &str,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT user_id, display_name FROM portal_users
         WHERE gemeentecode = $1 AND role = $3 AND disabled_at IS NULL
           AND user_id <> $2
         ORDER BY display_name, user_id",
        gemeente as &Gemeentecode,
        except,
        Role::MunicipalStaff as Role,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.user_id, r.display_name))
        .collect())
}

/// The display names of the given user ids that the portal knows (to show a task's holder).
pub async fn display_names(
    pool: &PgPool,
    user_ids: &[String],
) -> Result<std::collections::HashMap<String, String>, sqlx::Error> {
    if user_ids.is_empty() {
        return Ok(Default::default());
    }
    let rows = sqlx::query!(
        "SELECT user_id, display_name FROM portal_users WHERE user_id = ANY($1)",
        user_ids,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.user_id, r.display_name))
        .collect())
}

fn hash_password(password: &str) -> Result<String, UserError> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| UserError::Invalid("the password cannot be hashed".into()))
}

/// Checks a user id for `rcn users add`.
pub fn check_new_user_id(user_id: &str) -> Result<(), UserError> {
    check_user_id(user_id).map_err(|e| UserError::Invalid(e.0))
}
