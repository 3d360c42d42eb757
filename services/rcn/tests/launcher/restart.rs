//! `rcn servers` (and so `rcn run`) started again at once after the launcher was SIGKILLed on
//! the same data folder: its PostgreSQL died with it, but its lock file and its not yet reaped
//! process are still there for a moment.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use sqlx::Connection;

use crate::infra::Scratch;

/// Starts `rcn servers` on `data_dir` and returns it with the DATABASE_URL it printed, the
/// password from the file it named put in, or the error output when it exited first.
fn start_servers(data_dir: &std::path::Path) -> (Child, Result<String, String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rcn"))
        .args(["servers", "--data-dir"])
        .arg(data_dir)
        .env_remove("NATS_URL")
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rcn servers starts");
    let stdout = BufReader::new(child.stdout.take().expect("piped"));
    let mut url = None;
    for line in stdout.lines().map_while(Result::ok) {
        if let Some(printed) = line.strip_prefix("DATABASE_URL=") {
            url = Some(printed.to_owned());
        }
        if let (Some(url), Some(file)) = (&url, line.strip_prefix("POSTGRES_PASSWORD_FILE=")) {
            let password = std::fs::read_to_string(file).expect("the password file is readable");
            assert!(!url.contains(password.trim()), "no secret is printed");
            let url = rcn_runtime::db::with_user(url, "postgres", Some(password.trim()));
            return (child, Ok(url));
        }
    }
    let mut errors = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("piped"), &mut errors).ok();
    (child, Err(errors))
}

#[tokio::test]
async fn the_launchers_servers_start_again_right_after_the_launcher_was_killed() {
    let scratch = Scratch::new();
    let data = scratch.join("data");
    let (mut first, url) = start_servers(&data);
    url.expect("the first launcher starts its servers");

    for round in 1..=3 {
        first.kill().expect("SIGKILL the launcher"); // std's kill is SIGKILL
        first.wait().expect("reaped");
        // At once, as an operator restarting a crashed launcher would.
        let (mut again, url) = start_servers(&data);
        let url = url.unwrap_or_else(|errors| {
            panic!("round {round}: the launcher starts again after a kill: {errors}")
        });
        let mut db =
            tokio::time::timeout(Duration::from_secs(10), sqlx::PgConnection::connect(&url))
                .await
                .expect("connects in time")
                .expect("its PostgreSQL answers");
        let one: i32 = sqlx::query_scalar("SELECT 1")
            .fetch_one(&mut db)
            .await
            .expect("a query runs");
        assert_eq!(one, 1);
        drop(db);
        std::mem::swap(&mut first, &mut again);
        drop(again);
    }
    first.kill().ok();
    first.wait().ok();
    // Its servers die with it (parent-death signal); give them a moment before the folder goes.
    tokio::time::sleep(Duration::from_secs(1)).await;
}
