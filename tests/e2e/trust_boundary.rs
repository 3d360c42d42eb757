//! The trust boundary on NATS (issue 12), proven against the real configuration: a nats-server of
//! this test's own runs the shipped accounts file (`services/rcn/deploy/nats/accounts.conf`),
//! `rcn provision` runs as the provisioner, and every service runs as its own NATS user, as
//! compose runs them. A notice flows from the partner API to a case; then, as each service user,
//! the attacks of the issue are tried, and each must be refused by the server with a permission
//! violation, changing nothing.

use std::time::Duration;

use async_nats::jetstream;
use rcn::stack::{Service, Stack};
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::{Gemeentecode, Region};
use rcn_runtime::testing::{RunningService, TestEnv, eventually};
use rcn_runtime::{CancellationToken, Config, nats_auth::NatsAuth};
use tokio::sync::mpsc;

use crate::partner_nats_permissions::{PASSWORDS, ShippedAccountsServer, connect};

const PATIENCE: Duration = Duration::from_secs(30);

/// The password the test server gives `user` (see [`PASSWORDS`]).
fn password(user: &str) -> &'static str {
    let var = format!(
        "RCN_NATS_{}_PASSWORD",
        user.to_ascii_uppercase().replace('-', "_")
    );
    PASSWORDS
        .iter()
        .find(|(v, _)| *v == var)
        .map(|(_, p)| *p)
        .unwrap_or_else(|| panic!("no password for {user}"))
}

/// The test environment's settings on the test server, in Kennemerland (the region the accounts
/// file is written for), as NATS user `user`.
fn as_user(env: &TestEnv, url: &str, user: &str) -> Config {
    let mut config = env.config.clone();
    config.nats_url = Some(url.to_owned());
    config.nats_auth = NatsAuth::from_lookup(|k| match k {
        "NATS_USER" => Some(user.to_owned()),
        "NATS_PASSWORD" => Some(password(user).to_owned()),
        _ => None,
    })
    .expect("valid credentials");
    config.region = Region::parse("kennemerland").expect("valid region");
    config
}

/// The whole stack on the shipped accounts, each service as its own user.
struct Deployment {
    server: ShippedAccountsServer,
    env: TestEnv,
    http: std::net::SocketAddr,
    db: sqlx::PgPool,
    services: Vec<RunningService>,
    /// The provisioner's JetStream, to look at what the attacks left.
    admin: jetstream::Context,
    /// The provisioner's connection, as an operator's `nats micro ls` uses it.
    operator: async_nats::Client,
}

impl Deployment {
    async fn start() -> Self {
        let server = ShippedAccountsServer::start().await;
        let env = TestEnv::new().await;
        let provisioner = as_user(&env, &server.url, "provisioner");
        rcn::nats_provision::provision(&provisioner, &Service::all())
            .await
            .expect("`rcn provision` as the provisioner");
        let lookup = |var: &str| (var == "RCN_HTTP_ADDR").then(|| "127.0.0.1:0".to_owned());
        let mut services = Vec::new();
        let mut http = None;
        for service in Service::all() {
            let config = as_user(&env, &server.url, service.name);
            let shutdown = CancellationToken::new();
            let prepared = Stack::prepare(&[service], &lookup).expect("default settings");
            let stack =
                tokio::time::timeout(PATIENCE, Stack::start(&config, prepared, shutdown.clone()))
                    .await
                    .unwrap_or_else(|_| panic!("{} starts in time", service.name))
                    .unwrap_or_else(|e| panic!("{} starts as its own user: {e:#}", service.name));
            http = http.or(stack.http_addr);
            services.push(RunningService::spawn_stopped_by(
                service.name,
                shutdown,
                stack.wait(),
            ));
        }
        let admin_client = rcn_runtime::nats::connect_as(
            &server.url,
            &provisioner.nats_auth,
            "rcn-provision",
            PATIENCE,
        )
        .await
        .expect("the provisioner connects");
        let db = env.db().await;
        Self {
            server,
            env,
            http: http.expect("the gateway runs"),
            db,
            services,
            admin: jetstream::new(admin_client.clone()),
            operator: admin_client,
        }
    }

