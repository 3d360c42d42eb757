//! Fills in what the configuration leaves open for a newcomer: when NATS_URL or DATABASE_URL is
//! not set, the launcher starts its own server under the data folder ([`crate::infra`]); when
//! the pseudonym key is not set and the launcher runs its own servers, it keeps a random one in
//! the data folder. With external servers the key must be configured: pseudonyms made with a
//! throw-away key would not match the ones already stored. The same goes for the gateway's
//! identity key (`identity.key`): kept in the data folder for the launcher's own servers, to be
//! configured otherwise.

use std::path::Path;

use anyhow::Context as _;
use rcn_contracts::pseudonym::PseudonymKey;
use rcn_runtime::Config;
use rcn_runtime::signed_identity::IdentitySigner;
use sqlx::Connection;

use crate::infra::{NatsProcess, PostgresProcess};

/// The database the launcher creates in its own PostgreSQL.
const DATABASE: &str = "rcn";

/// How the services meet the launcher's own servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// One administrative credential for every client: a NATS token, the PostgreSQL superuser
    /// (`rcn servers`, for the tests, which make streams in random regions of their own; the
    /// benchmark).
    Shared,
    /// Each service as its own least-privilege identity, as compose runs them (`rcn run`): NATS
    /// on the shipped configuration with the shipped accounts for the region, each service as
    /// its own user; PostgreSQL with the roles of `rcn db-roles`, each service as its own role,
    /// the migrations run first by the migration role. The launcher itself keeps the
    /// provisioner and the superuser, for provisioning, the demo's accounts and tokens.
    PerService,
}

/// The services that get an identity of their own: every registered one.
fn service_names() -> Vec<&'static str> {
    crate::stack::Service::all()
        .iter()
        .map(|s| s.name)
        .collect()
}

/// The servers this launcher started itself (none when everything was configured).
#[derive(Default)]
pub struct OwnServers {
    nats: Option<NatsProcess>,
    postgres: Option<PostgresProcess>,
    /// The folder of the PostgreSQL roles' password files (mode 0700, files 0600), with
    /// [`Access::PerService`].
    role_passwords: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for OwnServers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnServers")
            .field("nats", &self.nats.as_ref().map(NatsProcess::url))
            .field(
                "postgres",
                &self.postgres.as_ref().map(PostgresProcess::url),
            )
            .finish()
    }
}

impl OwnServers {
    /// Starts what is missing and writes its address into `config`, every client with the
    /// administrative credentials ([`Access::Shared`]).
    pub async fn provide(config: &mut Config, data_dir: &Path) -> anyhow::Result<Self> {
        Self::provide_with(config, data_dir, Access::Shared).await
    }

    /// Starts what is missing and writes its address into `config`; with
    /// [`Access::PerService`] also each service's own credentials
    /// (`config.service_nats_auth`, `config.service_database_urls`).
    pub async fn provide_with(
        config: &mut Config,
        data_dir: &Path,
        access: Access,
    ) -> anyhow::Result<Self> {
        let mut own = Self::default();
        if config.nats_url.is_none() || config.database_url.is_none() {
            std::fs::create_dir_all(data_dir)
                .with_context(|| format!("cannot create data folder {}", data_dir.display()))?;
        }
        if config.nats_url.is_none() {
            let store = data_dir.join("nats");
            let nats = match access {
                Access::Shared => NatsProcess::start(&store, None).await,
                Access::PerService => {
                    NatsProcess::start_with_accounts(&store, None, &config.region).await
                }
            }
            .context("starting the launcher's own nats-server")?;
            config.nats_url = Some(nats.url());
            config.nats_auth = nats.auth();
            config.service_nats_auth = service_names()
                .into_iter()
                .filter_map(|name| Some((name.to_owned(), nats.user_auth(name)?)))
                .collect();
            own.nats = Some(nats);
        }
        if config.database_url.is_none() {
            let pg = PostgresProcess::start(&data_dir.join("postgres"), None)
                .await
                .context("starting the launcher's own PostgreSQL")?;
            config.database_url = Some(create_database(&pg.url()).await?);
            own.postgres = Some(pg);
            if access == Access::PerService {
                let dir = data_dir.join("postgres.roles");
                own_roles(config, &dir).await?;
                own.role_passwords = Some(dir);
            }
        }
        if config.pseudonym_key.is_none() {
            if own.nats.is_none() && own.postgres.is_none() {
                anyhow::bail!(
                    "RCN_PSEUDONYM_KEY is not set: with NATS_URL and DATABASE_URL configured, set it to the region's secret (at least 16 characters)"
                );
            }
            config.pseudonym_key = Some(local_key(data_dir)?);
        }
        if config.identity_signer.is_none()
            && config.identity_verifier.is_none()
            && (own.nats.is_some() || own.postgres.is_some())
        {
            config.set_identity_signer(local_identity_key(data_dir)?);
        }
        Ok(own)
    }

