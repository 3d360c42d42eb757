//! What a running service is handed: configuration and a NATS connection. The caller (a thin
//! main, the launcher or a test) builds it, so every service starts the same way everywhere.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use rcn_contracts::Subjects;
use sqlx::PgPool;
use sqlx::migrate::Migrator;

use crate::config::Config;

/// The context of one service instance.
#[derive(Clone)]
pub struct Ctx {
    pub config: Arc<Config>,
    pub nats: async_nats::Client,
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("region", &self.config.region)
            .finish_non_exhaustive()
    }
}

/// How long a starting service waits for NATS and PostgreSQL before giving up.
const PATIENCE: Duration = Duration::from_secs(30);

impl Ctx {
    /// Connects to NATS as `name` (shown by `nats server report connections`), with the replies
    /// under the inbox prefix of that name (`rcn-intake` → `_INBOX_intake`, the only inbox its
    /// NATS user may read; see [`crate::nats::inbox_prefix`]).
    pub async fn connect(config: Config, name: &str) -> anyhow::Result<Self> {
        let nats =
            crate::nats::connect_as(config.nats_url()?, &config.nats_auth, name, PATIENCE).await?;
        Ok(Self {
            config: Arc::new(config),
            nats,
        })
    }

    pub fn subjects(&self) -> Subjects {
        self.config.region.subjects()
    }

    pub fn jetstream(&self) -> jetstream::Context {
        jetstream::new(self.nats.clone())
    }

    /// The service's own database pool (schema `schema`), migrated, on the service's own URL
    /// (`RCN_<SCHEMA>_DATABASE_URL`, else `DATABASE_URL`).
    pub async fn database(&self, schema: &str, migrator: &Migrator) -> anyhow::Result<PgPool> {
        let url = self.config.database_url_for(schema)?;
        Ok(crate::db::open(url, schema, self.config.db_pool_size, migrator, PATIENCE).await?)
    }
}
