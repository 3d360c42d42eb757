//! The gateway's defences at the socket: failed logins are slowed per client address (429 with
//! `Retry-After`), a client that never finishes its headers is cut off, and no more connections
//! are served at once than configured. Real sockets throughout.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::TestGateway;

/// A well-formed token of an id nobody was issued.
const WRONG: &str = "Bearer rcn_00000000000000000000000000000000_0000000000000000000000000000000000000000000000000000000000000000";

async fn status_from(
    gateway: &TestGateway,
    local: IpAddr,
    authorization: &str,
) -> reqwest::Response {
    reqwest::Client::builder()
        .local_address(local)
        .build()
        .expect("a client")
        .get(gateway.url("/v1/release-notices/PIH-1"))
        .header("authorization", authorization)
        .send()
        .await
        .expect("the gateway answers")
}

#[tokio::test]
async fn repeated_failed_logins_from_one_address_get_429_until_the_window_passes() {
    let settings = rcn_gateway::Settings {
        auth_failures_max: 3,
        auth_failures_window: Duration::from_secs(2),
        ..Default::default()
    };
    let gateway = TestGateway::spawn_with_settings(settings).await;
    let right = format!("Bearer {}", gateway.token);
    let here: IpAddr = [127, 0, 0, 1].into();
    let elsewhere: IpAddr = [127, 0, 0, 2].into();
    for i in 0..3 {
        let r = status_from(&gateway, here, WRONG).await;
        assert_eq!(r.status(), 401, "wrong token {i}");
    }
    let started = Instant::now();
    let r = status_from(&gateway, here, WRONG).await;
    assert_eq!(r.status(), 429);
    let retry_after: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry_after), "Retry-After: {retry_after}");
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["status"], 429);
    // Not even the right token is checked from this address while it is over the limit.
    assert_eq!(status_from(&gateway, here, &right).await.status(), 429);
    // Another address is not affected: its wrong token is a plain 401, its right one passes.
    assert_eq!(status_from(&gateway, elsewhere, WRONG).await.status(), 401);
    let other = status_from(&gateway, elsewhere, &right).await.status();
    assert!(other != 401 && other != 429, "{other}");
    // Once the window has passed, the right token works again from the first address.
    tokio::time::sleep(Duration::from_millis(2100).saturating_sub(started.elapsed())).await;
    let again = status_from(&gateway, here, &right).await.status();
    assert!(again != 401 && again != 429, "{again}");
}

/// Whether the server closed `stream` (EOF or reset) within `wait`; bytes it sends are skipped.
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off() {
    let settings = rcn_gateway::Settings {
        header_read_timeout: Duration::from_secs(1),
        ..Default::default()
    };
    let gateway = TestGateway::spawn_with_settings(settings).await;
    let mut stream = TcpStream::connect(gateway.addr).await.unwrap();
    let started = Instant::now();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: rcn\r\n")
        .await
        .unwrap();
    let mut closed = false;
    while started.elapsed() < Duration::from_secs(6) {
        // A header line every 250 ms, never the empty line that ends the headers.
        if stream.write_all(b"X-Slow: 1\r\n").await.is_err()
            || closed_within(&mut stream, Duration::from_millis(250)).await
        {
            closed = true;
            break;
        }
    }
    let elapsed = started.elapsed();
    assert!(closed, "the connection is still open after {elapsed:?}");
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(3),
        "closed after {elapsed:?}"
    );
}

/// Sends a complete request for `/healthz` and waits up to `wait` for the first bytes of an answer.
async fn ask_health(stream: &mut TcpStream, wait: Duration) -> Option<String> {
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: rcn\r\n\r\n")
        .await
        .ok()?;
    let mut buf = [0u8; 1024];
    let n = tokio::time::timeout(wait, stream.read(&mut buf))
        .await
        .ok()?
        .ok()?;
    (n > 0).then(|| String::from_utf8_lossy(&buf[..n]).into_owned())
}

#[tokio::test]
async fn no_more_connections_are_served_than_the_cap() {
    let settings = rcn_gateway::Settings {
        max_connections: 2,
        ..Default::default()
    };
    let mut gateway = TestGateway::spawn_with_settings(settings).await;
    // The helper's own client still holds a kept-alive connection: dropping it closes it.
    gateway.client = reqwest::Client::new();
    let addr: SocketAddr = gateway.addr;
    let mut held = Vec::new();
    for i in 0..2 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let answer = ask_health(&mut stream, Duration::from_secs(5)).await;
        assert!(
            answer.is_some_and(|a| a.starts_with("HTTP/1.1 ")),
            "held connection {i} is served"
        );
        held.push(stream);
    }
    let mut third = TcpStream::connect(addr).await.unwrap();
    assert_eq!(
        ask_health(&mut third, Duration::from_millis(1500)).await,
        None,
        "a third connection is served while two are open"
    );
    drop(held.pop());
    let mut buf = [0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(5), third.read(&mut buf))
        .await
        .expect("the third connection is served once one closes")
        .unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 "));
}

#[tokio::test]
async fn a_request_whose_body_never_arrives_gets_503_after_the_request_time_out() {
    let settings = rcn_gateway::Settings {
        request_timeout: Duration::from_millis(500),
        ..Default::default()
    };
    let gateway = TestGateway::spawn_with_settings(settings).await;
    let mut stream = TcpStream::connect(gateway.addr).await.unwrap();
    let head = format!(
        "POST /v1/release-notices HTTP/1.1\r\nHost: rcn\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{",
        gateway.token
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 2048];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .expect("an answer before the body is complete")
        .unwrap();
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
}