    /// Posts the example notice (with `notice_id`) over the partner API and waits for its case.
    async fn notice_becomes_a_case(&self, notice_id: &str) -> uuid::Uuid {
        let url = self.env.config.database_url().expect("set");
        let pool = rcn_gateway::tokens::open(url)
            .await
            .expect("gateway schema");
        let token = rcn_gateway::tokens::issue(
            &pool,
            "PI-HAARLEM",
            None,
            rcn_gateway::tokens::Actor::CommandLine,
            None,
        )
        .await
        .expect("a token")
        .token;
        let mut notice = rcn_contracts::examples::release_notice_json();
        notice["notice_id"] = notice_id.into();
        let client = reqwest::Client::new();
        let response = eventually(PATIENCE, "the gateway to accept the notice", || {
            let request = client
                .post(format!("http://{}/v1/release-notices", self.http))
                .bearer_auth(&token)
                .json(&notice);
            async move {
                request
                    .send()
                    .await
                    .ok()
                    .filter(|r| r.status().as_u16() == 202)
            }
        })
        .await;
        assert_eq!(response.status().as_u16(), 202);
        let key = format!("PI-HAARLEM:{notice_id}");
        eventually(PATIENCE, &format!("a case for {key}"), || async {
            sqlx::query_scalar::<_, uuid::Uuid>(
                "SELECT case_id FROM casework.case_notices WHERE notice_key = $1",
            )
            .bind(&key)
            .fetch_optional(&self.db)
            .await
            .ok()
            .flatten()
        })
        .await
    }

    /// Asks casework's `verb` through `gateway`'s connection with `who`'s identity, signed as the
    /// gateway signs it; the reply envelope as JSON.
    async fn ask_casework(
        &self,
        gateway: &Attacker,
        verb: &str,
        who: &Identity,
        body: serde_json::Value,
    ) -> serde_json::Value {
        let subject = format!("rcn.kennemerland.api.casework.{verb}");
        let body = serde_json::to_vec(&body).expect("JSON");
        let headers = self.env.signed(&who.to_header(), &subject, &body);
        let reply = gateway
            .client
            .request_with_headers(subject, headers, body.into())
            .await
            .expect("casework answers");
        serde_json::from_slice(&reply.payload).expect("a reply envelope")
    }

    async fn stream_messages(&self, name: &str) -> u64 {
        let mut stream = self
            .admin
            .get_stream(name)
            .await
            .expect("the stream exists");
        stream.info().await.expect("stream info").state.messages
    }

    async fn stream_exists(&self, name: &str) -> bool {
        self.admin.get_stream(name).await.is_ok()
    }

    async fn stop(self) {
        for s in self.services.into_iter().rev() {
            s.stop(PATIENCE).await;
        }
        self.server.stop().await;
    }
}

/// A client logged in as a service's user, as an attacker holding that service's password
/// would be, with the server's errors (permission violations) on a channel.
struct Attacker {
    user: &'static str,
    client: async_nats::Client,
    js: jetstream::Context,
    errors: mpsc::UnboundedReceiver<String>,
    /// Each attack and the error the server answered, for the report.
    log: Vec<String>,
}

impl Attacker {
    async fn login(url: &str, user: &'static str) -> Self {
        let inbox = format!("_INBOX_{user}");
        let (client, errors) = connect(url, user, password(user), Some(&inbox)).await;
        let js = jetstream::ContextBuilder::new()
            .timeout(Duration::from_millis(800))
            .build(client.clone());
        Self {
            user,
            client,
            js,
            errors,
            log: Vec::new(),
        }
    }

    /// Waits for the server's permission violation naming `subject`, and records it.
    async fn refused(&mut self, attack: &str, subject: &str) {
        let error = loop {
            let error = tokio::time::timeout(Duration::from_secs(5), self.errors.recv())
                .await
                .unwrap_or_else(|_| panic!("{}: {attack}: the server objects", self.user))
                .expect("the test server answers");
            if error.contains(subject) {
                break error;
            }
        };
        assert!(
            error.to_lowercase().contains("permissions violation"),
            "{}: {attack}: {error}",
            self.user
        );
        let line = format!("{:<9} {attack}: {error}", self.user);
        println!("refused  {line}");
        self.log.push(line);
    }

