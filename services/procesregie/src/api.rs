//! Procesregie's request-reply API on the endpoint kit (`rcn_runtime::endpoint`, so
//! `$SRV.INFO.rcn-procesregie` lists it): one endpoint per verb of
//! `rcn_contracts::procesregie_api`, on `rcn.<region>.api.procesregie.<verb>`.
//!
//! Every caller is a person (the `Rcn-Identity` header the gateway sets); each handler decides
//! what that person may see or do.

use std::sync::Arc;

use rcn_contracts::Subjects;
use rcn_contracts::envelope::NoParameters;
use rcn_contracts::procesregie_api::SettingsView;
use rcn_runtime::endpoint::{Caller, Endpoint, Request, ServiceSpec};

use crate::Procesregie;

/// Procesregie's service with its endpoints; start it with `.start(&nats)`.
pub fn service(subjects: &Subjects, state: Arc<Procesregie>) -> ServiceSpec {
    let s = state;
    ServiceSpec::new(
        "rcn-procesregie",
        env!("CARGO_PKG_VERSION"),
        "rcn procesregie: escalation into an ICO, the weekly triage and the plan van aanpak",
    )
    .endpoint(Endpoint::new(
        "settings",
        subjects.procesregie_api("settings"),
        Caller::Person,
        move |r: Request<NoParameters>| {
            let s = s.clone();
            async move {
                r.person()?;
                let t = &s.settings.triage;
                Ok(SettingsView {
                    cutoff_day: t.cutoff_day,
                    cutoff_time: t.cutoff_time.format("%H:%M").to_string(),
                    triage_day: t.triage_day,
                    on_holiday: t.on_holiday,
                })
            }
        },
    ))
}
