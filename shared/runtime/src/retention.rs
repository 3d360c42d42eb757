//! Retention on the service kit: how long each record class is kept ([`RetentionPolicy`], one
//! shared configuration, because every service and `rcn provision` must apply the same rules to
//! the same classes), the daily job that deletes what has expired in a service's own schema
//! ([`Job`], one transaction per batch, with an injectable [`Clock`]), and the deletion log it
//! writes (`retention_log`, in the service's own schema, no personal data).
//!
//! A service brings only its [`Rule`]s: which rows of its own tables belong to a class and have
//! expired at the given [`Cutoffs`]. This module must never reach into another service's schema,
//! and the log must never hold anything but a class, a rule, a count and a time.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Months, NaiveDate, Utc};
use futures::future::BoxFuture;
use rcn_contracts::StreamDef;
use rcn_contracts::retention::RecordClass;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::config::{ConfigError, duration, number};

/// How long each record class is kept, for one region. Read from the environment by
/// [`crate::Config`] (`RCN_RETENTION_*`); a bad value stops start-up naming the variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// `RCN_RETENTION_NOTICE_MONTHS` (6): months after the release date that a notice, its
    /// receipt and its routing decision are kept, unless linked to an open case.
    pub notice_months: u32,
    /// `RCN_RETENTION_CASE_YEARS` (2): years after closure that a case is kept.
    pub case_years: u32,
    /// `RCN_RETENTION_ICO_YEARS` (2): years after closure that an ICO (and its application) is
    /// kept.
    pub ico_years: u32,
    /// `RCN_RETENTION_ACCESS_LOG_YEARS` (3): years an access-log row is kept; must be more than
    /// the case and ICO years, so the log outlives what it covers.
    pub access_log_years: u32,
    /// `RCN_RETENTION_STREAM_MAX_AGE` (unset): a shorter limit on how long every stream keeps a
    /// message than the shortest retention it carries (never a longer one).
    pub stream_max_age: Option<Duration>,
    /// `RCN_RETENTION_INTERVAL` (24h): how often the job runs.
    pub interval: Duration,
    /// `RCN_RETENTION_BATCH` (500): root records removed per transaction.
    pub batch: i64,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self {
            notice_months: 6,
            case_years: 2,
            ico_years: 2,
            access_log_years: 3,
            stream_max_age: None,
            interval: Duration::from_secs(24 * 3600),
            batch: 500,
        }
    }
}

const DAY: Duration = Duration::from_secs(24 * 3600);

