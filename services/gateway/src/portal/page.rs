//! What every portal page shares: the layout's data (who is signed in, the navigation, the
//! one-time message, the CSRF token of the sign-out form), rendering a template into a response
//! with the portal's content-security policy, and the one error type of the portal's handlers,
//! shown as a Dutch page.
//!
//! An internal error is logged here and shown as a plain sentence, never with its cause.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use rcn_contracts::identity::Role;

use crate::portal::fmt;
use crate::portal::session::{Flash, NoSession, Staff};

/// Scripts and styles only from the gateway itself; no inline script, no framing, forms only to
/// the portal.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; \
                       frame-ancestors 'none'";

/// One item of the main navigation.
#[derive(Debug, Clone)]
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// What the layout shows around every page.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The page's title, also the first part of `<title>`.
    pub title: String,
    /// The signed-in person, when there is one: name, and role (and municipality) in words.
    pub user: Option<(String, String)>,
    pub nav: Vec<NavItem>,
    pub csrf_token: String,
    pub flash: Option<Flash>,
}

impl Layout {
    /// The layout of a page for someone not signed in.
    pub fn public(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            user: None,
            nav: Vec::new(),
            csrf_token: String::new(),
            flash: None,
        }
    }

    /// The layout of a page for `staff`, with `current` the navigation item it belongs to.
    pub fn for_staff(staff: &Staff, title: impl Into<String>, current: &str) -> Self {
        let who = &staff.identity;
        let mut role = fmt::role(who.role).to_owned();
        if let Some(gm) = &who.gemeentecode {
            role = format!("{role}, gemeente {}", fmt::municipality(gm));
        }
        let nav = nav_for(who.role)
            .into_iter()
            .map(|(href, label)| NavItem {
                href,
                label,
                current: href == current,
            })
            .collect();
        Self {
            title: title.into(),
            user: Some((staff.display_name.clone(), role)),
            nav,
            csrf_token: staff.csrf_token.clone(),
            flash: staff.flash.clone(),
        }
    }
}

/// The pages a role works with.
fn nav_for(role: Role) -> Vec<(&'static str, &'static str)> {
    match role {
        Role::MunicipalStaff => vec![
            ("/taken", "Mijn taken"),
            ("/taken/gemeente", "Taken van de gemeente"),
            ("/aanmeldingen", "Aanmeldingen procesregie"),
            ("/icos", "ICO's"),
            ("/overzicht", "Overzicht"),
        ],
        Role::RcnCoordinator => vec![
            ("/taken/gemeente", "Taken in de regio"),
            ("/routering", "Routeringswachtrij"),
            ("/aanmeldingen", "Aanmeldingen procesregie"),
            ("/triage", "Triage"),
            ("/icos", "ICO's"),
            ("/dode-berichten", "Dode berichten"),
            ("/partnertoegang", "Partnertoegang"),
            ("/overzicht", "Overzicht"),
        ],
        Role::Procesregisseur => vec![
            ("/triage", "Triage"),
            ("/icos", "Mijn ICO's"),
            ("/aanmeldingen", "Aanmeldingen"),
            ("/taken/gemeente", "Taken in de regio"),
            ("/overzicht", "Overzicht"),
        ],
        Role::Administrator => vec![
            ("/", "Start"),
            ("/partnertoegang", "Partnertoegang"),
            ("/privacy/verwijderlogboek", "Verwijderlogboek"),
        ],
        Role::PrivacyOfficer => vec![
            ("/privacy", "Wie heeft ingezien"),
            ("/privacy/inzage", "Inzageverzoek"),
            ("/privacy/verwijderlogboek", "Verwijderlogboek"),
        ],
    }
}

