//! A minimal relying party for the tests, standing in for the portal's session layer: it keeps
//! each browser's pending sign-in and signed-in person in memory under a cookie, and uses
//! `rcn_gateway::portal::oidc` for `/inloggen/oidc`, `/oidc/callback` and `/uitloggen`. Each
//! page shows its outcome in elements with ids the tests read.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use rcn_gateway::portal::oidc::{CallbackQuery, Oidc, OidcError, PendingLogin, SignedIn};
use tokio::net::TcpListener;

const LOGIN_COOKIE: &str = "rp_login";
const SESSION_COOKIE: &str = "rp_session";

/// The relying party's in-memory "sessions".
pub struct Rp {
    pub oidc: Oidc,
    pub base: String,
    pending: Mutex<HashMap<String, PendingLogin>>,
    sessions: Mutex<HashMap<String, SignedIn>>,
    /// The last callback handled, so `/oidc/replay` can present it to the module again.
    last: Mutex<Option<(PendingLogin, CallbackQuery)>>,
}

/// A running relying party.
pub struct TestRp {
    pub rp: Arc<Rp>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestRp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A bound port, so the provider can be told the redirect URL before the relying party exists.
pub struct RpAddress {
    listener: TcpListener,
    pub base: String,
}

impl RpAddress {
    pub async fn bind() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let base = format!("http://{}", listener.local_addr().expect("bound"));
        Self { listener, base }
    }

    pub fn callback(&self) -> String {
        format!("{}/oidc/callback", self.base)
    }

    pub fn signed_out(&self) -> String {
        format!("{}/afgemeld", self.base)
    }

    /// Serves the relying party with `oidc`.
    pub fn serve(self, oidc: Oidc) -> TestRp {
        let rp = Arc::new(Rp {
            oidc,
            base: self.base,
            pending: Mutex::default(),
            sessions: Mutex::default(),
            last: Mutex::default(),
        });
        let app = Router::new()
            .route("/", get(home))
            .route("/inloggen/oidc", get(begin))
            .route("/oidc/callback", get(callback))
            .route("/oidc/replay", get(replay))
            .route("/uitloggen", get(sign_out))
            .route("/afgemeld", get(signed_out))
            .with_state(rp.clone());
        let listener = self.listener;
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("the relying party serves");
        });
        TestRp { rp, server }
    }
}

impl TestRp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.rp.base)
    }
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.to_owned())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html><html lang=\"nl\"><head><meta charset=\"utf-8\"><title>{t}</title></head>\
         <body><main><h1 id=\"outcome\">{t}</h1>{body}</main></body></html>",
        t = escape(title)
    );
    (status, Html(html)).into_response()
}

fn refused(e: &OidcError) -> Response {
    let (status, title) = if e.is_no_access() {
        (StatusCode::FORBIDDEN, "Geen toegang")
    } else {
        (StatusCode::BAD_REQUEST, "Aanmelden mislukt")
    };
    page(
        status,
        title,
        &format!(
            "<p id=\"reason\">{}</p><p>Code: <code id=\"kind\">{}</code></p>\
             <p><a id=\"again\" href=\"/inloggen/oidc\">Opnieuw aanmelden</a></p>",
            escape(&e.message_nl()),
            e.kind()
        ),
    )
}

fn signed_in(s: &SignedIn) -> Response {
    let id = &s.person.identity;
    page(
        StatusCode::OK,
        "Aangemeld",
        &format!(
            "<dl><dt>Naam</dt><dd id=\"name\">{}</dd><dt>Gebruiker</dt><dd id=\"user-id\">{}</dd>\
             <dt>Rol</dt><dd id=\"role\">{}</dd><dt>Gemeente</dt><dd id=\"gemeentecode\">{}</dd></dl>\
             <p><a id=\"uitloggen\" href=\"/uitloggen\">Afmelden</a></p>",
            escape(&s.person.display_name),
            escape(&id.user_id),
            id.role.as_str(),
            id.gemeentecode.as_ref().map(|g| g.as_str()).unwrap_or("-"),
        ),
    )
}

async fn home() -> Response {
    page(
        StatusCode::OK,
        "Welkom",
        "<p><a id=\"inloggen\" href=\"/inloggen/oidc\">Inloggen</a></p>",
    )
}

async fn begin(State(rp): State<Arc<Rp>>) -> Response {
    match rp.oidc.begin().await {
        Ok((url, pending)) => {
            let id = uuid::Uuid::new_v4().simple().to_string();
            rp.pending.lock().unwrap().insert(id.clone(), pending);
            (
                [(
                    header::SET_COOKIE,
                    format!("{LOGIN_COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax"),
                )],
                Redirect::to(url.as_str()),
            )
                .into_response()
        }
        Err(e) => refused(&e),
    }
}

async fn callback(
    State(rp): State<Arc<Rp>>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Response {
    // One pending sign-in per browser, used once: taken out before it is checked.
    let pending =
        cookie(&headers, LOGIN_COOKIE).and_then(|id| rp.pending.lock().unwrap().remove(&id));
    let Some(pending) = pending else {
        return page(
            StatusCode::BAD_REQUEST,
            "Aanmelden mislukt",
            "<p id=\"reason\">Er loopt geen aanmelding in deze browser.</p>\
             <p>Code: <code id=\"kind\">no_pending_login</code></p>",
        );
    };
    *rp.last.lock().unwrap() = Some((pending.clone(), query.clone()));
    match rp.oidc.finish(&pending, &query).await {
        Ok(s) => {
            let id = uuid::Uuid::new_v4().simple().to_string();
            let response = signed_in(&s);
            rp.sessions.lock().unwrap().insert(id.clone(), s);
            (
                [(
                    header::SET_COOKIE,
                    format!("{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax"),
                )],
                response,
            )
                .into_response()
        }
        Err(e) => refused(&e),
    }
}

/// Presents the last callback to the module once more, as a session layer that forgot to
/// consume its pending sign-in would: the provider must refuse the used code.
async fn replay(State(rp): State<Arc<Rp>>) -> Response {
    let last = rp.last.lock().unwrap().clone();
    let Some((pending, query)) = last else {
        return page(StatusCode::BAD_REQUEST, "Niets om te herhalen", "");
    };
    match rp.oidc.finish(&pending, &query).await {
        Ok(s) => signed_in(&s),
        Err(e) => refused(&e),
    }
}

async fn sign_out(State(rp): State<Arc<Rp>>, headers: HeaderMap) -> Response {
    let session =
        cookie(&headers, SESSION_COOKIE).and_then(|id| rp.sessions.lock().unwrap().remove(&id));
    let hint = session.as_ref().map(|s| s.id_token.as_str());
    let back = format!("{}/afgemeld", rp.base);
    match rp.oidc.end_session_url(hint, &back).await {
        Ok(Some(url)) => Redirect::to(url.as_str()).into_response(),
        Ok(None) => Redirect::to(&back).into_response(),
        Err(e) => refused(&e),
    }
}

async fn signed_out() -> Response {
    page(
        StatusCode::OK,
        "U bent afgemeld",
        "<p><a id=\"inloggen\" href=\"/inloggen/oidc\">Opnieuw inloggen</a></p>",
    )
}