impl RetentionPolicy {
    /// Reads `RCN_RETENTION_*` through `get` (blank values already unset).
    pub fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let d = Self::default();
        let policy = Self {
            notice_months: number(get, "RCN_RETENTION_NOTICE_MONTHS", d.notice_months, 1..=120)?,
            case_years: number(get, "RCN_RETENTION_CASE_YEARS", d.case_years, 1..=50)?,
            ico_years: number(get, "RCN_RETENTION_ICO_YEARS", d.ico_years, 1..=50)?,
            access_log_years: number(
                get,
                "RCN_RETENTION_ACCESS_LOG_YEARS",
                d.access_log_years,
                1..=60,
            )?,
            stream_max_age: match get("RCN_RETENTION_STREAM_MAX_AGE") {
                None => None,
                Some(_) => Some(duration(
                    get,
                    "RCN_RETENTION_STREAM_MAX_AGE",
                    None,
                    DAY,
                    Duration::from_secs(1)..=Duration::from_secs(3650 * 24 * 3600),
                )?),
            },
            interval: duration(
                get,
                "RCN_RETENTION_INTERVAL",
                None,
                d.interval,
                Duration::from_secs(60)..=Duration::from_secs(7 * 24 * 3600),
            )?,
            batch: number(get, "RCN_RETENTION_BATCH", d.batch, 1..=100_000)?,
        };
        let covered = policy.case_years.max(policy.ico_years);
        if policy.access_log_years <= covered {
            return Err(ConfigError::Invalid {
                var: "RCN_RETENTION_ACCESS_LOG_YEARS",
                reason: format!(
                    "{} years does not outlive the cases and ICOs it covers ({covered} years): choose more",
                    policy.access_log_years
                ),
            });
        }
        Ok(policy)
    }

    /// The shortest time any record of `class` is kept, as a duration (months of 28 days and
    /// years of 365, so it never overstates); `None` for event ids, which have no period of their
    /// own (they are kept as long as the streams keep the messages).
    pub fn shortest(&self, class: RecordClass) -> Option<Duration> {
        let days = match class {
            RecordClass::Notice => 28 * u64::from(self.notice_months),
            RecordClass::Case => 365 * u64::from(self.case_years),
            RecordClass::Ico => 365 * u64::from(self.ico_years),
            RecordClass::AccessLog => 365 * u64::from(self.access_log_years),
            RecordClass::EventIds => return None,
        };
        Some(DAY * u32::try_from(days).unwrap_or(u32::MAX))
    }

    /// `def` keeping its messages no longer than the shortest retention of the classes it
    /// carries (nor than [`Self::stream_max_age`]); its duplicate window shrinks with it, as
    /// JetStream requires.
    pub fn cap(&self, mut def: StreamDef) -> StreamDef {
        let limit = def
            .carries
            .iter()
            .filter_map(|c| self.shortest(*c))
            .chain(self.stream_max_age)
            .min();
        if let Some(limit) = limit {
            def.max_age = def.max_age.min(limit);
            def.duplicate_window = def.duplicate_window.min(def.max_age);
        }
        def
    }

    /// Where each class's clock stands at `now`.
    pub fn cutoffs(&self, now: DateTime<Utc>) -> Cutoffs {
        let years = |y: u32| Months::new(12 * y);
        let before = |m: Months| {
            now.checked_sub_months(m)
                .unwrap_or(DateTime::<Utc>::MIN_UTC)
        };
        Cutoffs {
            now,
            released_before: before(Months::new(self.notice_months)).date_naive(),
            case_closed_before: before(years(self.case_years)),
            ico_closed_before: before(years(self.ico_years)),
            access_logged_before: before(years(self.access_log_years)),
            undeliverable_before: DateTime::<Utc>::MIN_UTC,
        }
    }
}

/// The moment before which each class has expired, for one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cutoffs {
    pub now: DateTime<Utc>,
    /// A notice whose release date is before this day has expired (unless linked to an open
    /// case).
    pub released_before: NaiveDate,
    /// A case closed before this moment has expired.
    pub case_closed_before: DateTime<Utc>,
    /// An ICO closed before this moment has expired.
    pub ico_closed_before: DateTime<Utc>,
    /// An access-log row written before this moment has expired.
    pub access_logged_before: DateTime<Utc>,
    /// A message of a stream the service consumes that was stored before this moment has been
    /// dropped by the stream (its maximum age has passed), so it can never be delivered again:
    /// the id of a message applied before it is no longer needed to recognise a redelivery. The
    /// job sets it from the streams it was told the service consumes ([`Job::consuming`]);
    /// without them it is the earliest moment, so nothing counts as undeliverable.
    pub undeliverable_before: DateTime<Utc>,
}

/// Where "now" comes from: the system clock in production, a settable one in tests.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until set, for tests that let time pass without waiting.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    pub fn new(now: DateTime<Utc>) -> Self {
        Self(Arc::new(Mutex::new(now)))
    }

    pub fn set(&self, now: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = now;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Removes up to `limit` expired root records of one class (with what hangs on them) on the
/// connection, inside the job's transaction, and says how many root records it removed. `open`
/// lists the episodes (episode pseudonyms) linked to an open case, which the rule must keep
/// whatever their dates: filled for a rule with [`Rule::candidates`], empty for the others.
pub type RuleFn = for<'c> fn(
    &'c mut PgConnection,
    Cutoffs,
    &'c [String],
    i64,
) -> BoxFuture<'c, Result<u64, sqlx::Error>>;

/// The episodes whose records have expired by date alone (before the open-case exception), for
/// a rule to ask about: every one, not a batch, so the job asks once per run.
pub type CandidatesFn =
    for<'c> fn(&'c mut PgConnection, Cutoffs) -> BoxFuture<'c, Result<Vec<String>, sqlx::Error>>;

