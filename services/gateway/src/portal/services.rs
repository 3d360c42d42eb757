//! Asking the owning services over NATS on behalf of the signed-in person, exactly as the partner
//! API does: the person's `Identity` in the `Rcn-Identity` header, the request in the body, and
//! the service deciding (and authorising again). The portal never reads another service's tables.

use std::time::Duration;

use rcn_contracts::casework_api::{self, ErrorCode};
use rcn_contracts::envelope::{ApiProblem, ApiReply};
use rcn_contracts::identity::Identity;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::portal::page::PortalError;

/// How long the portal waits for a service.
const SERVICE_TIMEOUT: Duration = Duration::from_secs(10);

async fn request(
    state: &AppState,
    subject: String,
    who: &Identity,
    body: &impl Serialize,
) -> Result<bytes::Bytes, PortalError> {
    if state.nats.connection_state() != async_nats::connection::State::Connected {
        return Err(PortalError::Unavailable);
    }
    let payload = serde_json::to_vec(body).expect("a request serialises");
    // Signed for exactly this subject and body: the service believes the identity only so.
    let mut h = state.signer.sign(&who.to_header(), &subject, &payload);
    if let Some(trace) = rcn_runtime::trace_context::current() {
        trace.insert_into(&mut h);
    }
    let request = async_nats::Request::new()
        .payload(payload.into())
        .headers(h)
        .timeout(Some(SERVICE_TIMEOUT));
    match state.nats.send_request(subject, request).await {
        Ok(m) => Ok(m.payload),
        Err(e) => {
            tracing::warn!(error = %e, "a service did not answer the portal");
            Err(PortalError::Unavailable)
        }
    }
}

/// Calls casework's `verb` as `who`: its answer, or its refusal (a problem of one of casework's
/// kinds, [`ErrorCode::of`]).
pub async fn casework<T: DeserializeOwned>(
    state: &AppState,
    verb: &str,
    who: &Identity,
    body: &impl Serialize,
) -> Result<Result<T, ApiProblem>, PortalError> {
    endpoint(state, state.subjects.casework_api(verb), who, body).await
}

/// Calls a kit endpoint (the router's) on `subject` as `who`: its answer, or its problem.
pub async fn endpoint<T: DeserializeOwned>(
    state: &AppState,
    subject: String,
    who: &Identity,
    body: &impl Serialize,
) -> Result<Result<T, ApiProblem>, PortalError> {
    let payload = request(state, subject, who, body).await?;
    let reply: ApiReply<T> = serde_json::from_slice(&payload).map_err(|e| {
        PortalError::Internal(anyhow::anyhow!(
            "a service answered something unreadable: {e}"
        ))
    })?;
    match reply.into_result() {
        Ok(v) => Ok(Ok(v)),
        Err(p) if p.status == 503 => Err(PortalError::Unavailable),
        Err(p) if p.status >= 500 => Err(PortalError::Internal(anyhow::anyhow!(
            "a service failed: {}",
            p.detail
        ))),
        Err(p) => Ok(Err(p)),
    }
}

/// What a casework refusal means for a person, in Dutch.
pub fn refusal_in_dutch(e: &ApiProblem, holder: Option<&str>) -> String {
    let Some(code) = ErrorCode::of(e) else {
        return "Het systeem kan dit nu niet afhandelen. Probeer het later opnieuw.".into();
    };
    match code {
        ErrorCode::ClaimedByOther => match holder.or(casework_api::held_by(e)) {
            Some(h) => format!("Deze taak is al geclaimd door {h}."),
            None => "Deze taak is al geclaimd door een collega.".into(),
        },
        ErrorCode::NotClaimedByYou => "U heeft deze taak niet (meer) geclaimd.".into(),
        ErrorCode::HolderChanged => {
            "Iemand anders heeft deze taak intussen gewijzigd. Bekijk de taak opnieuw.".into()
        }
        ErrorCode::TaskDone => "Deze taak is al afgerond en kan niet worden geclaimd.".into(),
        ErrorCode::InvalidTransition => "Deze statuswijziging is niet toegestaan.".into(),
        ErrorCode::ReasonRequired => {
            "Geef een reden op waarom deze voorwaarde niet van toepassing is.".into()
        }
        ErrorCode::NoteRequired => "Voeg een toelichting toe.".into(),
        ErrorCode::NoChange => "De taak had deze status al; er is niets gewijzigd.".into(),
        ErrorCode::CaseClosed => {
            "Deze casus is gesloten; er kan niets meer worden gewijzigd.".into()
        }
        ErrorCode::Forbidden => "Dit mag u met uw rol niet doen.".into(),
        ErrorCode::NotFound => {
            "Deze casus of taak bestaat niet, of u heeft er geen toegang toe.".into()
        }
        ErrorCode::BadRequest => {
            "Het verzoek is niet compleet of te lang. Controleer de velden.".into()
        }
        ErrorCode::Unauthenticated | ErrorCode::Unavailable | ErrorCode::Internal => {
            "Het systeem kan dit nu niet afhandelen. Probeer het later opnieuw.".into()
        }
    }
}
