//! Services log in to NATS with credentials from their configuration (NATS_USER /
//! NATS_PASSWORD), on a nats-server running the accounts file shipped for compose: the
//! deployment can log in, and a secret never shows in an error.

use std::time::Duration;

use rcn::stack::{Service, Stack};
use rcn_contracts::Region;
use rcn_contracts::intake::SubmitReply;
use rcn_runtime::testing::TestEnv;
use rcn_runtime::{CancellationToken, Config, nats_auth::NatsAuth};

use crate::partner_nats_permissions::ShippedAccountsServer;

/// The test environment's settings, with NATS as `lookup` says.
fn config_with(env: &TestEnv, lookup: &[(&str, &str)]) -> Result<Config, String> {
    let nats =
        Config::from_lookup(rcn_runtime::config::lookup_in(lookup)).map_err(|e| e.to_string())?;
    let mut config = env.config.clone();
    config.nats_url = nats.nats_url;
    config.nats_auth = nats.nats_auth;
    // The shipped accounts name the partner's subjects in Kennemerland; this server is ours alone.
    config.region = Region::parse("kennemerland").expect("valid region");
    Ok(config)
}

#[tokio::test]
async fn intake_logs_in_as_its_own_user_from_configuration_and_serves_a_partner() {
    let server = ShippedAccountsServer::start().await;
    let env = TestEnv::new().await;
    let config = config_with(
        &env,
        &[
            ("NATS_URL", &server.url),
            ("NATS_USER", "intake"),
            ("NATS_PASSWORD", "intake-secret"),
        ],
    )
    .expect("valid settings");
    assert!(matches!(config.nats_auth, NatsAuth::UserPassword { .. }));
    // As compose does before the services start: `rcn provision` as the provisioner.
    let provisioner = config_with(
        &env,
        &[
            ("NATS_URL", &server.url),
            ("NATS_USER", "provisioner"),
            ("NATS_PASSWORD", "provisioner-secret"),
        ],
    )
    .expect("valid settings");
    rcn::nats_provision::provision(&provisioner, &Service::all())
        .await
        .expect("the provisioner provisions");

    let shutdown = CancellationToken::new();
    let stack = tokio::time::timeout(
        Duration::from_secs(30),
        Stack::start(
            &config,
            Stack::prepare(&[Service::named("intake").unwrap()], &|_| None).unwrap(),
            shutdown.clone(),
        ),
    )
    .await
    .expect("intake starts in time")
    .expect("intake logs in and starts");
    let running = tokio::spawn(stack.wait());

    // The institution on its own account, with its own inbox prefix, as the accounts file asks.
    let partner = async_nats::ConnectOptions::with_user_and_password(
        "PI-HAARLEM".into(),
        "haarlem-secret".into(),
    )
    .custom_inbox_prefix("_INBOX_PI-HAARLEM")
    .connect(&server.url)
    .await
    .expect("the partner connects");
    let notice = serde_json::to_vec(&rcn_contracts::examples::release_notice()).unwrap();
    let reply = rcn_runtime::testing::eventually(
        Duration::from_secs(20),
        "intake to answer the partner",
        || async {
            partner
                .request(
                    "rcn.kennemerland.intake.submit.PI-HAARLEM",
                    notice.clone().into(),
                )
                .await
                .ok()
        },
    )
    .await;
    let reply: SubmitReply = serde_json::from_slice(&reply.payload).expect("a submit reply");
    assert!(
        matches!(reply, SubmitReply::Accepted { .. }),
        "intake, logged in as its own user, stored the notice: {reply:?}"
    );

    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(20), running)
        .await
        .expect("intake stops in time")
        .expect("no panic")
        .expect("intake stops cleanly");
    server.stop().await;
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_never_repeated() {
    let server = ShippedAccountsServer::start().await;
    let auth = NatsAuth::from_lookup(|k| match k {
        "NATS_USER" => Some("casework".into()),
        "NATS_PASSWORD" => Some("not-the-casework-secret".into()),
        _ => None,
    })
    .expect("valid settings");
    let error = rcn_runtime::nats::connect_as(
        &server.url,
        &auth,
        "rcn-casework",
        Duration::from_millis(500),
    )
    .await
    .expect_err("the server refuses a wrong password");
    let shown = format!("{error} {error:?}");
    assert!(
        !shown.contains("not-the-casework-secret"),
        "the password stays out of errors: {shown}"
    );
    server.stop().await;
}

#[tokio::test]
async fn credentials_in_nats_url_stop_start_up_with_advice_and_without_the_secret() {
    let env = TestEnv::new().await;
    let error = config_with(
        &env,
        &[("NATS_URL", "nats://intake:intake-secret@127.0.0.1:4222")],
    )
    .expect_err("refused");
    assert!(
        error.contains("NATS_URL") && error.contains("NATS_USER"),
        "{error}"
    );
    assert!(!error.contains("intake-secret"), "{error}");
}