/// One retention rule of a service.
#[derive(Clone, Copy)]
pub struct Rule {
    pub class: RecordClass,
    /// What the rule removes and when, in words for the privacy officer (no personal data):
    /// `receipts 6 months after release, no open case`.
    pub rule: &'static str,
    /// For a rule that keeps what is linked to an open case (notices in intake and the router,
    /// which do not know casework's cases): its expired episodes, which the job asks the job's
    /// [`OpenCases`] about before the rule runs. When nobody answers, the rule is skipped for
    /// this run, never applied without the exception.
    pub candidates: Option<CandidatesFn>,
    pub apply: RuleFn,
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rule")
            .field("class", &self.class)
            .field("rule", &self.rule)
            .finish_non_exhaustive()
    }
}

/// The append-only logs every service that shows personal data keeps in its own schema: its
/// `access_log` (reads), its `privacy_questions` (the privacy officer's questions), and the
/// monitor's `dead_letter_log` (its dead-letter desk's access log: who inspected, replayed or
/// discarded a letter, with the letter's person pseudonyms). All go
/// `RCN_RETENTION_ACCESS_LOG_YEARS` after they were written, by the same statement, so the
/// services share these rules rather than each writing them out. Each table has an `id` key and
/// an `at` time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendOnlyLog {
    AccessLog,
    PrivacyQuestions,
    DeadLetterLog,
}

impl AppendOnlyLog {
    fn table(self) -> &'static str {
        match self {
            Self::AccessLog => "access_log",
            Self::PrivacyQuestions => "privacy_questions",
            Self::DeadLetterLog => "dead_letter_log",
        }
    }

    /// The rule that deletes this log's expired rows (class `access_log`).
    pub fn rule(self) -> Rule {
        match self {
            Self::AccessLog => Rule {
                class: RecordClass::AccessLog,
                rule: "access-log rows, years after they were written",
                candidates: None,
                apply: |conn, c, _, limit| {
                    Box::pin(Self::AccessLog.delete_expired(conn, c.access_logged_before, limit))
                },
            },
            Self::PrivacyQuestions => Rule {
                class: RecordClass::AccessLog,
                rule: "privacy questions, years after they were asked",
                candidates: None,
                apply: |conn, c, _, limit| {
                    Box::pin(Self::PrivacyQuestions.delete_expired(
                        conn,
                        c.access_logged_before,
                        limit,
                    ))
                },
            },
            Self::DeadLetterLog => Rule {
                class: RecordClass::AccessLog,
                rule: "dead-letter desk log rows, years after they were written",
                candidates: None,
                apply: |conn, c, _, limit| {
                    Box::pin(Self::DeadLetterLog.delete_expired(
                        conn,
                        c.access_logged_before,
                        limit,
                    ))
                },
            },
        }
    }

    /// Deletes up to `limit` rows written before `before`, oldest first. The table's append-only
    /// trigger lets this transaction, and only it, delete (`SET LOCAL rcn.retention = 'on'`; each
    /// service's migrations install that trigger). Runtime SQL: the table is an identifier, named
    /// only from this enum, never from input.
    async fn delete_expired(
        self,
        conn: &mut PgConnection,
        before: DateTime<Utc>,
        limit: i64,
    ) -> Result<u64, sqlx::Error> {
        let table = self.table();
        sqlx::query("SET LOCAL rcn.retention = 'on'")
            .execute(&mut *conn)
            .await?;
        let removed = sqlx::query(&format!(
            "DELETE FROM {table} WHERE id IN (
                 SELECT id FROM {table} WHERE at < $1 ORDER BY at LIMIT $2)"
        ))
        .bind(before)
        .bind(limit)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        sqlx::query("SET LOCAL rcn.retention = 'off'")
            .execute(&mut *conn)
            .await?;
        Ok(removed)
    }
}

/// What one rule removed (or, in a dry run, would remove) in one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    pub class: RecordClass,
    pub rule: &'static str,
    pub count: u64,
    /// The rule did not run: it keeps what is linked to an open case, and whether cases are open
    /// could not be learnt (casework did not answer). It runs again at the next interval.
    pub skipped: bool,
}

/// What the deletion log says of a rule that was skipped in a run.
pub const SKIPPED: &str = " (skipped: casework did not say which cases are open)";

