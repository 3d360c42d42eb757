//! Issue 12: `rcn run` on its own servers runs each service as its own least-privilege identity,
//! as compose does: NATS on the shipped configuration with a user per service, PostgreSQL with a
//! role per service (the migration role having migrated), and the demo's notices still become
//! cases.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rcn_runtime::testing::eventually;
use sqlx::Connection as _;

use crate::infra::Scratch;

const SERVICES: [&str; 6] = [
    "intake",
    "router",
    "casework",
    "procesregie",
    "gateway",
    "monitor",
];

/// `rcn run --demo` on its own servers in `scratch`, whatever the test process's environment.
fn rcn_run_on_own_servers(scratch: &Scratch) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rcn"));
    command.args(["run", "--demo", "--demo-rate", "5", "--data-dir"]);
    command.arg(scratch.join("data"));
    for var in [
        "NATS_URL",
        "NATS_USER",
        "NATS_PASSWORD",
        "NATS_TOKEN",
        "NATS_CREDS_FILE",
        "NATS_NKEY_SEED",
        "DATABASE_URL",
        "RCN_REGION",
        "RCN_METRICS_ADDR",
    ] {
        command.env_remove(var);
    }
    command
        .env("RCN_HTTP_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command.spawn().expect("rcn run starts")
}

/// What `rcn run` printed up to "Stop with Ctrl-C.", as `key → value` of its `VAR=…` secret
/// lines and its NATS monitoring address.
async fn printed(child: &mut Child) -> BTreeMap<String, String> {
    let stdout = BufReader::new(child.stdout.take().expect("piped"));
    let lines = tokio::task::spawn_blocking(move || {
        let mut seen = BTreeMap::new();
        for line in stdout.lines().map_while(Result::ok) {
            if line.starts_with("Stop with Ctrl-C") {
                return Some(seen);
            }
            let line = line.trim();
            if let Some(url) = line.strip_prefix("NATS monitoring") {
                seen.insert("monitor".to_owned(), url.trim().to_owned());
            } else if let Some(url) = line.strip_prefix("NATS ") {
                seen.insert("nats".to_owned(), url.trim().to_owned());
            } else if let Some(url) = line.strip_prefix("PostgreSQL ") {
                // postgres://postgres@127.0.0.1:<port>/rcn: no secret in it.
                let port = url
                    .trim()
                    .rsplit(':')
                    .next()
                    .and_then(|p| p.split('/').next());
                if let Some(port) = port {
                    seen.insert("postgres_port".to_owned(), port.to_owned());
                }
            }
            if let Some((var, path)) = line
                .strip_prefix("secret")
                .and_then(|secret| secret.trim().split_once('='))
            {
                seen.insert(var.to_owned(), path.to_owned());
            }
        }
        None
    });
    match tokio::time::timeout(Duration::from_secs(120), lines).await {
        Ok(Ok(Some(seen))) => seen,
        other => {
            child.kill().ok();
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                e.read_to_string(&mut err).ok();
            }
            panic!("rcn run did not start ({other:?}): {err}");
        }
    }
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .trim()
        .to_owned()
}

#[tokio::test]
async fn rcn_run_runs_each_service_as_its_own_nats_user_and_postgresql_role() {
    let scratch = Scratch::new();
    let mut child = rcn_run_on_own_servers(&scratch);
    let seen = printed(&mut child).await;
    let result = check(&seen).await;
    child.kill().ok();
    child.wait().ok();
    // Its servers die with it (parent-death signal); give them a moment before the folder goes.
    tokio::time::sleep(Duration::from_secs(1)).await;
    result.unwrap_or_else(|e| panic!("{e}"));
}

