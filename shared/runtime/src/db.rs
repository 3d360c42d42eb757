//! PostgreSQL: one pool per service, bound to the service's own schema through `search_path`, so
//! a service's queries cannot reach another service's tables by accident and each service's
//! migrations (and sqlx's bookkeeping table) live in its own schema.

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::backoff;

/// The schema of every rcn service, one per service. Each gets its own PostgreSQL login role with
/// rights on that schema only (the launcher's `rcn db-roles`) and may be given its own URL
/// (`RCN_<SCHEMA>_DATABASE_URL`, see [`crate::Config::database_url_for`]). Adding a service is
/// one line here.
pub const SERVICE_SCHEMAS: &[&str] = &[
    "intake",
    "router",
    "casework",
    "procesregie",
    "gateway",
    "monitor",
];

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("DATABASE_URL is not a PostgreSQL URL: {0}")]
    Url(sqlx::Error),
    #[error("cannot reach PostgreSQL: {0}")]
    Connect(sqlx::Error),
    #[error("cannot create schema {schema}: {source}")]
    Schema { schema: String, source: sqlx::Error },
    #[error("migrations of schema {schema} failed: {source}")]
    Migrate {
        schema: String,
        source: sqlx::migrate::MigrateError,
    },
}

/// Opens a pool whose connections see `schema` first, creates the schema when missing, installs
/// the outbox table and runs the service's migrations. Retries the first connection for up to
/// `patience`, so a service may start before the database.
pub async fn open(
    url: &str,
    schema: &str,
    pool_size: u32,
    migrator: &Migrator,
    patience: Duration,
) -> Result<PgPool, DbError> {
    let options = PgConnectOptions::from_str(url)
        .map_err(DbError::Url)?
        .options([("search_path", schema)])
        .application_name(&format!("rcn-{schema}"));
    let pool_options = PgPoolOptions::new()
        .max_connections(pool_size)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(10));
    let started = tokio::time::Instant::now();
    let mut pauses = backoff::STARTUP.delays();
    let pool = loop {
        match pool_options.clone().connect_with(options.clone()).await {
            Ok(pool) => break pool,
            Err(e) if started.elapsed() >= patience => return Err(DbError::Connect(e)),
            Err(e) => {
                tracing::debug!(error = %e, "PostgreSQL not reachable yet");
                tokio::time::sleep(pauses.next().unwrap_or(backoff::STARTUP.max)).await;
            }
        }
    };
    // The database may go away while a service starts (a restart, a fail-over): keep trying
    // within `patience` rather than exit half-migrated (migrations run in transactions).
    let mut pauses = backoff::STARTUP.delays();
    loop {
        match prepare(&pool, schema, migrator).await {
            Ok(()) => return Ok(pool),
            Err(e) if e.is_unavailable() && started.elapsed() < patience => {
                tracing::warn!(schema, error = %e, "PostgreSQL went away while preparing; retrying");
                tokio::time::sleep(pauses.next().unwrap_or(backoff::STARTUP.max)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Runs the migrations of the service owning `schema` (and installs its outbox table) on a
/// connection of `url`, the migration role's, acting as the service's role `role` (of which the
/// migration role is a member): what it creates belongs to the service, exactly as if the
/// service had migrated itself, so the service needs no right beyond its own schema. `rcn run`
/// migrates every service this way before starting them.
pub async fn migrate_as(
    url: &str,
    schema: &str,
    role: &str,
    migrator: &Migrator,
) -> Result<(), DbError> {
    let options = PgConnectOptions::from_str(url)
        .map_err(DbError::Url)?
        .options([("search_path", schema), ("role", role)])
        .application_name("rcn-migrator");
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .map_err(DbError::Connect)?;
    let migrated = prepare(&pool, schema, migrator).await;
    pool.close().await;
    migrated
}

impl DbError {
    /// Whether the failure means PostgreSQL could not be reached, as opposed to a wrong URL or a
    /// migration that fails on its own.
    pub fn is_unavailable(&self) -> bool {
        match self {
            DbError::Connect(e) | DbError::Schema { source: e, .. } => is_unavailable(e),
            DbError::Migrate {
                source:
                    sqlx::migrate::MigrateError::Execute(e)
                    | sqlx::migrate::MigrateError::ExecuteMigration(e, _),
                ..
            } => is_unavailable(e),
            _ => false,
        }
    }
}

/// Creates the schema, installs the outbox table and runs the migrations, all on one connection
/// holding a session advisory lock for the schema: two processes starting together (two
/// instances of a service, or a service and a CLI command) would otherwise race on the catalogue.
async fn prepare(pool: &PgPool, schema: &str, migrator: &Migrator) -> Result<(), DbError> {
    let err = |source| DbError::Schema {
        schema: schema.to_owned(),
        source,
    };
    let mut conn = pool.acquire().await.map_err(err)?;
    sqlx::query!(
        "SELECT pg_advisory_lock(hashtext('rcn-schema-' || $1))",
        schema
    )
    .execute(&mut *conn)
    .await
    .map_err(err)?;
    let prepared = async {
        // An identifier cannot be a bind parameter, so this one statement is assembled (from the
        // service's own schema name, never from input) and not checked at compile time.
        let ident = schema.replace('"', "");
        // A service role may not create schemas (only the provisioning step does), and
        // PostgreSQL checks that right even for `IF NOT EXISTS`: create only what is missing.
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)")
                .bind(&ident)
                .fetch_one(&mut *conn)
                .await
                .map_err(err)?;
        if !exists {
            sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS \"{ident}\""))
                .execute(&mut *conn)
                .await
                .map_err(err)?;
        }
        crate::outbox::install(&mut conn).await.map_err(err)?;
        crate::retention::install(&mut conn).await.map_err(err)?;
        migrator
            .run_direct(&mut *conn)
            .await
            .map_err(|source| DbError::Migrate {
                schema: schema.to_owned(),
                source,
            })
    }
    .await;
    // Unlock even when preparing failed; closing the connection would release it too.
    let _ = sqlx::query_scalar!(
        "SELECT pg_advisory_unlock(hashtext('rcn-schema-' || $1))",
        schema
    )
    .fetch_one(&mut *conn)
    .await;
    prepared
}

/// A read-only transaction in one snapshot of the database.
pub type ReadOnly = sqlx::Transaction<'static, sqlx::Postgres>;

const READ_ONLY_SNAPSHOT: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

/// Up to two read-only transactions that see exactly the same data, so one request can run its
/// queries side by side and still answer from one moment: the first exports its snapshot
/// (`pg_export_snapshot`), the second imports it (`SET TRANSACTION SNAPSHOT`) before either has
/// read anything. The second comes only from a connection the pool has idle, or can open within
/// `spare_wait`: a busy pool is never waited for, and then the request runs on the first alone.
pub async fn read_only_pair(
    pool: &PgPool,
    spare_wait: Duration,
) -> Result<(ReadOnly, Option<ReadOnly>), sqlx::Error> {
    let mut first = pool.begin_with(READ_ONLY_SNAPSHOT).await?;
    let Some(mut second) = spare_read_only(pool, spare_wait).await else {
        return Ok((first, None));
    };
    let snapshot = sqlx::query_scalar!(r#"SELECT pg_export_snapshot() AS "id!""#)
        .fetch_one(&mut *first)
        .await?;
    // `SET TRANSACTION SNAPSHOT` takes no bind parameter. The id is PostgreSQL's own
    // (hexadecimal digits and dashes); anything else is not put into a statement.
    if snapshot.is_empty() || !snapshot.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Ok((first, None));
    }
    sqlx::query(&format!("SET TRANSACTION SNAPSHOT '{snapshot}'"))
        .execute(&mut *second)
        .await?;
    Ok((first, Some(second)))
}

async fn spare_read_only(pool: &PgPool, wait: Duration) -> Option<ReadOnly> {
    if let Ok(Some(tx)) = pool.try_begin_with(READ_ONLY_SNAPSHOT).await {
        return Some(tx);
    }
    if pool.size() >= pool.options().get_max_connections() {
        return None;
    }
    tokio::time::timeout(wait, pool.begin_with(READ_ONLY_SNAPSHOT))
        .await
        .ok()?
        .ok()
}

/// Whether PostgreSQL answers.
pub async fn ping(pool: &PgPool) -> bool {
    sqlx::query_scalar!("SELECT 1 AS one")
        .fetch_one(pool)
        .await
        .is_ok()
}

/// Whether an error means PostgreSQL cannot be reached right now (as opposed to a query that is
/// wrong or conflicts): connection failures, pool exhaustion, and the server shutting down or
/// starting up.
pub fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Tls(_) => true,
        sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // Class 08: connection exception; 57P0x: admin/crash shutdown, cannot connect now;
            // 53300: too many connections.
            code.starts_with("08") || code.starts_with("57P") || code == "53300"
        }),
        _ => false,
    }
}