/// Which episodes still have an open case: casework knows, intake and the router ask it at
/// retention time ([`AskCasework`]).
pub trait OpenCases: Send + Sync + 'static {
    /// The episodes among `episode_keys` whose case is open; an error (in words, no personal
    /// data) when that cannot be learnt now.
    fn open_among<'a>(
        &'a self,
        episode_keys: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<String>, String>>;
}

/// Asks casework over request-reply (`open_episodes`, a service-to-service endpoint), a chunk of
/// episodes at a time.
///
/// Why ask at retention time rather than follow casework's events into a table of our own: the
/// answer is casework's own state at the moment of deleting, so opening, moving between
/// municipalities, reopening and closing cannot be mirrored wrongly, and nothing new must be
/// provisioned or migrated; the price is that a run must skip (never delete) the notice rules
/// while casework does not answer, which a daily job can afford.
#[derive(Debug, Clone)]
pub struct AskCasework {
    pub nats: async_nats::Client,
    /// `rcn.<region>.api.casework.open_episodes`.
    pub subject: String,
    pub timeout: Duration,
}

impl AskCasework {
    pub fn new(nats: async_nats::Client, subjects: &rcn_contracts::Subjects) -> Self {
        Self {
            nats,
            subject: subjects.casework_api(rcn_contracts::casework_api::OPEN_EPISODES_VERB),
            timeout: Duration::from_secs(10),
        }
    }

    async fn ask(&self, chunk: &[String]) -> Result<Vec<String>, String> {
        use rcn_contracts::casework_api::{OpenEpisodesReply, OpenEpisodesRequest};
        let body = serde_json::to_vec(&OpenEpisodesRequest {
            episode_keys: chunk.to_vec(),
        })
        .map_err(|e| format!("cannot write the question: {e}"))?;
        let answer = tokio::time::timeout(
            self.timeout,
            self.nats.request(self.subject.clone(), body.into()),
        )
        .await
        .map_err(|_| "casework did not answer in time".to_owned())?
        .map_err(|e| format!("casework did not answer: {e}"))?;
        serde_json::from_slice::<rcn_contracts::envelope::ApiReply<OpenEpisodesReply>>(
            &answer.payload,
        )
        .map_err(|_| "casework's answer could not be read".to_owned())?
        .into_result()
        .map(|r| r.open)
        .map_err(|p| format!("casework refused: {} ({})", p.title, p.status))
    }
}

impl OpenCases for AskCasework {
    fn open_among<'a>(
        &'a self,
        episode_keys: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<String>, String>> {
        Box::pin(async move {
            let mut open = Vec::new();
            for chunk in episode_keys.chunks(rcn_contracts::casework_api::MAX_OPEN_EPISODES_ASKED) {
                open.extend(self.ask(chunk).await?);
            }
            Ok(open)
        })
    }
}

/// One line of a service's deletion log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LogEntry {
    pub run_id: Uuid,
    pub run_at: DateTime<Utc>,
    pub class: String,
    pub rule: String,
    pub removed: i64,
}

/// The deletion log table's DDL, idempotent; installed with the outbox in every service schema.
pub const RETENTION_LOG_SQL: &str = include_str!("sql/retention_log.sql");

/// Creates the deletion log table in the connection's schema. Idempotent; run at start-up.
pub async fn install(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::Executor::execute(&mut *conn, RETENTION_LOG_SQL).await?;
    Ok(())
}

/// A service's retention job: its rules over its own pool.
#[derive(Clone)]
pub struct Job {
    pub service: &'static str,
    pub pool: PgPool,
    pub policy: RetentionPolicy,
    pub rules: Vec<Rule>,
    pub clock: Arc<dyn Clock>,
    /// Who says which episodes have an open case, for the rules with [`Rule::candidates`];
    /// without it those rules are skipped.
    pub open_cases: Option<Arc<dyn OpenCases>>,
    /// The longest a stream the service consumes keeps a message
    /// ([`crate::provision::Resources::longest_consumed_max_age`]), for
    /// [`Cutoffs::undeliverable_before`]; `None` when not told (then no id is old enough).
    pub consumed_max_age: Option<Duration>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("service", &self.service)
            .field("rules", &self.rules)
            .finish_non_exhaustive()
    }
}

