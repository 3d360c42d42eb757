//! A running intake for one test, and typed helpers to submit notices as a partner would.

use std::time::Duration;

use async_nats::jetstream::{self, message::StreamMessage};
use rcn_contracts::Subjects;
use rcn_contracts::intake::{Receipt, SubmitReply};
use rcn_contracts::notice::Problem;
use rcn_runtime::testing::{RunningService, TestEnv, eventually, stream_messages};
use serde_json::Value;
use sqlx::PgPool;

pub use rcn_runtime::testing::header;

/// How long a test waits for something asynchronous to happen.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// The example BSN: it must never come back in a rejection.
pub const EXAMPLE_BSN: &str = "123456782";

/// Intake running in a task, and a partner's NATS connection to talk to it.
pub struct TestIntake {
    pub nats: async_nats::Client,
    pub js: jetstream::Context,
    pub subjects: Subjects,
    pub db: PgPool,
    intake: RunningService,
    pub env: TestEnv,
}

impl TestIntake {
    /// Starts intake and waits until it answers requests.
    pub async fn spawn() -> Self {
        let env = TestEnv::new().await;
        // As `rcn provision` does before intake starts: intake only binds.
        env.provision(&[rcn_intake::nats_resources(&env.config).expect("intake's needs")])
            .await;
        let ctx = env.ctx("intake").await;
        let intake = RunningService::spawn("intake", |shutdown| rcn_intake::run(ctx, shutdown));
        let nats = env.ctx("partner").await.nats;
        let subjects = env.config.region.subjects();
        let db = env.db().await;
        let this = Self {
            js: jetstream::new(nats.clone()),
            nats,
            subjects,
            db,
            intake,
            env,
        };
        eventually(PATIENCE, "intake to answer", || async {
            this.nats
                .request(this.subjects.intake_submit(), "{}".into())
                .await
                .ok()
        })
        .await;
        this
    }

    /// Submits raw bytes and reads the reply.
    pub async fn submit(&self, body: &[u8]) -> SubmitReply {
        let reply = self
            .nats
            .request(self.subjects.intake_submit(), body.to_vec().into())
            .await
            .expect("intake answers");
        serde_json::from_slice(&reply.payload).expect("a SubmitReply")
    }

    /// Submits a notice given as JSON.
    pub async fn submit_notice(&self, notice: &Value) -> SubmitReply {
        self.submit(&serde_json::to_vec(notice).expect("serialises"))
            .await
    }

    /// Every message on the NOTICES stream, in order.
    pub async fn notices(&self) -> Vec<StreamMessage> {
        stream_messages(&self.js, &self.subjects.notices_stream()).await
    }

    /// Waits until the receipt ledger has recorded the notice.
    pub async fn wait_for_ledger(&self, notice_key: &str) {
        eventually(
            PATIENCE,
            &format!("the ledger to record {notice_key}"),
            || async {
                let n: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM intake.receipts WHERE notice_key = $1",
                )
                .bind(notice_key)
                .fetch_one(&self.db)
                .await
                .ok()?;
                (n == 1).then_some(())
            },
        )
        .await;
    }

    /// Stops intake and checks it shuts down cleanly.
    pub async fn stop(self) {
        self.intake.stop(PATIENCE).await;
    }
}

/// The example notice under another notice id.
pub fn notice_with_id(notice_id: &str) -> Value {
    let mut n = rcn_contracts::examples::release_notice_json();
    n["notice_id"] = notice_id.into();
    n
}

/// The receipt of an accepted notice; panics with the reply otherwise.
pub fn receipt(reply: SubmitReply) -> Receipt {
    match reply {
        SubmitReply::Accepted { receipt } => receipt,
        other => panic!("expected the notice to be accepted, got {other:?}"),
    }
}

/// The problems of a rejected notice; panics with the reply otherwise.
pub fn problems(reply: SubmitReply) -> Vec<Problem> {
    match reply {
        SubmitReply::Rejected { problems } => problems,
        other => panic!("expected the notice to be rejected, got {other:?}"),
    }
}

/// The problems of a notice refused as a conflict with an earlier one; panics otherwise.
pub fn conflict(reply: SubmitReply) -> Vec<Problem> {
    match reply {
        SubmitReply::Conflict { problems } => problems,
        other => panic!("expected a conflict with an earlier notice, got {other:?}"),
    }
}
