//! The staff portal at the HTTP level: the sign-in form's protections, the pages' security
//! headers, and the built-in accounts' rules. (The pages themselves are tested in a real browser:
//! `tests/browser`.)

use rcn_contracts::Gemeentecode;
use rcn_contracts::identity::Role;
use rcn_gateway::portal::users::{self, NewUser, UserError};

use crate::helpers::TestGateway;

/// The login form's token and its double-submit cookie, as a browser gets them.
async fn login_form(gateway: &TestGateway) -> (String, String) {
    let response = gateway.get("/inloggen").await;
    assert_eq!(response.status(), 200);
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("rcn_inlog="))
        .and_then(|v| v.split(';').next())
        .expect("the login cookie")
        .to_owned();
    let html = response.text().await.expect("the page");
    let token = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the form's token")
        .to_owned();
    (cookie, token)
}

async fn post_login(gateway: &TestGateway, cookie: &str, body: String) -> reqwest::Response {
    gateway
        .client
        .post(gateway.url("/inloggen"))
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("the gateway answers")
}

async fn add_anna(gateway: &TestGateway) {
    let url = gateway.env.config.database_url().expect("set");
    let pool = rcn_gateway::tokens::open(url).await.expect("the schema");
    users::add(
        &pool,
        NewUser {
            user_id: "anna",
            display_name: "Anna de Vries",
            role: Role::MunicipalStaff,
            gemeentecode: Gemeentecode::parse("GM0392").ok(),
            password: "correct horse battery",
        },
    )
    .await
    .expect("anna is added");
}

#[tokio::test]
async fn repeated_failed_sign_ins_from_one_address_are_refused_for_a_while() {
    let settings = rcn_gateway::Settings {
        auth_failures_max: 2,
        ..Default::default()
    };
    let gateway = TestGateway::spawn_with_settings(settings).await;
    add_anna(&gateway).await;
    let (cookie, token) = login_form(&gateway).await;
    for _ in 0..2 {
        let r = post_login(
            &gateway,
            &cookie,
            format!("csrf={token}&gebruikersnaam=anna&wachtwoord=wrong"),
        )
        .await;
        assert_eq!(r.status(), 401);
        assert!(r.text().await.unwrap().contains("klopt niet"));
    }
    // Now even the right password is not looked at.
    let r = post_login(
        &gateway,
        &cookie,
        format!("csrf={token}&gebruikersnaam=anna&wachtwoord=correct+horse+battery"),
    )
    .await;
    assert_eq!(r.status(), 429);
    assert!(r.text().await.unwrap().contains("te vaak"));
}

#[tokio::test]
async fn a_sign_in_without_the_forms_token_is_refused_and_signs_nobody_in() {
    let gateway = TestGateway::spawn().await;
    add_anna(&gateway).await;
    let (cookie, _) = login_form(&gateway).await;
    let r = post_login(
        &gateway,
        &cookie,
        "gebruikersnaam=anna&wachtwoord=correct+horse+battery".into(),
    )
    .await;
    assert_eq!(r.status(), 403);
    assert!(r.headers().get("set-cookie").is_none(), "no session cookie");
    assert!(r.text().await.unwrap().contains("Formulier geweigerd"));
}

#[tokio::test]
async fn a_good_sign_in_sets_an_http_only_lax_session_cookie() {
    let gateway = TestGateway::spawn().await;
    add_anna(&gateway).await;
    let (cookie, token) = login_form(&gateway).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = client
        .post(gateway.url("/inloggen"))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "csrf={token}&gebruikersnaam=anna&wachtwoord=correct+horse+battery"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let set = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set.starts_with("rcn_sessie="), "{set}");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    assert!(!set.contains("Secure"), "plain HTTP in tests: {set}");
    // The database keeps only the hash of the session id.
    let id = set
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("rcn_sessie=");
    let db = gateway.env.db().await;
    let stored: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM gateway.portal_sessions WHERE encode(session_hash, 'hex') = $1",
    )
    .bind(id)
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(stored, 0, "the session id itself is not stored");
    let hashed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM gateway.portal_sessions
         WHERE session_hash = sha256(convert_to($1, 'UTF8')) AND user_id = 'anna'",
    )
    .bind(id)
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(hashed, 1, "its SHA-256 is");
}

#[tokio::test]
async fn portal_pages_allow_only_the_gateways_own_scripts_and_the_api_keeps_its_policy() {
    let gateway = TestGateway::spawn().await;
    let page = gateway.get("/inloggen").await;
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let api = gateway.get("/v1/release-notices/x").await;
    assert_eq!(
        api.headers()["content-security-policy"],
        "frame-ancestors 'none'"
    );
    let css = gateway.get("/assets/vendor/htmx/htmx.min.js").await;
    assert_eq!(css.status(), 200);
    assert!(
        css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert_eq!(gateway.get("/assets/../Cargo.toml").await.status(), 404);
    // A browser gets a Dutch page for a page that does not exist; the API stays problem+json.
    let missing = gateway
        .client
        .get(gateway.url("/bestaat-niet"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("an answer");
    assert_eq!(missing.status(), 404);
    assert!(
        missing
            .text()
            .await
            .expect("a page")
            .contains("Niet gevonden")
    );
    let api_missing = gateway
        .client
        .get(gateway.url("/v1/bestaat-niet"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("an answer");
    assert_eq!(
        api_missing.headers()["content-type"],
        "application/problem+json"
    );
}

#[tokio::test]
async fn a_built_in_account_needs_a_long_password_a_municipality_for_staff_and_a_new_name() {
    let gateway = TestGateway::spawn().await;
    add_anna(&gateway).await;
    let pool = rcn_gateway::tokens::open(gateway.env.config.database_url().unwrap())
        .await
        .unwrap();
    let new = |user_id, role, gm: Option<&str>, password| NewUser {
        user_id,
        display_name: "Iemand",
        role,
        gemeentecode: gm.map(|g| Gemeentecode::parse(g).unwrap()),
        password,
    };
    let short = users::add(
        &pool,
        new("bert", Role::MunicipalStaff, Some("GM0392"), "kort"),
    )
    .await;
    assert!(matches!(short, Err(UserError::Invalid(_))), "{short:?}");
    let no_gm = users::add(
        &pool,
        new("bert", Role::MunicipalStaff, None, "long enough pass"),
    )
    .await;
    assert!(matches!(no_gm, Err(UserError::Invalid(_))), "{no_gm:?}");
    let again = users::add(
        &pool,
        new("anna", Role::RcnCoordinator, None, "long enough pass"),
    )
    .await;
    assert!(matches!(again, Err(UserError::Exists(_))), "{again:?}");
    assert!(
        users::verify(&pool, "anna", "correct horse battery")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        users::verify(&pool, "anna", "wrong")
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        users::disable(&pool, "nobody").await,
        Err(UserError::NotFound(_))
    ));
}