impl Job {
    pub fn new(
        service: &'static str,
        pool: PgPool,
        policy: RetentionPolicy,
        rules: Vec<Rule>,
    ) -> Self {
        Self {
            service,
            pool,
            policy,
            rules,
            clock: Arc::new(SystemClock),
            open_cases: None,
            consumed_max_age: None,
        }
    }

    /// The same job knowing which streams the service consumes (`resources`, as `rcn provision`
    /// makes them, capped by the same retention policy): a message older than the longest of
    /// their maximum ages can no longer be delivered, so the rules may forget its id.
    pub fn consuming(mut self, resources: &crate::provision::Resources) -> Self {
        self.consumed_max_age = resources.longest_consumed_max_age();
        self
    }

    /// Where each class's clock stands now, by the job's clock.
    fn cutoffs(&self) -> Cutoffs {
        let mut cutoffs = self.policy.cutoffs(self.clock.now());
        if let Some(max_age) = self
            .consumed_max_age
            .and_then(|d| chrono::Duration::from_std(d).ok())
        {
            cutoffs.undeliverable_before = cutoffs
                .now
                .checked_sub_signed(max_age)
                .unwrap_or(DateTime::<Utc>::MIN_UTC);
        }
        cutoffs
    }

    /// The same job asking `open_cases` which episodes have an open case.
    pub fn with_open_cases(mut self, open_cases: Arc<dyn OpenCases>) -> Self {
        self.open_cases = Some(open_cases);
        self
    }

    /// The episodes `rule` must keep because their case is open: none for a rule without
    /// candidates; `Ok(Err(why))` when the answer cannot be had (the rule is then skipped).
    async fn open_episodes(
        &self,
        rule: &Rule,
        cutoffs: Cutoffs,
    ) -> Result<Result<Vec<String>, String>, sqlx::Error> {
        let Some(candidates) = rule.candidates else {
            return Ok(Ok(Vec::new()));
        };
        let Some(open_cases) = &self.open_cases else {
            return Ok(Err("nobody to ask which cases are open".into()));
        };
        let mut conn = self.pool.acquire().await?;
        let expired = candidates(&mut conn, cutoffs).await?;
        drop(conn);
        if expired.is_empty() {
            return Ok(Ok(Vec::new()));
        }
        Ok(open_cases.open_among(&expired).await)
    }

    /// Notes in the log, in the same words as [`Removed::skipped`], that `rule` was skipped.
    async fn log_skipped(
        &self,
        run_id: Uuid,
        cutoffs: Cutoffs,
        rule: &Rule,
        why: &str,
    ) -> Result<Removed, sqlx::Error> {
        tracing::warn!(service = self.service, class = %rule.class, rule = rule.rule, reason = why,
            "retention rule skipped: whether cases are open is not known now");
        sqlx::query!(
            "INSERT INTO retention_log (run_id, run_at, class, rule, removed)
             VALUES ($1, $2, $3, $4, 0) ON CONFLICT (run_id, class, rule) DO NOTHING",
            run_id,
            cutoffs.now,
            rule.class.as_str(),
            format!("{}{SKIPPED}", rule.rule),
        )
        .execute(&self.pool)
        .await?;
        Ok(Removed {
            class: rule.class,
            rule: rule.rule,
            count: 0,
            skipped: true,
        })
    }

