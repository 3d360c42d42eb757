//! PostgreSQL roles: one login role per service (`<prefix>_<schema>`, e.g. `rcn_casework`) that
//! owns its own schema and has no rights anywhere else, and one migration role
//! (`<prefix>_migrator`) that is a member of every service role, so it can run any service's
//! migrations ahead of a deployment; tables it creates are covered by default privileges for the
//! service's role. `rcn db-roles` runs this against `DATABASE_URL` (an administrative user);
//! compose runs it before the services start, and the tests provision the same way.
//!
//! The services are those of [`rcn_runtime::db::SERVICE_SCHEMAS`]: adding one there gives it its
//! role here. Idempotent: run it again after adding a service or to change a password. It must
//! never grant a service role anything outside its own schema, and never print a password.

use anyhow::Context as _;
use rcn_runtime::db::SERVICE_SCHEMAS;
use sqlx::{Connection as _, PgConnection};

/// The role prefix of a deployment (`rcn_intake`, …, `rcn_migrator`).
pub const PREFIX: &str = "rcn";

/// The login role of the service that owns `schema`.
pub fn role(prefix: &str, schema: &str) -> String {
    format!("{prefix}_{schema}")
}

/// The migration role.
pub fn migrator(prefix: &str) -> String {
    format!("{prefix}_migrator")
}

/// Creates (or updates) the roles of `prefix` and their rights in the database `admin` is
/// connected to. `password(role)` gives a role's password (`None`: leave it as it is, or none
/// for a new role, for servers that authenticate otherwise).
pub async fn provision(
    admin: &mut PgConnection,
    prefix: &str,
    password: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<()> {
    // Roles are shared by every database of the cluster: two provisionings at once (tests) may
    // race on them. PostgreSQL then refuses one statement; the second attempt finds it done.
    let mut attempt = 0;
    loop {
        attempt += 1;
        match provision_once(admin, prefix, password).await {
            Ok(()) => return Ok(()),
            Err(e) if attempt < 5 && is_race(&e) => {
                tokio::time::sleep(std::time::Duration::from_millis(50 * attempt)).await;
            }
            Err(e) => return Err(e).context("provisioning the PostgreSQL roles"),
        }
    }
}

async fn provision_once(
    admin: &mut PgConnection,
    prefix: &str,
    password: &dyn Fn(&str) -> Option<String>,
) -> Result<(), sqlx::Error> {
    let mut tx = admin.begin().await?;
    let database: String = sqlx::query_scalar!(r#"SELECT current_database() AS "database!""#)
        .fetch_one(&mut *tx)
        .await?;
    let migrator = migrator(prefix);
    // Nobody but the roles named here (and administrators) may connect or create anything.
    exec(
        &mut tx,
        &format!("REVOKE ALL ON DATABASE {} FROM PUBLIC", ident(&database)),
    )
    .await?;
    exec(&mut tx, "REVOKE CREATE ON SCHEMA public FROM PUBLIC").await?;
    ensure_role(&mut tx, &migrator, password(&migrator), true).await?;
    exec(
        &mut tx,
        &format!(
            "GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}",
            ident(&database),
            ident(&migrator)
        ),
    )
    .await?;
    for schema in SERVICE_SCHEMAS {
        let role = role(prefix, schema);
        ensure_role(&mut tx, &role, password(&role), false).await?;
        let (s, r) = (ident(schema), ident(&role));
        exec(
            &mut tx,
            &format!(
                "GRANT CONNECT, TEMPORARY ON DATABASE {} TO {r}",
                ident(&database)
            ),
        )
        .await?;
        exec(
            &mut tx,
            &format!("CREATE SCHEMA IF NOT EXISTS {s} AUTHORIZATION {r}"),
        )
        .await?;
        exec(&mut tx, &format!("ALTER SCHEMA {s} OWNER TO {r}")).await?;
        exec(&mut tx, &format!("REVOKE ALL ON SCHEMA {s} FROM PUBLIC")).await?;
        // What an administrator created there before the roles existed becomes the service's.
        hand_over_tables(&mut tx, schema, &role).await?;
        let granted: bool = sqlx::query_scalar!(
            r#"SELECT pg_has_role($1, $2, 'MEMBER')
               AND EXISTS (SELECT 1 FROM pg_auth_members m
                            JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
                           WHERE g.rolname = $2 AND u.rolname = $1) AS "granted!""#,
            &migrator,
            &role,
        )
        .fetch_one(&mut *tx)
        .await?;
        if !granted {
            exec(&mut tx, &format!("GRANT {r} TO {}", ident(&migrator))).await?;
        }
        // Tables a later migration creates as the migration role are the service's to use.
        let m = ident(&migrator);
        exec(
            &mut tx,
            &format!(
                "ALTER DEFAULT PRIVILEGES FOR ROLE {m} IN SCHEMA {s} \
                 GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON TABLES TO {r}"
            ),
        )
        .await?;
        exec(
            &mut tx,
            &format!(
                "ALTER DEFAULT PRIVILEGES FOR ROLE {m} IN SCHEMA {s} \
                 GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {r}"
            ),
        )
        .await?;
        exec(
            &mut tx,
            &format!(
                "ALTER DEFAULT PRIVILEGES FOR ROLE {m} IN SCHEMA {s} GRANT EXECUTE ON FUNCTIONS TO {r}"
            ),
        )
        .await?;
    }
    tx.commit().await
}

/// Creates `role` as a login role without special rights when missing; sets its password when
/// one is given. The migration role inherits the service roles it is granted.
async fn ensure_role(
    tx: &mut PgConnection,
    role: &str,
    password: Option<String>,
    inherit: bool,
) -> Result<(), sqlx::Error> {
    let exists: bool = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AS "exists!""#,
        role
    )
    .fetch_one(&mut *tx)
    .await?;
    let inherit = if inherit { "INHERIT" } else { "NOINHERIT" };
    let attributes =
        format!("LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS {inherit}");
    let verb = if exists { "ALTER" } else { "CREATE" };
    exec(tx, &format!("{verb} ROLE {} {attributes}", ident(role))).await?;
    if let Some(password) = password {
        // A utility statement takes no parameters: the password goes in as a quoted literal.
        exec(
            tx,
            &format!(
                "ALTER ROLE {} PASSWORD '{}'",
                ident(role),
                password.replace('\'', "''")
            ),
        )
        .await?;
    }
    Ok(())
}

/// Makes `role` the owner of every table and view in `schema` (their sequences follow).
async fn hand_over_tables(
    tx: &mut PgConnection,
    schema: &str,
    role: &str,
) -> Result<(), sqlx::Error> {
    let relations = sqlx::query!(
        r#"SELECT c.relname::text AS "name!",
                CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END
                  AS "kind!"
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm')
            AND pg_get_userbyid(c.relowner) <> $2"#,
        schema,
        role,
    )
    .fetch_all(&mut *tx)
    .await?;
    for (name, kind) in relations.into_iter().map(|r| (r.name, r.kind)) {
        exec(
            tx,
            &format!(
                "ALTER {kind} {}.{} OWNER TO {}",
                ident(schema),
                ident(&name),
                ident(role)
            ),
        )
        .await?;
    }
    Ok(())
}

async fn exec(tx: &mut PgConnection, sql: &str) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(sql).execute(&mut *tx).await.map(|_| ())
}

