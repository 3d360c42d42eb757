//! The RCN's *Routeringswachtrij* (`/routering`): notices no rule could route, oldest first, each
//! with what routing looked at and a decision form (a municipality of the region, or one outside
//! it, and why). The router decides, in the coordinator's own name, and refuses anyone else;
//! when two coordinators decide the same notice, the first decision stands and the second is told.
//! Below it: the notices forwarded to another region that have not been acknowledged there yet.

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use rcn_contracts::Gemeentecode;
use rcn_contracts::envelope::NoParameters;
use rcn_contracts::identity::Role;
use rcn_contracts::routing_api::{
    ForwardedListReply, ManualRouting, ManualRoutingKind, QueueDecideReply, QueueDecideRequest,
    QueueListReply, QueueListRequest,
};

use crate::AppState;
use crate::portal::form;
use crate::portal::page::{self, Layout, PortalError};
use crate::portal::reasons::Page;
use crate::portal::session::{self, Flash, Staff};
use crate::portal::{fmt, services};

pub struct Waiting {
    pub notice_key: String,
    pub anchor: String,
    pub received: String,
    pub reason: String,
    pub ambiguous: bool,
    pub kind: String,
    pub institution: String,
    pub bsn_masked: String,
    pub release: String,
    pub inputs: String,
}

#[derive(Template)]
#[template(path = "portal/routing.html")]
struct QueuePage {
    l: Layout,
    waiting: Vec<Waiting>,
    more: bool,
    municipalities: Vec<(String, String)>,
    /// Notices sent on to another region and not yet acknowledged there:
    /// (forwarded at, notice key, municipality, region).
    forwards: Vec<(String, String, String, String)>,
}

fn require_rcn(staff: &Staff) -> Result<(), PortalError> {
    if staff.identity.role == Role::RcnCoordinator {
        Ok(())
    } else {
        Err(PortalError::Forbidden(
            "Alleen de RCN-coördinator beslist over de routeringswachtrij.".into(),
        ))
    }
}

/// `GET /routering`.
pub async fn queue(
    State(state): State<Arc<AppState>>,
    staff: Staff,
) -> Result<Response, PortalError> {
    require_rcn(&staff)?;
    let reply: QueueListReply = services::endpoint(
        &state,
        state.subjects.router_queue_list(),
        &staff.identity,
        &QueueListRequest {
            limit: Some(100),
            why: Page::RoutingQueue.why(),
        },
    )
    .await?
    .map_err(|p| PortalError::Forbidden(p.detail))?;
    let QueueListReply::Waiting { notices, more } = reply;
    let waiting = notices
        .into_iter()
        .enumerate()
        .map(|(i, n)| Waiting {
            anchor: format!("melding-{i}"),
            received: fmt::date_time(n.received_at),
            reason: n.reason,
            ambiguous: n.ambiguous,
            kind: n.notice_kind.map_or("—", fmt::notice_kind).to_owned(),
            institution: n.institution_code.unwrap_or_else(|| "—".into()),
            bsn_masked: n.bsn_masked.unwrap_or_else(|| "—".into()),
            release: fmt::opt_date(n.expected_release_on),
            inputs: inputs_in_words(&n.inputs),
            notice_key: n.notice_key,
        })
        .collect();
    let forwarded: ForwardedListReply = services::endpoint(
        &state,
        state.subjects.router_forwarded_list(),
        &staff.identity,
        &NoParameters {},
    )
    .await?
    .map_err(|p| PortalError::Forbidden(p.detail))?;
    let ForwardedListReply::Forwarded { forwards } = forwarded;
    let forwards = forwards
        .into_iter()
        .map(|f| {
            (
                fmt::date_time(f.forwarded_at),
                f.notice_key,
                fmt::municipality(&f.gemeentecode),
                f.target_region,
            )
        })
        .collect();
    let municipalities = rcn_contracts::region::RegionTable::kennemerland()
        .municipalities
        .iter()
        .map(|m| (m.code.as_str().to_owned(), m.name.clone()))
        .collect();
    Ok(page::render(&QueuePage {
        l: Layout::for_staff(&staff, "Routeringswachtrij", "/routering"),
        waiting,
        more,
        municipalities,
        forwards,
    }))
}

/// What routing looked at, as `name: value` pairs.
fn inputs_in_words(inputs: &serde_json::Value) -> String {
    match inputs {
        serde_json::Value::Object(map) if !map.is_empty() => map
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k}: {s}"),
                other => format!("{k}: {other}"),
            })
            .collect::<Vec<_>>()
            .join(" · "),
        _ => "—".into(),
    }
}

/// `POST /routering/beslissen`.
pub async fn decide(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    body: Bytes,
) -> Result<Response, PortalError> {
    let form = form::checked(&staff, &body)?;
    require_rcn(&staff)?;
    let back = |flash: Flash| {
        let state = state.clone();
        let staff = staff.clone();
        async move {
            session::set_flash(&state, &staff, flash).await?;
            Ok::<_, PortalError>(Redirect::to("/routering").into_response())
        }
    };
    let Some(notice_key) = form.get("melding").map(str::to_owned) else {
        return Err(PortalError::BadRequest(
            "Het formulier noemt geen melding.".into(),
        ));
    };
    let outside = form.get("buiten_regio");
    let (kind, code) = match (outside, form.get("gemeente")) {
        (Some(code), _) => (ManualRoutingKind::OutOfRegion, code),
        (None, Some(code)) => (ManualRoutingKind::Municipality, code),
        (None, None) => return back(Flash::error("Kies een gemeente.")).await,
    };
    let Ok(gemeentecode) = Gemeentecode::parse(code) else {
        return back(Flash::error(
            "Een gemeentecode is GM gevolgd door vier cijfers, bijvoorbeeld GM0394.",
        ))
        .await;
    };
    let Some(why) = form.get("waarom") else {
        return back(Flash::error(
            "Geef aan waarom: de reden wordt bij de beslissing bewaard en aan de gemeente getoond.",
        ))
        .await;
    };
    let request = QueueDecideRequest {
        notice_key,
        decision: ManualRouting {
            kind,
            gemeentecode: gemeentecode.clone(),
        },
        decided_by: staff.identity.user_id.clone(),
        why: why.to_owned(),
    };
    let reply: Result<QueueDecideReply, _> = services::endpoint(
        &state,
        state.subjects.router_queue_decide(),
        &staff.identity,
        &request,
    )
    .await?;
    let flash = match reply {
        Ok(QueueDecideReply::Decided { .. }) => Flash::ok(format!(
            "De melding is toegewezen aan {}.",
            fmt::municipality(&gemeentecode)
        )),
        Ok(QueueDecideReply::AlreadyDecided { decision, .. }) => Flash::error(format!(
            "Een collega ({}) heeft al over deze melding beslist; er is niets gewijzigd.",
            decision.decided_by
        )),
        Ok(QueueDecideReply::UnknownNotice { .. }) => Flash::error("Deze melding is niet bekend."),
        Ok(QueueDecideReply::NotWaiting { .. }) => {
            Flash::error("Deze melding wacht niet (meer) op een beslissing.")
        }
        Err(p) => Flash::error(format!("Niet gelukt: {}", p.detail)),
    };
    back(flash).await
}