    /// The same job on another clock (tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Removes everything expired now, one transaction per batch of each rule; each batch adds
    /// its count to this run's line in the deletion log in the same transaction, so the log
    /// never claims more or less than was removed, even when the run is cut short.
    pub async fn run_once(&self) -> Result<Vec<Removed>, sqlx::Error> {
        let run_id = Uuid::now_v7();
        let cutoffs = self.cutoffs();
        let mut report = Vec::new();
        for rule in &self.rules {
            let open = match self.open_episodes(rule, cutoffs).await? {
                Ok(open) => open,
                Err(why) => {
                    report.push(self.log_skipped(run_id, cutoffs, rule, &why).await?);
                    continue;
                }
            };
            let mut total = 0;
            loop {
                let mut tx = self.pool.begin().await?;
                let n = (rule.apply)(&mut tx, cutoffs, &open, self.policy.batch).await?;
                let removed = i64::try_from(n).unwrap_or(i64::MAX);
                sqlx::query!(
                    "INSERT INTO retention_log (run_id, run_at, class, rule, removed)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (run_id, class, rule)
                     DO UPDATE SET removed = retention_log.removed + EXCLUDED.removed",
                    run_id,
                    cutoffs.now,
                    rule.class.as_str(),
                    rule.rule,
                    removed,
                )
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                total += n;
                if removed < self.policy.batch {
                    break;
                }
            }
            if total > 0 {
                tracing::info!(service = self.service, class = %rule.class, rule = rule.rule, removed = total, "retention removed expired records");
            }
            report.push(Removed {
                class: rule.class,
                rule: rule.rule,
                count: total,
                skipped: false,
            });
        }
        Ok(report)
    }

    /// What [`Self::run_once`] would remove now, without removing it: the same statements in one
    /// transaction that is rolled back, so the counts are the real run's own.
    pub async fn dry_run(&self) -> Result<Vec<Removed>, sqlx::Error> {
        let cutoffs = self.cutoffs();
        let mut opens = Vec::new();
        for rule in &self.rules {
            opens.push(self.open_episodes(rule, cutoffs).await?);
        }
        let mut tx = self.pool.begin().await?;
        let mut report = Vec::new();
        for (rule, open) in self.rules.iter().zip(opens) {
            let Ok(open) = open else {
                report.push(Removed {
                    class: rule.class,
                    rule: rule.rule,
                    count: 0,
                    skipped: true,
                });
                continue;
            };
            let mut total = 0;
            loop {
                let n = (rule.apply)(&mut tx, cutoffs, &open, self.policy.batch).await?;
                total += n;
                if i64::try_from(n).unwrap_or(i64::MAX) < self.policy.batch {
                    break;
                }
            }
            report.push(Removed {
                class: rule.class,
                rule: rule.rule,
                count: total,
                skipped: false,
            });
        }
        tx.rollback().await?;
        Ok(report)
    }

    /// Runs the job every [`RetentionPolicy::interval`] until `shutdown`, the first time one
    /// minute after start-up (so a restart loop does not hammer the database). A failed run is
    /// logged and tried again at the next interval.
    pub async fn run_daily(self, shutdown: crate::CancellationToken) {
        let mut wait = Duration::from_secs(60).min(self.policy.interval);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(wait) => {}
            }
            if let Err(e) = self.run_once().await {
                tracing::error!(service = self.service, error = %e, "retention run failed; trying again at the next interval");
            }
            wait = self.policy.interval;
        }
    }
}

/// The retention job of the service owning `schema`, on a pool of its own (as `rcn retention`
/// runs it, outside the service): the schema is migrated first, as the service would.
pub async fn open_job(
    config: &crate::Config,
    service: &'static str,
    migrator: &sqlx::migrate::Migrator,
    rules: Vec<Rule>,
) -> anyhow::Result<Job> {
    let url = config.database_url_for(service)?;
    let pool = crate::db::open(url, service, 2, migrator, Duration::from_secs(10)).await?;
    Ok(Job::new(service, pool, config.retention.clone(), rules))
}

/// [`open_job`] for a service whose notice rules ask casework which cases are open (intake, the
/// router): it connects to NATS as the service (`rcn-<service>`, its own user). When NATS cannot
/// be reached the job still runs, and those rules are skipped.
pub async fn open_job_asking_casework(
    config: &crate::Config,
    service: &'static str,
    migrator: &sqlx::migrate::Migrator,
    rules: Vec<Rule>,
) -> anyhow::Result<Job> {
    let job = open_job(config, service, migrator, rules).await?;
    let url = config.nats_url()?;
    match crate::nats::connect_as(
        url,
        config.nats_auth_for(service),
        &format!("rcn-{service}"),
        Duration::from_secs(5),
    )
    .await
    {
        Ok(nats) => {
            Ok(job.with_open_cases(Arc::new(AskCasework::new(nats, &config.region.subjects()))))
        }
        Err(e) => {
            tracing::warn!(service, error = %e, "no NATS: the rules that keep notices of open cases are skipped");
            Ok(job)
        }
    }
}