    /// Publishes `subject` and expects the server to refuse it.
    async fn publish_refused(&mut self, attack: &str, subject: &str) {
        self.drain();
        self.client
            .publish(subject.to_owned(), "{}".into())
            .await
            .expect("sent");
        self.client.flush().await.expect("flushed");
        self.refused(attack, subject).await;
    }

    /// Subscribes `subject` and expects the server to refuse it.
    async fn subscribe_refused(&mut self, attack: &str, subject: &str) {
        self.drain();
        let subscription = self.client.subscribe(subject.to_owned()).await;
        self.client.flush().await.expect("flushed");
        self.refused(attack, subject).await;
        drop(subscription);
    }

    fn drain(&mut self) {
        while self.errors.try_recv().is_ok() {}
    }
}

const NOTICES: &str = "KENNEMERLAND_NOTICES";
const ROUTING: &str = "KENNEMERLAND_ROUTING";

#[tokio::test]
async fn every_service_runs_as_its_own_user_and_none_gets_past_its_own_rights() {
    let deployment = Deployment::start().await;
    let case_id = deployment.notice_becomes_a_case("TB-2026-000001").await;
    let url = deployment.server.url.clone();
    let notices_before = deployment.stream_messages(NOTICES).await;
    assert!(notices_before >= 1);

    // Reading another's stream: casework fetching the notices (with BSNs) from NOTICES.
    let mut casework = Attacker::login(&url, "casework").await;
    casework.drain();
    assert!(casework.js.get_stream(NOTICES).await.is_err());
    casework
        .refused(
            "read NOTICES' info",
            &format!("$JS.API.STREAM.INFO.{NOTICES}"),
        )
        .await;
    casework
        .publish_refused(
            "get a stored notice",
            &format!("$JS.API.STREAM.MSG.GET.{NOTICES}"),
        )
        .await;
    casework
        .publish_refused(
            "direct-get a stored notice",
            &format!("$JS.API.DIRECT.GET.{NOTICES}"),
        )
        .await;
    casework
        .publish_refused(
            "create a consumer on NOTICES",
            &format!("$JS.API.CONSUMER.CREATE.{NOTICES}"),
        )
        .await;
    casework
        .publish_refused(
            "pull from the router's durable consumer",
            &format!("$JS.API.CONSUMER.MSG.NEXT.{NOTICES}.router"),
        )
        .await;

    // Creating a stream that captures the gateway's requests and partners' submissions.
    let mut router = Attacker::login(&url, "router").await;
    router.drain();
    let capture = jetstream::stream::Config {
        name: "CAPTURE".into(),
        subjects: vec![
            "rcn.kennemerland.api.>".into(),
            "rcn.kennemerland.intake.submit.>".into(),
        ],
        ..Default::default()
    };
    assert!(router.js.create_stream(capture).await.is_err());
    router
        .refused(
            "create a stream capturing rcn.kennemerland.api.> and intake.submit.>",
            "$JS.API.STREAM.CREATE.CAPTURE",
        )
        .await;
    // A stream that republishes what the router stores as casework's close_case.
    let republish = jetstream::stream::Config {
        name: "REPUBLISH".into(),
        subjects: vec!["rcn.kennemerland.routing.forged".into()],
        republish: Some(jetstream::stream::Republish {
            source: ">".into(),
            destination: "rcn.kennemerland.api.casework.close_case".into(),
            headers_only: false,
        }),
        ..Default::default()
    };
    assert!(router.js.create_stream(republish).await.is_err());
    router
        .refused(
            "create a stream republishing to casework's close_case",
            "$JS.API.STREAM.CREATE.REPUBLISH",
        )
        .await;

    // Purging and deleting.
    casework.drain();
    assert!(casework.js.delete_stream(NOTICES).await.is_err());
    casework
        .refused(
            "delete NOTICES",
            &format!("$JS.API.STREAM.DELETE.{NOTICES}"),
        )
        .await;
    casework
        .publish_refused("purge NOTICES", &format!("$JS.API.STREAM.PURGE.{NOTICES}"))
        .await;
    casework
        .publish_refused(
            "purge ROUTING, which it reads",
            &format!("$JS.API.STREAM.PURGE.{ROUTING}"),
        )
        .await;
    casework
        .publish_refused(
            "change ROUTING, which it reads",
            &format!("$JS.API.STREAM.UPDATE.{ROUTING}"),
        )
        .await;
    casework
        .publish_refused(
            "delete its own durable consumer",
            &format!("$JS.API.CONSUMER.DELETE.{ROUTING}.casework"),
        )
        .await;
    router
        .publish_refused(
            "delete NOTICES",
            &format!("$JS.API.STREAM.DELETE.{NOTICES}"),
        )
        .await;

    // Reading everyone's replies.
    let mut intake = Attacker::login(&url, "intake").await;
    let mut gateway = Attacker::login(&url, "gateway").await;
    for a in [&mut intake, &mut router, &mut casework, &mut gateway] {
        a.subscribe_refused("subscribe to every reply", "_INBOX.>")
            .await;
    }
    router
        .subscribe_refused("read the gateway's replies", "_INBOX_gateway.>")
        .await;
    casework
        .subscribe_refused(
            "take the gateway's requests to intake",
            "rcn.kennemerland.api.intake.>",
        )
        .await;

    // Another region's subjects.
    let other = "rcn.amsterdam-amstelland";
    intake
        .publish_refused(
            "accept a notice in another region",
            &format!("{other}.intake.accepted"),
        )
        .await;
    router
        .publish_refused(
            "route in another region",
            &format!("{other}.routing.routed.GM0363"),
        )
        .await;
    casework
        .publish_refused(
            "open a case in another region",
            &format!("{other}.casework.case_opened.GM0363"),
        )
        .await;
    gateway
        .publish_refused(
            "submit in another region",
            &format!("{other}.intake.submit"),
        )
        .await;

    // Another service's events and APIs.
    casework
        .publish_refused(
            "publish the router's decision",
            "rcn.kennemerland.routing.routed.GM0392",
        )
        .await;
    router
        .publish_refused(
            "publish an accepted notice as intake",
            "rcn.kennemerland.intake.accepted",
        )
        .await;
    intake
        .publish_refused(
            "close a case as casework",
            "rcn.kennemerland.casework.case_closed.GM0392",
        )
        .await;
    gateway
        .publish_refused(
            "publish an accepted notice",
            "rcn.kennemerland.intake.accepted",
        )
        .await;
    gateway
        .publish_refused(
            "acknowledge a forward as intake",
            "rcn.kennemerland.api.router.forwarded.ack",
        )
        .await;

    // What the retention jobs of intake and the router may ask: which episodes casework has an
    // open case for (episode pseudonyms in, out). Their users may ask, and casework answers.
    let episode: String =
        sqlx::query_scalar("SELECT episode_key FROM casework.cases WHERE case_id = $1")
            .bind(case_id)
            .fetch_one(&deployment.db)
            .await
            .expect("the case's episode");
    let question = serde_json::to_vec(&serde_json::json!({"episode_keys": [episode.clone()]}))
        .expect("serialises");
    for asker in [&intake, &router] {
        let reply = asker
            .client
            .request(
                "rcn.kennemerland.api.casework.open_episodes",
                question.clone().into(),
            )
            .await
            .unwrap_or_else(|e| panic!("{}: casework answers open_episodes: {e}", asker.user));
        let open: rcn_contracts::envelope::ApiReply<
            rcn_contracts::casework_api::OpenEpisodesReply,
        > = serde_json::from_slice(&reply.payload).expect("the envelope");
        assert_eq!(
            open.into_result().expect("answered").open,
            std::slice::from_ref(&episode),
            "{}",
            asker.user
        );
    }
    casework
        .publish_refused(
            "ask the router's deletion log as a person (only the gateway asks for people)",
            "rcn.kennemerland.api.router.retention_log",
        )
        .await;

    // A confused deputy: the gateway asks each service with a reply subject that would make its
    // answer purge NOTICES, or land in NOTICES as an accepted notice, in the service's name
    // (`allow_responses` lets a service publish to a reply subject). Each refuses to answer
    // anything but an inbox.
    for subject in [
        "rcn.kennemerland.api.casework.inbox",
        "rcn.kennemerland.api.intake.status",
        "rcn.kennemerland.intake.submit",
        "rcn.kennemerland.api.router.queue.list",
    ] {
        for reply in [
            format!("$JS.API.STREAM.PURGE.{NOTICES}"),
            "rcn.kennemerland.intake.accepted".to_owned(),
        ] {
            gateway
                .client
                .publish_with_reply(subject, reply, "{}".into())
                .await
                .expect("sent");
        }
    }
    gateway.client.flush().await.expect("flushed");
    tokio::time::sleep(Duration::from_secs(1)).await;

    // Nothing changed: the notices are all there, no stream was made, and the flow still works.
    assert_eq!(deployment.stream_messages(NOTICES).await, notices_before);
    assert!(!deployment.stream_exists("CAPTURE").await);
    assert!(!deployment.stream_exists("REPUBLISH").await);
    deployment.notice_becomes_a_case("TB-2026-000002").await;
    assert_eq!(
        deployment.stream_messages(NOTICES).await,
        notices_before + 1
    );

    // The operator still sees every service (`nats micro info`) as the provisioner.
    for service in ["rcn-intake", "rcn-router", "rcn-casework"] {
        let info = deployment
            .operator
            .request(format!("$SRV.INFO.{service}"), "".into())
            .await
            .expect("the service answers the operator");
        assert!(
            String::from_utf8_lossy(&info.payload).contains(service),
            "{service}"
        );
    }

    let refused: usize = [&intake, &router, &casework, &gateway]
        .iter()
        .map(|a| a.log.len())
        .sum();
    println!("{refused} attacks refused");
    deployment.stop().await;
}