/// Lets the portal's forms lead to the identity provider's origin as well: signing out is a form
/// whose answer redirects there (RP-initiated logout), and a browser applies `form-action` to
/// every redirect of a form's navigation. Only the portal's own CSP is changed.
pub fn allow_form_action(mut response: Response, origin: Option<&str>) -> Response {
    let Some(origin) = origin else {
        return response;
    };
    let is_portal = response
        .headers()
        .get(header::CONTENT_SECURITY_POLICY)
        .is_some_and(|v| v.as_bytes() == CSP.as_bytes());
    if is_portal {
        let csp = CSP.replace(
            "form-action 'self'",
            &format!("form-action 'self' {origin}"),
        );
        if let Ok(v) = HeaderValue::from_str(&csp) {
            response
                .headers_mut()
                .insert(header::CONTENT_SECURITY_POLICY, v);
        }
    }
    response
}

/// Renders `template` as an HTML response.
pub fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => html_response(StatusCode::OK, html),
        Err(e) => {
            PortalError::Internal(anyhow::Error::new(e).context("rendering a page")).into_response()
        }
    }
}

fn html_response(status: StatusCode, html: String) -> Response {
    let mut response = (status, axum::response::Html(html)).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    response
}

/// Why a portal request did not get its page.
#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    /// No live session: to the sign-in page (saying the session ended, when it did).
    #[error("not signed in")]
    NotSignedIn(NoSession),
    /// A form without this session's CSRF token: nothing was done.
    #[error("the form's CSRF token is missing or wrong")]
    Csrf,
    /// No such case or task, or not one this person may see: the same page either way.
    #[error("not found")]
    NotFound,
    /// This person's role has no business here; the text says so in Dutch.
    #[error("not allowed: {0}")]
    Forbidden(String),
    /// The request itself is wrong (a malformed form); the text says what, in Dutch.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// A service or the database cannot answer now.
    #[error("temporarily unavailable")]
    Unavailable,
    #[error("internal error: {0:#}")]
    Internal(anyhow::Error),
}

#[derive(Template)]
#[template(path = "portal/error.html")]
struct ErrorPage {
    l: Layout,
    heading: String,
    text: String,
}

impl IntoResponse for PortalError {
    fn into_response(self) -> Response {
        let (status, heading, text) = match self {
            PortalError::NotSignedIn(why) => {
                let to = match why {
                    NoSession::Missing => "/inloggen",
                    NoSession::Expired => "/inloggen?verlopen=1",
                };
                return Redirect::to(to).into_response();
            }
            PortalError::Csrf => (
                StatusCode::FORBIDDEN,
                "Formulier geweigerd",
                "Dit formulier is niet vanuit uw eigen sessie verstuurd (het beveiligingskenmerk \
                 ontbreekt of klopt niet). Er is niets gewijzigd. Ga terug, laad de pagina opnieuw \
                 en probeer het nog eens."
                    .to_owned(),
            ),
            PortalError::NotFound => (
                StatusCode::NOT_FOUND,
                "Niet gevonden",
                "Deze pagina of casus bestaat niet, of u heeft er geen toegang toe.".to_owned(),
            ),
            PortalError::Forbidden(text) => (StatusCode::FORBIDDEN, "Geen toegang", text),
            PortalError::BadRequest(text) => (StatusCode::BAD_REQUEST, "Niet gelukt", text),
            PortalError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Even niet beschikbaar",
                "Het systeem kan uw verzoek nu niet afhandelen. Probeer het over een paar minuten \
                 opnieuw; er is niets gewijzigd."
                    .to_owned(),
            ),
            PortalError::Internal(e) => {
                tracing::error!(error = %format!("{e:#}"), "portal request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Er ging iets mis",
                    "Er ging aan onze kant iets mis; dit is vastgelegd. Probeer het later opnieuw."
                        .to_owned(),
                )
            }
        };
        let page = ErrorPage {
            l: Layout::public(heading),
            heading: heading.to_owned(),
            text,
        };
        match page.render() {
            Ok(html) => html_response(status, html),
            Err(_) => (status, heading).into_response(),
        }
    }
}

impl From<sqlx::Error> for PortalError {
    fn from(e: sqlx::Error) -> Self {
        if rcn_runtime::db::is_unavailable(&e) {
            PortalError::Unavailable
        } else {
            PortalError::Internal(anyhow::Error::new(e).context("a portal query"))
        }
    }
}
