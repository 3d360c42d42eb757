//! The partner API end to end (issue 3): every request needs an institution's API token, an
//! institution sends and reads only its own notices, a resend is recognised, and a sender can ask
//! what became of a notice: accepted, routed, out of region, or waiting for manual routing.

use rcn_contracts::NoticeKind;
use rcn_runtime::testing::eventually;
use rcn_tests::{PATIENCE, TestStack, release_notice_json};
use serde_json::Value;

/// GETs the status of `notice_id` with `token`.
async fn status(stack: &TestStack, token: &str, notice_id: &str) -> reqwest::Response {
    let url = stack.url(&format!("/v1/release-notices/{notice_id}"));
    stack
        .client
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("the gateway answers")
}

/// Waits until the notice's status says `expected`, and returns the status body.
async fn wait_for_status(stack: &TestStack, notice_id: &str, expected: &str) -> Value {
    eventually(
        PATIENCE,
        &format!("{notice_id} to be {expected}"),
        || async {
            let response = status(stack, &stack.token, notice_id).await;
            if response.status() != 200 {
                return None;
            }
            let body: Value = response.json().await.ok()?;
            (body["status"] == expected).then_some(body)
        },
    )
    .await
}

fn notice(notice_id: &str) -> Value {
    let mut n = release_notice_json();
    n["notice_id"] = notice_id.into();
    n
}

#[tokio::test]
async fn without_a_valid_token_the_partner_api_answers_401_with_a_bearer_challenge() {
    let stack = TestStack::spawn().await;
    let url = stack.url("/v1/release-notices");
    let without = stack
        .client
        .post(&url)
        .json(&release_notice_json())
        .send()
        .await
        .unwrap();
    assert_eq!(without.status(), 401);
    assert_eq!(
        without.headers()["www-authenticate"],
        "Bearer realm=\"rcn\""
    );
    assert_eq!(
        without.headers()["content-type"],
        "application/problem+json"
    );

    let revoked = stack.issue_token("PI-HAARLEM").await;
    let pool = rcn_gateway::tokens::open(stack.env.config.database_url().unwrap())
        .await
        .unwrap();
    rcn_gateway::tokens::revoke(
        &pool,
        revoked.token_id,
        rcn_gateway::tokens::Actor::CommandLine,
        None,
    )
    .await
    .unwrap();
    // The real token with its last character changed (to something it is not).
    let (head, last) = stack.token.split_at(stack.token.len() - 1);
    let forged = format!("{head}{}", if last == "0" { "1" } else { "0" });
    for bad in [
        "nonsense",
        "rcn_00000000000000000000000000000000_00",
        forged.as_str(),
        revoked.token.as_str(),
    ] {
        let response = stack.post_notice_with(bad, &release_notice_json()).await;
        assert_eq!(response.status(), 401, "{bad}");
        assert_eq!(
            response.headers()["www-authenticate"],
            "Bearer realm=\"rcn\", error=\"invalid_token\""
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["type"], "urn:rcn:problem:unauthorized");
    }
    let basic = stack
        .client
        .post(&url)
        .basic_auth("PI-HAARLEM", Some(&stack.token))
        .json(&release_notice_json())
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401, "only the Bearer scheme");
    assert_eq!(
        stack
            .client
            .get(stack.url("/v1/release-notices/PIH-2026-000123"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    let js = stack.env.ctx("probe").await.jetstream();
    assert_eq!(
        stack
            .env
            .stream_len(&js, &stack.env.config.region.subjects().notices_stream())
            .await,
        0
    );
    // The token was used, and that is recorded; the revoked one is listed as revoked.
    let tokens = rcn_gateway::tokens::list(&pool).await.unwrap();
    assert!(tokens.iter().any(|t| t.token_id == revoked.token_id
        && t.state(chrono::Utc::now()) == rcn_gateway::tokens::TokenState::Revoked));
    stack.stop().await;
}

#[tokio::test]
async fn a_token_submits_only_its_own_institutions_notices() {
    let stack = TestStack::spawn().await;
    let zaanstad = stack.issue_token("PI-ZAANSTAD").await;
    let response = stack
        .post_notice_with(&zaanstad.token, &release_notice_json())
        .await;
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["type"], "urn:rcn:problem:forbidden");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("PI-ZAANSTAD") && detail.contains("sender.institution_code"),
        "{detail}"
    );
    assert!(
        !body.to_string().contains("PI-HAARLEM"),
        "a rejection does not echo the submitted sender: {body}"
    );

    let mut own = release_notice_json();
    own["sender"]["institution_code"] = "PI-ZAANSTAD".into();
    assert_eq!(
        stack.post_notice_with(&zaanstad.token, &own).await.status(),
        202
    );
    stack.stop().await;
}

