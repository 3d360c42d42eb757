//! Procesregie's request-reply API on the endpoint kit (`rcn_runtime::endpoint`, so
//! `$SRV.INFO.rcn-procesregie` lists it): one endpoint per verb of
//! `rcn_contracts::procesregie_api`, on `rcn.<region>.api.procesregie.<verb>`.
//!
//! Every caller is a person (the `Rcn-Identity` header the gateway sets); each handler decides
//! what that person may see or do (`crate::access`).

use std::sync::Arc;

use chrono::Utc;
use rcn_contracts::Subjects;
use rcn_contracts::envelope::NoParameters;
use rcn_contracts::privacy_api::WhoSawRequest;
use rcn_contracts::privacy_export::ExportRequest;
use rcn_contracts::procesregie_api::{
    ActionRequest, AgendaQuery, ApplicationForm, ApplicationQuery, ApplicationRef, CloseIcoRequest,
    IcoQuery, IcoRef, IcoUpdate, ReviewRequest, RulesView, SettingsView, SuggestionDismiss,
    SuggestionQuery, SuggestionRef, TriageDecision,
};
use rcn_runtime::endpoint::{Caller, Endpoint, Request, ServiceSpec};

use crate::Procesregie;

/// Declares the endpoint `verb`: `$handler(state, who, body, trace)` answers it.
macro_rules! verb {
    ($spec:expr, $subjects:expr, $state:expr, $verb:literal, $req:ty, |$s:ident, $who:ident, $body:ident, $trace:ident| $call:expr) => {{
        let state = $state.clone();
        $spec.endpoint(Endpoint::new(
            $verb,
            $subjects.procesregie_api($verb),
            Caller::Person,
            move |r: Request<$req>| {
                let $s = state.clone();
                async move {
                    let $who = r.person()?;
                    let $body = &r.body;
                    let $trace = Some(&r.trace);
                    $call.await
                }
            },
        ))
    }};
}

/// Procesregie's service with its endpoints; start it with `.start(&nats)`.
pub fn service(subjects: &Subjects, state: Arc<Procesregie>) -> ServiceSpec {
    let spec = ServiceSpec::new(
        "rcn-procesregie",
        env!("CARGO_PKG_VERSION"),
        "rcn procesregie: escalation into an ICO, the weekly triage and the plan van aanpak",
    );
    let spec = verb!(
        spec,
        subjects,
        state,
        "settings",
        NoParameters,
        |s, _who, _b, _t| {
            std::future::ready(Ok::<_, rcn_contracts::envelope::ApiProblem>(settings(&s)))
        }
    );
    let spec = verb!(
        spec,
        subjects,
        state,
        "application_save",
        ApplicationForm,
        |s, who, b, t| s.save_application(who, b, t)
    );
    let spec = verb!(
        spec,
        subjects,
        state,
        "application_get",
        ApplicationRef,
        |s, who, b, _t| s.get_application(who, b)
    );
    let spec = verb!(
        spec,
        subjects,
        state,
        "application_list",
        ApplicationQuery,
        |s, who, b, _t| s.list_applications(who, b)
    );
    let spec = verb!(
        spec,
        subjects,
        state,
        "triage_agenda",
        AgendaQuery,
        |s, who, b, _t| s.agenda(who, b)
    );
    let spec = verb!(
        spec,
        subjects,
        state,
        "triage_decide",
        TriageDecision,
        |s, who, b, t| s.decide(who, b, t)
    );
    let spec = verb!(spec, subjects, state, "ico_get", IcoRef, |s, who, b, _t| s
        .get_ico(who, b));
    let spec = verb!(
        spec,
        subjects,
        state,
        "ico_list",
        IcoQuery,
        |s, who, b, _t| s.list_icos(who, b)
    );
    let spec = verb!(
        spec,
        subjects,
        state,
        "ico_update",
        IcoUpdate,
        |s, who, b, _t| s.update_ico(who, b)
    );
    let spec = verb!(
        spec,
        subjects,
        state,
        "ico_action",
        ActionRequest,
        |s, who, b, t| s.change_action(who, b, t)
    );
    let spec = verb!(
        spec,
        subjects,
        state,
        "ico_review",
        ReviewRequest,
        |s, who, b, t| s.hold_review(who, b, t)
    );
    let spec = verb!(
        spec,
        subjects,
        state,
        "ico_close",
        CloseIcoRequest,
        |s, who, b, t| s.close_ico(who, b, t)
    );
    let spec = verb!(
        spec,
        subjects,
        state,
        "suggestion_list",
        SuggestionQuery,
        |s, who, b, _t| s.list_suggestions(who, b)
    );
    let spec = verb!(
        spec,
        subjects,
        state,
        "suggestion_accept",
        SuggestionRef,
        |s, who, b, _t| s.accept_suggestion(who, b.suggestion_id)
    );
    let spec = verb!(
        spec,
        subjects,
        state,
        "suggestion_dismiss",
        SuggestionDismiss,
        |s, who, b, _t| s.dismiss_suggestion(who, b)
    );
    let spec = verb!(
        spec,
        subjects,
        state,
        "privacy_accesses",
        WhoSawRequest,
        |s, who, b, _t| s.who_saw(who, &b.bsn)
    );
    let spec = verb!(
        spec,
        subjects,
        state,
        "privacy_export",
        ExportRequest,
        |s, who, b, _t| s.export(who, b)
    );
    spec.endpoint(rcn_runtime::retention::log_endpoint(
        "procesregie",
        subjects.procesregie_api(rcn_contracts::retention::RETENTION_LOG_VERB),
        state.pool.clone(),
    ))
}

/// The region's settings as the triage board shows them, with the meeting an application
/// completed now goes to.
fn settings(s: &Procesregie) -> SettingsView {
    let t = &s.settings.triage;
    let r = &s.settings.rules;
    let next = t.slot_for(Utc::now());
    SettingsView {
        cutoff_day: t.cutoff_day,
        cutoff_time: t.cutoff_time.format("%H:%M").to_string(),
        triage_day: t.triage_day,
        on_holiday: t.on_holiday,
        next_meeting_on: next.meeting_on,
        next_cutoff_at: next.cutoff_at,
        rules: RulesView {
            risk_flags: r.risk_flags,
            open_conditions: r.open_conditions,
            open_conditions_days: r.open_conditions_days,
            spoed_overdue: r.spoed_overdue,
        },
    }
}