#[tokio::test]
async fn a_service_started_before_provisioning_names_what_is_missing_and_says_to_provision() {
    let server = ShippedAccountsServer::start().await;
    let env = TestEnv::new().await;
    for name in ["intake", "router", "casework"] {
        let config = as_user(&env, &server.url, name);
        let prepared =
            Stack::prepare(&[Service::named(name).expect("known")], &|_| None).expect("settings");
        let error = match tokio::time::timeout(
            PATIENCE,
            Stack::start(&config, prepared, CancellationToken::new()),
        )
        .await
        .expect("start-up ends in time")
        {
            Ok(stack) => match stack.wait().await {
                Ok(()) => panic!("{name} ran without its streams"),
                Err(e) => format!("{e:#}"),
            },
            Err(e) => format!("{e:#}"),
        };
        assert!(
            error.contains("KENNEMERLAND_") && error.contains("run `rcn provision`"),
            "{name}: {error}"
        );
        println!("{name}: {error}");
    }
    // A service's own user may not provision.
    let error =
        rcn::nats_provision::provision(&as_user(&env, &server.url, "casework"), &Service::all())
            .await
            .expect_err("casework may not create streams");
    assert!(format!("{error:#}").contains("provisioner"), "{error:#}");
    server.stop().await;
}

/// A staff member of `gemeentecode`.
fn staff(user: &str, gemeentecode: &str) -> Identity {
    Identity {
        user_id: user.into(),
        role: Role::MunicipalStaff,
        gemeentecode: Some(Gemeentecode::parse(gemeentecode).expect("a gemeentecode")),
    }
}