async fn check(seen: &BTreeMap<String, String>) -> Result<(), String> {
    let monitor = seen.get("monitor").ok_or("no NATS monitoring line")?;
    let nats_users = std::path::PathBuf::from(
        seen.get("NATS_PASSWORDS_DIR")
            .ok_or("no NATS_PASSWORDS_DIR line")?,
    );
    let pg_roles = std::path::PathBuf::from(
        seen.get("POSTGRES_ROLE_PASSWORDS_DIR")
            .ok_or("no POSTGRES_ROLE_PASSWORDS_DIR line")?,
    );
    let superuser_password = read(std::path::Path::new(
        seen.get("POSTGRES_PASSWORD_FILE")
            .ok_or("no POSTGRES_PASSWORD_FILE line")?,
    ));

    // NATS: every service's connection is logged in as that service's own user.
    let connz = format!("{monitor}/connz?auth=1&limit=1000");
    let users = eventually(
        Duration::from_secs(30),
        "every service connected",
        || async {
            let connz: serde_json::Value = reqwest::get(&connz).await.ok()?.json().await.ok()?;
            let users: BTreeMap<String, String> = connz["connections"]
                .as_array()?
                .iter()
                .filter_map(|c| {
                    Some((
                        c["name"].as_str()?.to_owned(),
                        c["authorized_user"].as_str()?.to_owned(),
                    ))
                })
                .collect();
            SERVICES
                .iter()
                .all(|s| users.contains_key(&format!("rcn-{s}")))
                .then_some(users)
        },
    )
    .await;
    for service in SERVICES {
        assert_eq!(
            users[&format!("rcn-{service}")],
            service,
            "the NATS user of rcn-{service}: {users:?}"
        );
    }

    // A service's own user may do its own work only: casework may not publish an accepted
    // notice (the server refuses it) nor read NOTICES.
    let url = seen.get("nats").ok_or("no NATS line")?.clone();
    let (tx, mut errors) = tokio::sync::mpsc::unbounded_channel();
    let casework = async_nats::ConnectOptions::with_user_and_password(
        "casework".into(),
        read(&nats_users.join("casework")),
    )
    .custom_inbox_prefix("_INBOX_casework")
    .event_callback(move |event| {
        let tx = tx.clone();
        async move {
            if let async_nats::Event::ServerError(e) = event {
                let _ = tx.send(e.to_string());
            }
        }
    })
    .connect(&url)
    .await
    .map_err(|e| format!("casework's own password lets it in: {e}"))?;
    casework
        .publish("rcn.kennemerland.intake.accepted", "{}".into())
        .await
        .map_err(|e| e.to_string())?;
    casework.flush().await.map_err(|e| e.to_string())?;
    let error = tokio::time::timeout(Duration::from_secs(5), errors.recv())
        .await
        .map_err(|_| "the server did not object to casework publishing intake's event")?
        .unwrap_or_default();
    assert!(
        error.to_lowercase().contains("permissions violation")
            && error.contains("rcn.kennemerland.intake.accepted"),
        "{error}"
    );
    let wrong =
        async_nats::ConnectOptions::with_user_and_password("casework".into(), "guessed".into())
            .max_reconnects(Some(1))
            .connect(&url)
            .await;
    assert!(wrong.is_err(), "a wrong password is not let in");

    // PostgreSQL: every service's connections are its own role's, its tables are its own (the
    // migration role migrated as the service's role), and the gateway cannot read cases.
    let port = seen.get("postgres_port").ok_or("no PostgreSQL line")?;
    let admin_url = format!("postgres://postgres:{superuser_password}@127.0.0.1:{port}/rcn");
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .map_err(|e| format!("the superuser connects: {e}"))?;
    let logins = eventually(
        Duration::from_secs(30),
        "every service's pool connected",
        || {
            let admin_url = admin_url.clone();
            async move {
                let mut admin = sqlx::PgConnection::connect(&admin_url).await.ok()?;
                let rows: Vec<(String, String)> = sqlx::query_as(
                    "SELECT DISTINCT application_name::text, usename::text FROM pg_stat_activity
                      WHERE datname = 'rcn' AND application_name LIKE 'rcn-%'
                        AND application_name <> 'rcn-migrator'",
                )
                .fetch_all(&mut admin)
                .await
                .ok()?;
                SERVICES
                    .iter()
                    .all(|s| rows.iter().any(|(app, _)| *app == format!("rcn-{s}")))
                    .then_some(rows)
            }
        },
    )
    .await;
    for (app, user) in &logins {
        let schema = app.strip_prefix("rcn-").unwrap_or(app);
        assert_eq!(*user, format!("rcn_{schema}"), "{logins:?}");
    }
    let owners: Vec<(String, String)> = sqlx::query_as(
        "SELECT DISTINCT schemaname::text, tableowner::text FROM pg_tables
          WHERE schemaname = ANY($1)",
    )
    .bind(SERVICES.map(str::to_owned).to_vec())
    .fetch_all(&mut admin)
    .await
    .map_err(|e| e.to_string())?;
    assert_eq!(owners.len(), SERVICES.len(), "{owners:?}");
    for (schema, owner) in &owners {
        assert_eq!(*owner, format!("rcn_{schema}"), "{owners:?}");
    }
    let mut gateway = sqlx::PgConnection::connect(&format!(
        "postgres://rcn_gateway:{}@127.0.0.1:{port}/rcn",
        read(&pg_roles.join("rcn_gateway"))
    ))
    .await
    .map_err(|e| format!("the gateway's role connects: {e}"))?;
    let denied = sqlx::query("SELECT count(*) FROM casework.cases")
        .execute(&mut gateway)
        .await
        .expect_err("the gateway may not read cases");
    assert!(denied.to_string().contains("permission denied"), "{denied}");

    // And the stack works on these identities: the demo's notices become cases.
    eventually(
        Duration::from_secs(60),
        "a demo notice to become a case",
        || {
            let admin_url = admin_url.clone();
            async move {
                let mut admin = sqlx::PgConnection::connect(&admin_url).await.ok()?;
                let cases: i64 = sqlx::query_scalar("SELECT count(*) FROM casework.cases")
                    .fetch_one(&mut admin)
                    .await
                    .ok()?;
                (cases > 0).then_some(())
            }
        },
    )
    .await;
    Ok(())
}