#[tokio::test]
async fn a_notice_with_anything_after_it_is_refused_and_nothing_is_kept() {
    let stack = TestStack::spawn().await;
    let notice = notice("PIH-TRAILING-1");
    let body = [serde_json::to_vec(&notice).unwrap(), b"xyz".to_vec()].concat();
    let response = stack
        .client
        .post(stack.url("/v1/release-notices"))
        .bearer_auth(&stack.token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("the gateway answers");
    assert_eq!(response.status(), 400);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["invalidParams"][0]["name"], "", "{problem}");
    assert_eq!(
        status(&stack, &stack.token, "PIH-TRAILING-1")
            .await
            .status(),
        404,
        "nothing was kept"
    );
    // The same notice without the tail is accepted: the refusal was for the tail alone.
    assert_eq!(stack.post_notice(&notice).await.status(), 202);
    stack.stop().await;
}

#[tokio::test]
async fn a_sender_learns_where_its_notice_was_routed_and_others_do_not_see_it() {
    let stack = TestStack::spawn().await;
    assert_eq!(stack.post_notice(&notice("PIH-1")).await.status(), 202);
    let routed = wait_for_status(&stack, "PIH-1", "routed").await;
    assert_eq!(routed["gemeentecode"], "GM0392");
    assert_eq!(routed["kind"], "release_planned");
    assert!(routed["decided_at"].is_string() && routed["received_at"].is_string());
    assert!(
        !routed.to_string().contains("123456782"),
        "no personal data: {routed}"
    );

    let zaanstad = stack.issue_token("PI-ZAANSTAD").await;
    let response = status(&stack, &zaanstad.token, "PIH-1").await;
    assert_eq!(
        response.status(),
        404,
        "another institution's notice is not found"
    );
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    assert_eq!(
        status(&stack, &stack.token, "PIH-unknown").await.status(),
        404
    );
    assert_eq!(
        status(&stack, &stack.token, "no%20spaces").await.status(),
        400
    );
    stack.stop().await;
}

#[tokio::test]
async fn out_of_region_and_unroutable_notices_say_so() {
    let stack = TestStack::spawn().await;
    let mut amsterdam = notice("PIH-AMS");
    amsterdam["person"]["brp_municipality"] = "GM0363".into();
    assert_eq!(stack.post_notice(&amsterdam).await.status(), 202);
    let mut nowhere = notice("PIH-NFA");
    let person = nowhere["person"].as_object_mut().unwrap();
    person.remove("brp_municipality");
    person.remove("address");
    person.insert("no_fixed_abode".into(), true.into());
    assert_eq!(stack.post_notice(&nowhere).await.status(), 202);

    let out = wait_for_status(&stack, "PIH-AMS", "out_of_region").await;
    assert_eq!(out["gemeentecode"], "GM0363");
    let waiting = wait_for_status(&stack, "PIH-NFA", "awaiting_manual_routing").await;
    assert!(waiting.get("gemeentecode").is_none(), "{waiting}");
    stack.stop().await;
}