/// The `retention_log` endpoint of a service's API (`subject`): the newest lines of its own
/// deletion log, for the privacy officer and the administrator only (others: 403). The log holds
/// no personal data, so reading it is not an access-log event.
pub fn log_endpoint(
    service: &'static str,
    subject: String,
    pool: PgPool,
) -> crate::endpoint::Endpoint {
    use rcn_contracts::envelope::ApiProblem;
    use rcn_contracts::identity::Role;
    use rcn_contracts::retention::{RetentionLogLine, RetentionLogReply, RetentionLogRequest};
    crate::endpoint::Endpoint::new(
        rcn_contracts::retention::RETENTION_LOG_VERB,
        subject,
        crate::endpoint::Caller::Person,
        move |r: crate::endpoint::Request<RetentionLogRequest>| {
            let pool = pool.clone();
            async move {
                let who = r.person()?;
                if !matches!(who.role, Role::PrivacyOfficer | Role::Administrator) {
                    return Err(ApiProblem::forbidden(
                        "only the privacy officer and the administrator may read the deletion log",
                    ));
                }
                let entries = log(&pool, i64::from(r.body.lines())).await.map_err(|e| {
                    tracing::error!(service, error = %e, "cannot read the deletion log");
                    ApiProblem::unavailable("the deletion log cannot be read now; ask again")
                })?;
                let lines = entries
                    .into_iter()
                    .map(|e| {
                        let class = RecordClass::parse(&e.class).ok_or_else(|| {
                            tracing::error!(
                                service,
                                "the deletion log holds a class it does not know"
                            );
                            ApiProblem::unavailable("the deletion log cannot be read now")
                        })?;
                        Ok(RetentionLogLine {
                            run_id: e.run_id,
                            run_at: e.run_at,
                            class,
                            rule: e.rule,
                            removed: e.removed,
                        })
                    })
                    .collect::<Result<Vec<_>, ApiProblem>>()?;
                Ok(RetentionLogReply {
                    service: service.to_owned(),
                    lines,
                })
            }
        },
    )
}