    /// Where the secrets of the servers this launcher started are kept (mode 0600; folders of
    /// them 0700), for `rcn servers` and `rcn run` to name: (variable for clients, path).
    pub fn secret_files(&self) -> Vec<(&'static str, &Path)> {
        let mut files = Vec::new();
        if let Some(n) = &self.nats {
            match n.token() {
                Some(_) => files.push(("NATS_TOKEN_FILE", n.secret_path())),
                None => files.push(("NATS_PASSWORDS_DIR", n.secret_path())),
            }
        }
        if let Some(p) = &self.postgres {
            files.push(("PGPASSFILE", p.pgpass_file()));
            files.push(("POSTGRES_PASSWORD_FILE", p.password_file()));
        }
        if let Some(dir) = &self.role_passwords {
            files.push(("POSTGRES_ROLE_PASSWORDS_DIR", dir));
        }
        files
    }

    /// The launcher's own nats-server, when it started one.
    pub fn nats(&self) -> Option<&NatsProcess> {
        self.nats.as_ref()
    }

    /// Stops the servers this launcher started, gracefully.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(n) = self.nats.as_mut() {
            n.stop().await?;
        }
        if let Some(p) = self.postgres.as_mut() {
            p.stop().await?;
        }
        Ok(())
    }
}

/// On the launcher's own PostgreSQL: creates or updates the roles of `rcn db-roles` (prefix
/// `rcn`) with generated passwords kept in `dir` (one file per role, mode 0600), runs every
/// service's migrations as the migration role (acting as the service's role, so what it makes
/// is the service's), and points each service at its own role.
async fn own_roles(config: &mut Config, dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("cannot make {} private", dir.display()))?;
    let prefix = crate::db_roles::PREFIX;
    let roles = rcn_runtime::db::SERVICE_SCHEMAS
        .iter()
        .map(|schema| crate::db_roles::role(prefix, schema))
        .chain([crate::db_roles::migrator(prefix)]);
    let passwords = roles
        .map(|role| Ok((role.clone(), crate::infra::secret_file(&dir.join(&role))?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let password = |role: &str| {
        passwords
            .iter()
            .find(|(r, _)| r == role)
            .map(|(_, p)| p.clone())
    };
    crate::db_roles::use_own_roles(config, prefix, &password).await?;
    let migrator = crate::db_roles::migrator(prefix);
    let migrator_url = rcn_runtime::db::with_user(
        config.database_url()?,
        &migrator,
        password(&migrator).as_deref(),
    );
    for service in crate::stack::Service::all() {
        let role = crate::db_roles::role(prefix, service.name);
        rcn_runtime::db::migrate_as(&migrator_url, service.name, &role, (service.migrations)())
            .await
            .with_context(|| format!("migrating {} as {migrator}", service.name))?;
    }
    Ok(())
}

/// Creates the `rcn` database on first start and returns its URL.
async fn create_database(admin_url: &str) -> anyhow::Result<String> {
    let mut admin = sqlx::PgConnection::connect(admin_url)
        .await
        .context("connecting to the launcher's PostgreSQL")?;
    let exists = sqlx::query_scalar!(
        r#"SELECT 1 AS "one!" FROM pg_database WHERE datname = $1"#,
        DATABASE
    )
    .fetch_optional(&mut admin)
    .await?;
    if exists.is_none() {
        // DDL naming a database: an identifier cannot be a bind parameter.
        sqlx::query(&format!("CREATE DATABASE {DATABASE}"))
            .execute(&mut admin)
            .await?;
    }
    Ok(rcn_runtime::db::with_database(admin_url, DATABASE))
}

/// The development identity key kept in the data folder (mode 0600), created on first use: the
/// gateway of this launcher signs with it and its services check with its public key.
fn local_identity_key(data_dir: &Path) -> anyhow::Result<IdentitySigner> {
    let path = data_dir.join("identity.key");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        return IdentitySigner::from_seed_hex(existing.trim())
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()));
    }
    let key = IdentitySigner::generate();
    write_secret(&path, &key.seed_hex())?;
    Ok(key)
}

/// Writes a secret to a new file only its owner may read (mode 0600 from the start).
pub fn write_secret(path: &Path, secret: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(secret.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The development key kept in the data folder, created on first use.
fn local_key(data_dir: &Path) -> anyhow::Result<PseudonymKey> {
    let path = data_dir.join("pseudonym.key");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        return Ok(PseudonymKey::new(existing.trim().to_owned()));
    }
    let key = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    std::fs::write(&path, &key).with_context(|| format!("cannot write {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(PseudonymKey::new(key))
}