/// `url` with its database replaced: `scheme://authority/<database>[?query]` (the launcher and
/// the tests create a database next to the one they were given).
pub fn with_database(admin_url: &str, database: &str) -> String {
    let (base, query) = admin_url
        .split_once('?')
        .map_or((admin_url, None), |(b, q)| (b, Some(q)));
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let query = query.map(|q| format!("?{q}")).unwrap_or_default();
    format!("{}/{database}{query}", &base[..authority_end])
}

/// `url` with its user (and password) replaced, for a service's own role.
pub fn with_user(url: &str, user: &str, password: Option<&str>) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let host = rest[..authority_end]
        .rsplit_once('@')
        .map_or(&rest[..authority_end], |(_, host)| host);
    let userinfo = match password {
        Some(p) => format!("{}:{}", encode_userinfo(user), encode_userinfo(p)),
        None => encode_userinfo(user),
    };
    format!(
        "{}{userinfo}@{host}{}",
        &url[..scheme_end],
        &rest[authority_end..]
    )
}

/// `url` without the password in it, for printing.
pub fn without_password(url: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    match rest[..authority_end].rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            format!(
                "{}{user}@{host}{}",
                &url[..scheme_end],
                &rest[authority_end..]
            )
        }
        None => url.to_owned(),
    }
}

/// Percent-encodes what may not stand in a URL's user or password as it is.
fn encode_userinfo(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_user_is_swapped_in_the_url() {
        assert_eq!(
            super::with_user("postgres://postgres@127.0.0.1:5432/rcn", "rcn_intake", None),
            "postgres://rcn_intake@127.0.0.1:5432/rcn"
        );
        assert_eq!(
            super::with_user("postgres://a:b@h:1/x?sslmode=disable", "u", Some("p@ss/w")),
            "postgres://u:p%40ss%2Fw@h:1/x?sslmode=disable"
        );
        assert_eq!(
            super::with_user("postgres://h:1", "u", None),
            "postgres://u@h:1"
        );
        assert_eq!(
            super::without_password("postgres://u:secret@h:1/x?a=b"),
            "postgres://u@h:1/x?a=b"
        );
        assert_eq!(
            super::without_password("postgres://h:1/x"),
            "postgres://h:1/x"
        );
    }

    #[test]
    fn database_is_swapped_in_the_url() {
        assert_eq!(
            super::with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            super::with_database("postgres://u@h:1/db?sslmode=disable", "x"),
            "postgres://u@h:1/x?sslmode=disable"
        );
        assert_eq!(
            super::with_database("postgres://h:1", "x"),
            "postgres://h:1/x"
        );
    }
}
