//! A running procesregie for one test, with typed helpers: ask its API as a person, feed it
//! casework's events as casework would publish them, and read what it published.

#![allow(dead_code)] // each test module uses its own part of the harness

use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::{self, message::StreamMessage};
use rcn_contracts::envelope::{ApiProblem, ApiReply};
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::{Gemeentecode, Subjects};
use rcn_runtime::headers;
use rcn_runtime::testing::{RunningService, TestEnv, eventually, stream_messages};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::PgPool;

/// How long a test waits for something asynchronous to happen.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// Procesregie running in a task.
pub struct TestProcesregie {
    pub nats: async_nats::Client,
    pub js: jetstream::Context,
    pub subjects: Subjects,
    pub db: PgPool,
    service: RunningService,
    _env: TestEnv,
}

impl TestProcesregie {
    pub async fn spawn() -> Self {
        Self::spawn_with(rcn_procesregie::Settings::default()).await
    }

    pub async fn spawn_with(settings: rcn_procesregie::Settings) -> Self {
        let env = TestEnv::new().await;
        let subjects = env.config.region.subjects();
        let nats = env.ctx("casework-stand-in").await.nats;
        let js = jetstream::new(nats.clone());
        // As `rcn provision` does before procesregie starts (CASES included, on which the test
        // publishes in casework's place).
        env.provision(
            &[rcn_procesregie::nats_resources(&env.config).expect("procesregie's needs")],
        )
        .await;
        let ctx = env.ctx("procesregie").await;
        let service = RunningService::spawn("procesregie", |shutdown| {
            rcn_procesregie::run(ctx, settings, shutdown)
        });
        let db = env.db().await;
        let me = Self {
            nats,
            js,
            subjects,
            db,
            service,
            _env: env,
        };
        // Ready once its endpoints answer.
        let subject = me.subjects.procesregie_api("settings");
        eventually(PATIENCE, "procesregie to answer", || async {
            // Signed anew for every try: a signature is good for one request.
            let h = me._env.signed(&rcn("rcn-1").to_header(), &subject, b"{}");
            me.nats
                .request_with_headers(subject.clone(), h, "{}".into())
                .await
                .ok()
        })
        .await;
        me
    }

    /// Calls `verb` as `who` and decodes the reply's envelope.
    pub async fn ask<Req: Serialize, Rep: DeserializeOwned>(
        &self,
        verb: &str,
        who: &Identity,
        body: &Req,
    ) -> Result<Rep, ApiProblem> {
        self.ask_raw(verb, who, serde_json::to_vec(body).expect("serialises"))
            .await
    }

    /// Calls `verb` with a raw body.
    pub async fn ask_raw<Rep: DeserializeOwned>(
        &self,
        verb: &str,
        who: &Identity,
        body: Vec<u8>,
    ) -> Result<Rep, ApiProblem> {
        // Signed as the gateway signs: procesregie believes an identity only so.
        let subject = self.subjects.procesregie_api(verb);
        let h = self._env.signed(&who.to_header(), &subject, &body);
        let reply = tokio::time::timeout(
            PATIENCE,
            self.nats.request_with_headers(subject, h, body.into()),
        )
        .await
        .expect("an answer in time")
        .expect("an answer");
        let envelope: ApiReply<Rep> = serde_json::from_slice(&reply.payload)
            .unwrap_or_else(|e| panic!("{verb}: {e}: {}", String::from_utf8_lossy(&reply.payload)));
        envelope.into_result()
    }

    /// Publishes a casework event on `subject` as casework's outbox would, with `Nats-Msg-Id`.
    pub async fn publish_case_event<T: Serialize>(&self, subject: String, msg_id: &str, event: &T) {
        let mut h = HeaderMap::new();
        h.insert(headers::MSG_ID, msg_id);
        let payload = serde_json::to_vec(event).expect("serialises");
        self.js
            .publish_with_headers(subject, h, payload.into())
            .await
            .expect("sent")
            .await
            .expect("stored by JetStream");
    }