/// Another region on the same NATS system, with its own streams (made by the provisioner, who
/// provisions every region): Kennemerland's users may touch none of it.
const OTHER: &str = "amsterdam-amstelland";
const OTHER_STREAMS: &str = "AMSTERDAM_AMSTELLAND";

#[tokio::test]
async fn a_user_of_one_region_gets_nothing_of_another_and_a_municipality_nothing_of_anothers_case()
{
    let deployment = Deployment::start().await;
    let case_id = deployment.notice_becomes_a_case("TB-2026-000101").await;
    let url = deployment.server.url.clone();

    // The other region's streams and consumers exist beside Kennemerland's.
    let mut provisioner = as_user(&deployment.env, &url, "provisioner");
    provisioner.region = Region::parse(OTHER).expect("a region");
    rcn::nats_provision::provision(&provisioner, &Service::all())
        .await
        .expect("the provisioner provisions the other region");
    let other_notices = format!("{OTHER_STREAMS}_NOTICES");
    assert!(deployment.stream_exists(&other_notices).await);

    // Kennemerland's services and partner, on the other region's subjects and streams.
    let mut casework = Attacker::login(&url, "casework").await;
    let mut router = Attacker::login(&url, "router").await;
    let mut intake = Attacker::login(&url, "intake").await;
    let mut monitor = Attacker::login(&url, "monitor").await;
    let mut gateway = Attacker::login(&url, "gateway").await;
    let mut haarlem = Attacker::login(&url, "PI-HAARLEM").await;
    casework
        .publish_refused(
            "read the other region's NOTICES' info",
            &format!("$JS.API.STREAM.INFO.{other_notices}"),
        )
        .await;
    casework
        .publish_refused(
            "get a notice stored in the other region",
            &format!("$JS.API.STREAM.MSG.GET.{other_notices}"),
        )
        .await;
    router
        .publish_refused(
            "pull from the other region's router consumer",
            &format!("$JS.API.CONSUMER.MSG.NEXT.{other_notices}.router"),
        )
        .await;
    casework
        .publish_refused(
            "pull from the other region's casework consumer",
            &format!("$JS.API.CONSUMER.MSG.NEXT.{OTHER_STREAMS}_ROUTING.casework"),
        )
        .await;
    monitor
        .publish_refused(
            "pull the other region's cases",
            &format!("$JS.API.CONSUMER.MSG.NEXT.{OTHER_STREAMS}_CASES.monitor-cases"),
        )
        .await;
    casework
        .publish_refused(
            "purge the other region's ROUTING",
            &format!("$JS.API.STREAM.PURGE.{OTHER_STREAMS}_ROUTING"),
        )
        .await;
    intake
        .subscribe_refused(
            "take the other region's partner submissions",
            &format!("rcn.{OTHER}.intake.submit.*"),
        )
        .await;
    casework
        .subscribe_refused(
            "serve the other region's casework API",
            &format!("rcn.{OTHER}.api.casework.>"),
        )
        .await;
    gateway
        .publish_refused(
            "ask the other region's casework for a case",
            &format!("rcn.{OTHER}.api.casework.case"),
        )
        .await;
    router
        .publish_refused(
            "publish the other region's routing event",
            &format!("rcn.{OTHER}.routing.forward_acknowledged"),
        )
        .await;
    haarlem
        .publish_refused(
            "submit a notice in the other region",
            &format!("rcn.{OTHER}.intake.submit.PI-HAARLEM"),
        )
        .await;
    haarlem
        .publish_refused(
            "ask the other region for a notice's status",
            &format!("rcn.{OTHER}.intake.status.PI-HAARLEM"),
        )
        .await;
    assert_eq!(deployment.stream_messages(&other_notices).await, 0);

    // A person of Velsen, with an identity the gateway really signed, on Haarlem's case.
    let velsen = staff("victor@velsen.nl", "GM0453");
    let haarlem_staff = staff("anna@haarlem.nl", "GM0392");
    let mut refusals = Vec::new();
    for (verb, body) in [
        (
            "case",
            serde_json::json!({"case_id": case_id, "why": "curious"}),
        ),
        ("claim_case", serde_json::json!({"case_id": case_id})),
        (
            "close_case",
            serde_json::json!({"case_id": case_id, "reason": "deceased"}),
        ),
    ] {
        let reply = deployment.ask_casework(&gateway, verb, &velsen, body).await;
        let problem = &reply["problem"];
        assert_eq!(problem["status"], 404, "GM0453 {verb}: {reply}");
        assert_eq!(problem["type"], "urn:rcn:problem:not-found", "{reply}");
        let line = format!(
            "GM0453 staff {verb} of a GM0392 case: {} {}",
            problem["status"], problem["type"]
        );
        println!("refused  {line}");
        refusals.push(line);
    }
    // Nothing changed: Haarlem still sees its open case, with no task claimed.
    let reply = deployment
        .ask_casework(
            &gateway,
            "case",
            &haarlem_staff,
            serde_json::json!({"case_id": case_id, "why": "checking"}),
        )
        .await;
    let case = &reply["ok"];
    assert_eq!(case["status"], "open", "{reply}");
    let tasks = case["tasks"].as_array().expect("the case's tasks");
    assert!(!tasks.is_empty());
    assert!(
        tasks.iter().all(|t| t["claimed_by"].is_null()),
        "no task was claimed: {reply}"
    );

    let refused: usize = [&casework, &router, &intake, &monitor, &gateway, &haarlem]
        .iter()
        .map(|a| a.log.len())
        .sum::<usize>()
        + refusals.len();
    println!("{refused} attacks refused");
    deployment.stop().await;
}

