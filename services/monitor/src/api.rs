//! The monitor's request-reply API on the endpoint kit (`$SRV.INFO.rcn-monitor` lists it):
//! `rcn.<region>.api.monitor.figures` answers a `FiguresRequest` with `Figures`.
//!
//! Who may call: RCN coordinators and procesregisseurs see the region (or one municipality of
//! it); municipal staff see their own municipality's figures only, without the RCN's own sections.
//! Every answer holds counts and durations only.

use std::sync::Arc;

use chrono::Utc;
use rcn_contracts::Subjects;
use rcn_contracts::envelope::ApiProblem;
use rcn_contracts::identity::Role;
use rcn_contracts::monitor_api::{Figures, FiguresRequest};
use rcn_contracts::region::RegionTable;
use rcn_runtime::endpoint::{Caller, Endpoint, Request, ServiceSpec};
use sqlx::PgPool;

use crate::figures::{self, Period, Scope};
use crate::settings::Settings;

/// What the endpoint needs.
#[derive(Debug)]
pub struct Dashboard {
    pub pool: PgPool,
    pub region: RegionTable,
    pub settings: Settings,
}

/// The monitor's service; start it with `.start(&nats)`.
pub fn service(subjects: &Subjects, dashboard: Arc<Dashboard>) -> ServiceSpec {
    ServiceSpec::new(
        "rcn-monitor",
        env!("CARGO_PKG_VERSION"),
        "rcn monitor: regional throughput figures (counts and durations only)",
    )
    .endpoint(Endpoint::new(
        "figures",
        subjects.monitor_figures(),
        Caller::Person,
        move |r: Request<FiguresRequest>| {
            let dashboard = dashboard.clone();
            async move { dashboard.figures(&r).await }
        },
    ))
}

impl Dashboard {
    async fn figures(&self, r: &Request<FiguresRequest>) -> Result<Figures, ApiProblem> {
        let who = r.person()?;
        let scope = match who.role {
            Role::RcnCoordinator | Role::Procesregisseur => Scope {
                gemeentecode: r.body.gemeentecode.clone(),
                regional: true,
            },
            Role::MunicipalStaff => {
                let own = who.gemeentecode.clone();
                if r.body.gemeentecode.is_some() && r.body.gemeentecode != own {
                    return Err(ApiProblem::forbidden(
                        "municipal staff see the figures of their own municipality only",
                    ));
                }
                Scope {
                    gemeentecode: own,
                    regional: false,
                }
            }
            // Their dashboards come with their own issues.
            Role::PrivacyOfficer | Role::Administrator => {
                return Err(ApiProblem::forbidden(
                    "the throughput figures are for the RCN, procesregie and municipal staff",
                ));
            }
        };
        let now = Utc::now();
        let (from, to) = r
            .body
            .range(figures::today(now))
            .map_err(|p| ApiProblem::invalid(vec![p]))?;
        let period = Period {
            granularity: r.body.granularity,
            from,
            to,
        };
        figures::compute(
            &self.pool,
            &self.region,
            &self.settings,
            period,
            &scope,
            now,
        )
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "cannot compute the figures");
            ApiProblem::unavailable("the figures cannot be computed right now; ask again")
        })
    }
}