/// A quoted SQL identifier.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Whether a failure is another provisioning's concurrent change to the shared roles.
fn is_race(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            matches!(
                db.code().as_deref(),
                Some("23505" | "42710" | "40001" | "40P01" | "XX000")
            )
        }
        _ => false,
    }
}

/// The passwords of `rcn db-roles`: `RCN_DB_PASSWORD_<SCHEMA>` for a service's role,
/// `RCN_DB_PASSWORD_MIGRATOR` for the migration role.
pub fn password_from(
    get: &dyn Fn(&str) -> Option<String>,
    prefix: &str,
    role: &str,
) -> Option<String> {
    let which = role.strip_prefix(prefix)?.strip_prefix('_')?;
    get(&format!("RCN_DB_PASSWORD_{}", which.to_uppercase())).filter(|p| !p.is_empty())
}

/// Provisions the roles of `prefix` in the database of `config`'s `DATABASE_URL` (an
/// administrator) and points every service at its own role (`RCN_<SCHEMA>_DATABASE_URL`), as a
/// deployment does: for tests and tools that run the stack the way compose runs it.
pub async fn use_own_roles(
    config: &mut rcn_runtime::Config,
    prefix: &str,
    password: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<()> {
    let admin_url = config.database_url()?.to_owned();
    let mut admin = PgConnection::connect(&admin_url)
        .await
        .context("connecting to DATABASE_URL")?;
    provision(&mut admin, prefix, password).await?;
    config.service_database_urls = SERVICE_SCHEMAS
        .iter()
        .map(|schema| {
            let role = role(prefix, schema);
            let url = rcn_runtime::db::with_user(&admin_url, &role, password(&role).as_deref());
            ((*schema).to_owned(), url)
        })
        .collect();
    Ok(())
}