#[tokio::test]
async fn on_the_shipped_permissions_the_gateway_asks_every_service_for_a_privacy_export_and_no_service_can()
 {
    let deployment = Deployment::start().await;
    let case_id = deployment.notice_becomes_a_case("TB-2026-000301").await;
    let url = deployment.server.url.clone();
    let gateway = Attacker::login(&url, "gateway").await;
    let mut casework = Attacker::login(&url, "casework").await;
    // The shipped permissions are written for Kennemerland, the region the services run in here.
    let subjects = Region::parse("kennemerland").expect("a region").subjects();
    let s = rcn_contracts::privacy_export::export_subjects(&subjects);
    let officer = Identity {
        user_id: "fg".into(),
        role: Role::PrivacyOfficer,
        gemeentecode: None,
    };
    let body = serde_json::to_vec(&serde_json::json!({"bsn": "123456782", "why": "verzoek"}))
        .expect("JSON");
    for (name, subject) in [
        ("intake", &s.intake),
        ("router", &s.router),
        ("casework", &s.casework),
        ("procesregie", &s.procesregie),
    ] {
        for (who, status) in [
            (&officer, None),
            (&staff("anna@haarlem.nl", "GM0392"), Some(403)),
        ] {
            let headers = deployment.env.signed(&who.to_header(), subject, &body);
            let reply = gateway
                .client
                .request_with_headers(subject.clone(), headers, body.clone().into())
                .await
                .unwrap_or_else(|e| panic!("{name} answers the gateway: {e}"));
            let reply: serde_json::Value = serde_json::from_slice(&reply.payload).expect("JSON");
            match status {
                None => assert!(reply.get("ok").is_some(), "{name}: {reply}"),
                Some(s) => assert_eq!(reply["problem"]["status"], s, "{name}: {reply}"),
            }
            if name == "casework" && status.is_none() {
                assert_eq!(
                    reply["ok"]["cases"][0]["case_id"],
                    case_id.to_string(),
                    "{reply}"
                );
            }
        }
    }
    // "Who saw this person": every service that answers it answers the gateway for the officer,
    // and refuses anyone else.
    let body = serde_json::to_vec(&serde_json::json!({"bsn": "123456782"})).expect("JSON");
    for (name, subject) in rcn_contracts::privacy_api::who_saw_subjects(&subjects) {
        for (who, status) in [
            (&officer, None),
            (&staff("anna@haarlem.nl", "GM0392"), Some(403)),
        ] {
            let headers = deployment.env.signed(&who.to_header(), &subject, &body);
            let reply = gateway
                .client
                .request_with_headers(subject.clone(), headers, body.clone().into())
                .await
                .unwrap_or_else(|e| panic!("{name} answers the gateway's who-saw: {e}"));
            let reply: serde_json::Value = serde_json::from_slice(&reply.payload).expect("JSON");
            match status {
                None => assert_eq!(reply["ok"]["service"], name, "{name}: {reply}"),
                Some(s) => assert_eq!(reply["problem"]["status"], s, "{name}: {reply}"),
            }
        }
    }
    // A service user cannot ask another service for a person's data.
    casework
        .publish_refused("ask the router for a privacy export", &s.router)
        .await;
    casework
        .publish_refused("ask intake for a privacy export", &s.intake)
        .await;
    deployment.stop().await;
}