    /// Waits until procesregie has acked every event on CASES.
    pub async fn wait_until_caught_up(&self) {
        let stream = self.subjects.cases_stream().name;
        eventually(
            PATIENCE,
            "procesregie to handle every CASES event",
            || async {
                let mut s = self.js.get_stream(&stream).await.ok()?;
                let last = s.info().await.ok()?.state.last_sequence;
                let info = s
                    .consumer_info(rcn_procesregie::watch::DURABLE)
                    .await
                    .ok()?;
                (info.ack_floor.stream_sequence >= last && info.num_ack_pending == 0).then_some(())
            },
        )
        .await;
    }

    /// The events on PROCESREGIE whose subject contains `part`, once there are `n`.
    pub async fn wait_for_events(&self, part: &str, n: usize) -> Vec<StreamMessage> {
        eventually(PATIENCE, &format!("{n} {part} event(s)"), || async {
            let m: Vec<_> = stream_messages(&self.js, &self.subjects.procesregie_stream())
                .await
                .into_iter()
                .filter(|m| m.subject.contains(part))
                .collect();
            (m.len() >= n).then_some(m)
        })
        .await
    }

    /// The configuration procesregie runs with (for its retention job on a pool of its own).
    pub fn config(&self) -> &rcn_runtime::Config {
        &self._env.config
    }

    pub async fn count(&self, sql: &str) -> i64 {
        rcn_runtime::testing::count(&self.db, sql).await
    }

    pub async fn stop(self) {
        self.service.stop(PATIENCE).await;
    }
}

pub fn gm(code: &str) -> Gemeentecode {
    Gemeentecode::parse(code).expect("a valid gemeentecode")
}

/// An RCN coordinator.
pub fn rcn(user: &str) -> Identity {
    Identity {
        user_id: user.into(),
        role: Role::RcnCoordinator,
        gemeentecode: None,
    }
}

/// A procesregisseur of the ZVH.
pub fn regisseur(user: &str) -> Identity {
    Identity {
        user_id: user.into(),
        role: Role::Procesregisseur,
        gemeentecode: None,
    }
}

/// Aftercare staff of municipality `code`.
pub fn staff(user: &str, code: &str) -> Identity {
    Identity {
        user_id: user.into(),
        role: Role::MunicipalStaff,
        gemeentecode: Some(gm(code)),
    }
}

use rcn_contracts::procesregie_api::{
    ApplicationForm, Criteria, Criterion, Partner, StandalonePerson,
};

fn yes(why: &str) -> Criterion {
    Criterion {
        met: true,
        explanation: Some(why.into()),
    }
}

/// A complete application for a person not in casework, living in `code`, to submit.
pub fn complete_form(code: &str) -> ApplicationForm {
    ApplicationForm {
        person: Some(StandalonePerson {
            bsn: Some(rcn_contracts::Bsn::parse("123456782").expect("a valid BSN")),
            family_name: "Jansen".into(),
            given_names: Some("Piet".into()),
            date_of_birth: Some("1990-04-01".parse().expect("a date")),
        }),
        gemeentecode: Some(gm(code)),
        reason: Some("Dakloos na detentie, schulden en verslaving; overlast in de buurt".into()),
        goal: Some("Woonplek, schuldhulp en behandeling binnen drie maanden".into()),
        criteria: Criteria {
            a: yes("wonen, financiën, verslaving"),
            b: yes("zorg (GGZ) en veiligheid (politie, reclassering)"),
            c: Criterion::default(),
            d: yes("herhaalde overlast in de wijk"),
        },
        partners: vec![Partner {
            organisation: "Reclassering Nederland".into(),
            contact: "J. de Vries".into(),
            phone: "088-8041000".into(),
            email: "j.devries@reclassering.example".into(),
        }],
        informed: Some(true),
        not_informed_why: None,
        submit: true,
        ..Default::default()
    }
}