/// The newest `limit` lines of the deletion log on `pool` (the service's own schema).
pub async fn log(pool: &PgPool, limit: i64) -> Result<Vec<LogEntry>, sqlx::Error> {
    sqlx::query_as!(
        LogEntry,
        "SELECT run_id, run_at, class, rule, removed FROM retention_log
         ORDER BY run_at DESC, run_id DESC, class, rule LIMIT $1",
        limit
    )
    .fetch_all(pool)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{lookup_in, non_blank};

    fn read(pairs: &[(&str, &str)]) -> Result<RetentionPolicy, ConfigError> {
        RetentionPolicy::from_lookup(&non_blank(lookup_in(pairs)))
    }

    #[test]
    fn defaults_follow_the_domain_notes() {
        let p = read(&[]).unwrap();
        assert_eq!(p, RetentionPolicy::default());
        assert_eq!((p.notice_months, p.case_years, p.ico_years), (6, 2, 2));
        assert!(p.access_log_years > p.case_years.max(p.ico_years));
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        for (var, value) in [
            ("RCN_RETENTION_NOTICE_MONTHS", "six"),
            ("RCN_RETENTION_NOTICE_MONTHS", "0"),
            ("RCN_RETENTION_CASE_YEARS", "-1"),
            ("RCN_RETENTION_ICO_YEARS", "100"),
            ("RCN_RETENTION_STREAM_MAX_AGE", "forever"),
            ("RCN_RETENTION_INTERVAL", "1s"),
            ("RCN_RETENTION_BATCH", "0"),
        ] {
            let e = read(&[(var, value)]).unwrap_err().to_string();
            assert!(e.starts_with(&format!("{var} is invalid")), "{var}: {e}");
        }
        let e = read(&[("RCN_RETENTION_CASE_YEARS", "3")])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("RCN_RETENTION_ACCESS_LOG_YEARS is invalid"),
            "the access log must outlive the cases: {e}"
        );
        assert!(
            read(&[
                ("RCN_RETENTION_CASE_YEARS", "3"),
                ("RCN_RETENTION_ACCESS_LOG_YEARS", "4")
            ])
            .is_ok()
        );
    }

    #[test]
    fn cutoffs_count_calendar_months_and_years_back_from_now() {
        let p = RetentionPolicy::default();
        let now = "2027-08-31T10:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let c = p.cutoffs(now);
        assert_eq!(
            c.released_before,
            NaiveDate::from_ymd_opt(2027, 2, 28).unwrap()
        );
        assert_eq!(
            c.case_closed_before,
            "2025-08-31T10:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            c.access_logged_before,
            "2024-08-31T10:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }

    #[tokio::test]
    async fn an_event_id_is_needed_as_long_as_the_longest_consumed_stream_keeps_its_message() {
        use crate::consumer::ConsumerSpec;
        use crate::provision::Resources;
        let subjects = rcn_contracts::Region::parse("test").unwrap().subjects();
        let consuming = |policy: &RetentionPolicy, streams: &[StreamDef]| {
            streams
                .iter()
                .fold(Resources::new("test").retention(policy), |r, stream| {
                    let filter = stream.subjects[0].clone();
                    r.consumer(ConsumerSpec::new(
                        &subjects,
                        stream.clone(),
                        format!("test-{}", stream.name),
                        filter,
                        "test",
                    ))
                })
        };
        let d = RetentionPolicy::default();
        assert_eq!(consuming(&d, &[]).longest_consumed_max_age(), None);
        // CASES keeps 90 days, NOTICES 30: the longer counts, and a copy dead-lettered on its
        // last day can be replayed for the 90 days the DLQ keeps it.
        let both = [subjects.notices_stream(), subjects.cases_stream()];
        assert_eq!(
            consuming(&d, &both).longest_consumed_max_age(),
            Some(DAY * 180)
        );
        // Capped as `rcn provision` caps them: by the notices' month and by the stream limit.
        let month = RetentionPolicy {
            notice_months: 1,
            ..RetentionPolicy::default()
        };
        assert_eq!(
            consuming(&month, &both).longest_consumed_max_age(),
            Some(DAY * 28 * 2)
        );
        let hours = RetentionPolicy {
            stream_max_age: Some(Duration::from_secs(3600)),
            ..RetentionPolicy::default()
        };
        let resources = consuming(&hours, &both);
        assert_eq!(
            resources.longest_consumed_max_age(),
            Some(Duration::from_secs(2 * 3600))
        );
        assert_eq!(d.shortest(RecordClass::EventIds), None);

        // The job's cutoff: that long before its now; without streams, nothing is old enough.
        let now = "2027-08-31T10:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let pool = sqlx::postgres::PgPoolOptions::new()
            .connect_lazy("postgres://nobody@127.0.0.1:1/none")
            .unwrap();
        let job =
            Job::new("test", pool, hours, Vec::new()).with_clock(Arc::new(ManualClock::new(now)));
        assert_eq!(job.cutoffs().undeliverable_before, DateTime::<Utc>::MIN_UTC);
        let job = job.consuming(&resources);
        assert_eq!(
            job.cutoffs().undeliverable_before,
            "2027-08-31T08:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }

    #[test]
    fn a_stream_keeps_messages_no_longer_than_the_shortest_retention_it_carries() {
        let subjects = rcn_contracts::Region::parse("test").unwrap().subjects();
        let p = RetentionPolicy {
            notice_months: 1,
            ..RetentionPolicy::default()
        };
        // 30 days by default, but a one-month notice retention is 28 days at the shortest.
        assert_eq!(p.cap(subjects.notices_stream()).max_age, DAY * 28);
        assert_eq!(p.cap(subjects.cases_stream()).max_age, DAY * 28);
        // Longer retentions leave the stream's own, shorter limit alone.
        let d = RetentionPolicy::default();
        assert_eq!(d.cap(subjects.cases_stream()), subjects.cases_stream());
        let short = RetentionPolicy {
            stream_max_age: Some(Duration::from_secs(5)),
            ..RetentionPolicy::default()
        };
        let capped = short.cap(subjects.routing_stream());
        assert_eq!(capped.max_age, Duration::from_secs(5));
        assert_eq!(capped.duplicate_window, Duration::from_secs(5));
    }
}