#[tokio::test]
async fn a_resend_gets_its_receipt_and_a_changed_notice_under_the_same_id_gets_409() {
    let stack = TestStack::spawn().await;
    let first: Value = stack
        .post_notice(&notice("PIH-R"))
        .await
        .json()
        .await
        .unwrap();
    wait_for_status(&stack, "PIH-R", "routed").await;
    let again = stack.post_notice(&notice("PIH-R")).await;
    assert_eq!(again.status(), 202);
    let again: Value = again.json().await.unwrap();
    assert_eq!(
        (&again["status"], &again["received_at"]),
        (&"already_received".into(), &first["received_at"])
    );

    let mut changed = notice("PIH-R");
    changed["detention"]["expected_release_on"] = "2027-01-10".into();
    let response = stack.post_notice(&changed).await;
    assert_eq!(response.status(), 409);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["type"], "urn:rcn:problem:conflict");
    assert_eq!(body["invalidParams"][0]["name"], "notice_id");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("already accepted"),
        "{body}"
    );
    stack.stop().await;
}

#[tokio::test]
async fn every_kind_of_notice_is_accepted_and_linked_to_its_episode() {
    let stack = TestStack::spawn().await;
    for kind in NoticeKind::ALL {
        let mut n = notice(&format!("PIH-K-{}", kind.as_str()));
        n["kind"] = kind.as_str().into();
        let response = stack.post_notice(&n).await;
        assert_eq!(response.status(), 202, "{}", kind.as_str());
    }
    for kind in NoticeKind::ALL {
        let body = wait_for_status(&stack, &format!("PIH-K-{}", kind.as_str()), "routed").await;
        assert_eq!(body["kind"], kind.as_str());
    }
    // Same person, same detention start: one episode.
    let episodes = stack
        .count("SELECT count(DISTINCT episode_key) FROM intake.receipts")
        .await;
    assert_eq!(episodes, 1);
    stack.stop().await;
}

#[tokio::test]
async fn a_rotated_token_works_and_the_old_one_stops_after_its_grace() {
    let stack = TestStack::spawn().await;
    let pool = rcn_gateway::tokens::open(stack.env.config.database_url().unwrap())
        .await
        .unwrap();
    let old = stack.issue_token("PI-HAARLEM").await;
    let new = rcn_gateway::tokens::rotate(
        &pool,
        old.token_id,
        std::time::Duration::from_secs(3600),
        rcn_gateway::tokens::Actor::CommandLine,
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        stack
            .post_notice_with(&old.token, &notice("PIH-G1"))
            .await
            .status(),
        202,
        "within the grace period"
    );
    assert_eq!(
        stack
            .post_notice_with(&new.token, &notice("PIH-G2"))
            .await
            .status(),
        202
    );
    let newer = rcn_gateway::tokens::rotate(
        &pool,
        new.token_id,
        std::time::Duration::ZERO,
        rcn_gateway::tokens::Actor::CommandLine,
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        stack
            .post_notice_with(&new.token, &notice("PIH-G3"))
            .await
            .status(),
        401
    );
    assert_eq!(
        stack
            .post_notice_with(&newer.token, &notice("PIH-G3"))
            .await
            .status(),
        202
    );
    assert!(
        rcn_gateway::tokens::rotate(
            &pool,
            new.token_id,
            std::time::Duration::ZERO,
            rcn_gateway::tokens::Actor::CommandLine,
            None
        )
        .await
        .is_err(),
        "a revoked token is not rotated"
    );
    let stored: Vec<Vec<u8>> = sqlx::query_scalar("SELECT secret_hash FROM gateway.api_tokens")
        .fetch_all(&stack.db)
        .await
        .unwrap();
    assert!(
        stored.iter().all(|h| h.len() == 32),
        "only hashes are stored"
    );
    let everything =
        sqlx::query_scalar::<_, String>("SELECT row_to_json(t)::text FROM gateway.api_tokens t")
            .fetch_all(&stack.db)
            .await
            .unwrap()
            .join("\n");
    let secret = newer.token.rsplit('_').next().unwrap();
    assert!(!everything.contains(secret), "the secret is not stored");
    stack.stop().await;
}

#[tokio::test]
async fn the_openapi_document_is_served_as_committed() {
    let stack = TestStack::spawn().await;
    let response = stack
        .client
        .get(stack.url("/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["api-version"], "1.0.0");
    let served: Value = response.json().await.unwrap();
    let committed: Value = serde_json::from_str(include_str!("../../schemas/openapi.json"))
        .expect("the committed document is JSON");
    assert_eq!(served, committed);
    stack.stop().await;
}
