use std::collections::HashSet;
use std::time::Duration;

use futures::StreamExt;
use rand::Rng;
use rcn::demo::DemoGenerator;
use rcn_contracts::region::RegionTable;
use rcn_runtime::CancellationToken;
use rcn_tests::crash::{Audit, Cluster, Partner};

/// Notices per scenario.
fn notices() -> usize {
    std::env::var("RCN_CRASH_NOTICES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

/// How long a partner keeps resending one notice before giving up on it.
const PARTNER_PATIENCE: Duration = Duration::from_secs(60);

/// Offered load: notices per second, so the chaos strikes while notices are in flight.
const RATE: f64 = 40.0;

/// Sends `count` notices at [`RATE`], each `copies` times at once; returns the accepted keys.
async fn load(partner: &Partner, seed: u64, count: usize, copies: usize) -> HashSet<String> {
    let mut demo = DemoGenerator::new(RegionTable::kennemerland(), seed);
    let now = chrono::Utc::now();
    let notices: Vec<_> = (0..count).map(|_| demo.next_notice(now)).collect();
    let start = tokio::time::Instant::now();
    let accepted: Vec<Option<String>> = futures::stream::iter(notices.into_iter().enumerate())
        .map(|(i, n)| {
            let partner = partner.clone();
            async move {
                tokio::time::sleep_until(start + Duration::from_secs_f64(i as f64 / RATE)).await;
                let tries = futures::future::join_all(
                    (0..copies).map(|_| partner.submit(&n, PARTNER_PATIENCE)),
                )
                .await;
                tries.into_iter().any(|ok| ok).then(|| n.notice_key())
            }
        })
        .buffer_unordered(256)
        .collect()
        .await;
    accepted.into_iter().flatten().collect()
}

/// Runs a scenario: services up, load with `chaos` running beside it, audit, report.
async fn scenario<F, Fut>(
    name: &str,
    routers: usize,
    caseworkers: usize,
    copies: usize,
    chaos: F,
) -> Audit
where
    F: FnOnce(Cluster, CancellationToken) -> Fut,
    Fut: std::future::Future<Output = Cluster> + Send + 'static,
{
    let mut cluster = Cluster::start(name).await;
    cluster.spawn("intake").await;
    for _ in 0..routers {
        cluster.spawn("router").await;
    }
    for _ in 0..caseworkers {
        cluster.spawn("casework").await;
    }
    let partner = cluster.partner().await;
    let count = notices();
    let stop = CancellationToken::new();
    let chaos = tokio::spawn(chaos(cluster, stop.clone()));
    let accepted = load(&partner, rand::random(), count, copies).await;
    stop.cancel();
    let cluster = chaos.await.expect("the chaos task ends");
    let audit = cluster
        .audit(count, &accepted, Duration::from_secs(120))
        .await;
    let ok = audit.lost == 0
        && audit.duplicates == 0
        && audit.accepted == count
        && audit.outcomes == count;
    cluster.stop(!ok).await;
    println!("{name}: {audit}");
    audit
}

fn assert_clean(audit: &Audit) {
    assert_eq!((audit.lost, audit.duplicates), (0, 0), "{audit}");
    assert_eq!(
        audit.accepted, audit.sent,
        "every notice is accepted in the end: {audit}"
    );
    assert_eq!(audit.outcomes, audit.accepted, "{audit}");
}

/// Waits a random while, or returns false when the load is over.
async fn pause(stop: &CancellationToken, from_ms: u64, to_ms: u64) -> bool {
    let ms = rand::thread_rng().gen_range(from_ms..to_ms);
    tokio::select! {
        _ = stop.cancelled() => false,
        _ = tokio::time::sleep(Duration::from_millis(ms)) => true,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_notice_has_one_outcome_when_services_are_killed_at_random() {
    let audit = scenario("kill-services", 1, 1, 1, |mut cluster, stop| async move {
        let mut kills = 0;
        while pause(&stop, 200, 700).await {
            let i = rand::thread_rng().gen_range(0..cluster.services.len());
            cluster.kill(i).await;
            kills += 1;
            tokio::time::sleep(Duration::from_millis(150)).await;
            cluster.restart(i).await;
        }
        println!("killed a service {kills} times");
        assert!(kills > 0, "the load ended before any kill");
        cluster
    })
    .await;
    assert_clean(&audit);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_notice_has_one_outcome_when_nats_is_killed_and_restarted() {
    let audit = scenario("kill-nats", 1, 1, 1, |mut cluster, stop| async move {
        // A scenario where the load ends before the failure would prove nothing.
        assert!(
            pause(&stop, 500, 1000).await,
            "the load ended before nats-server is killed"
        );
        cluster.nats.kill().await.expect("nats-server dies");
        tokio::time::sleep(Duration::from_millis(1500)).await;
        cluster
            .nats
            .restart()
            .await
            .expect("nats-server restarts on its store");
        cluster
    })
    .await;
    assert_clean(&audit);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_notice_has_one_outcome_when_postgres_stops_and_starts() {
    let audit = scenario("stop-postgres", 1, 1, 1, |mut cluster, stop| async move {
        // A scenario where the load ends before the failure would prove nothing.
        assert!(
            pause(&stop, 500, 1000).await,
            "the load ended before PostgreSQL is stopped"
        );
        cluster.postgres.stop().await.expect("PostgreSQL stops");
        // Intake keeps accepting meanwhile: JetStream holds the work.
        tokio::time::sleep(Duration::from_secs(3)).await;
        cluster
            .postgres
            .restart()
            .await
            .expect("PostgreSQL starts again");
        cluster
    })
    .await;
    assert_clean(&audit);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_two_routers_and_two_caseworkers_no_work_is_done_twice_or_lost() {
    let audit = scenario("two-instances", 2, 2, 1, |cluster, stop| async move {
        stop.cancelled().await;
        cluster
    })
    .await;
    assert_clean(&audit);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_resend_storm_of_every_notice_three_times_changes_nothing() {
    let audit = scenario("resend-storm", 1, 1, 3, |cluster, stop| async move {
        stop.cancelled().await;
        cluster
    })
    .await;
    assert_clean(&audit);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn intake_keeps_accepting_while_postgres_is_down_and_the_backlog_drains_after() {
    let mut cluster = Cluster::start("pg-down-backlog").await;
    for service in ["intake", "router", "casework"] {
        cluster.spawn(service).await;
    }
    let partner = cluster.partner().await;
    // Everything is up before the database goes away.
    let warm_up = load(&partner, 1, 1, 1).await;
    assert_eq!(warm_up.len(), 1);
    let ready = cluster.audit(1, &warm_up, Duration::from_secs(60)).await;
    assert_eq!(
        ready.lost, 0,
        "the stack is up before the database goes away: {ready}"
    );
    cluster.postgres.stop().await.expect("PostgreSQL stops");

    let count = 50;
    let started = tokio::time::Instant::now();
    let mut accepted = load(&partner, 2, count, 1).await;
    let took = started.elapsed();
    assert_eq!(
        accepted.len(),
        count,
        "intake accepts while PostgreSQL is down"
    );
    assert!(took < Duration::from_secs(30), "accepting took {took:?}");

    cluster
        .postgres
        .restart()
        .await
        .expect("PostgreSQL starts again");
    accepted.extend(warm_up);
    let audit = cluster
        .audit(count + 1, &accepted, Duration::from_secs(120))
        .await;
    println!("pg-down-backlog: {audit}");
    cluster.stop(audit.lost > 0).await;
    assert_clean(&audit);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_nats_down_the_partner_api_answers_503_with_retry_after_and_recovers() {
    let mut cluster = Cluster::start("nats-down-503").await;
    cluster.spawn("intake").await;
    let port = rcn::infra::free_port().expect("a free port");
    cluster
        .spawn_with("gateway", &[("RCN_HTTP_ADDR", format!("127.0.0.1:{port}"))])
        .await;
    let url = format!("http://127.0.0.1:{port}/v1/release-notices");
    let client = reqwest::Client::new();
    let notice = rcn_contracts::examples::release_notice_json();
    let tokens = rcn_runtime::testing::eventually(
        Duration::from_secs(20),
        "the gateway's schema",
        || async { rcn_gateway::tokens::open(&cluster.database_url).await.ok() },
    )
    .await;
    let token = rcn_gateway::tokens::issue(
        &tokens,
        "PI-HAARLEM",
        None,
        rcn_gateway::tokens::Actor::CommandLine,
        None,
    )
    .await
    .expect("a token")
    .token;
    let post = || client.post(&url).bearer_auth(&token).json(&notice).send();
    let first = rcn_runtime::testing::eventually(
        Duration::from_secs(20),
        "the gateway to accept",
        || async { post().await.ok().filter(|r| r.status() == 202) },
    )
    .await;
    assert_eq!(first.status(), 202);

    cluster.nats.kill().await.expect("nats-server dies");
    let refused = rcn_runtime::testing::eventually(Duration::from_secs(10), "a 503", || async {
        post().await.ok().filter(|r| r.status() == 503)
    })
    .await;
    assert_eq!(refused.headers()["retry-after"], "30");
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );

    cluster.nats.restart().await.expect("nats-server restarts");
    let again = rcn_runtime::testing::eventually(
        Duration::from_secs(30),
        "a receipt after NATS is back",
        || async { post().await.ok().filter(|r| r.status() == 202) },
    )
    .await;
    let receipt: serde_json::Value = again.json().await.expect("a receipt");
    assert_eq!(
        receipt["status"], "already_received",
        "the notice accepted before the outage was kept"
    );
    cluster.stop(false).await;
}
