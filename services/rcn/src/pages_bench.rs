//! `rcn bench --pages-scale N`: the staff portal's inbox and case pages at national scale, as
//! a browser gets them.
//!
//! Casework's own seeding ([`rcn_casework::seed::synthetic_cases`]) tops casework's schema of the
//! database at `DATABASE_URL` up to N cases with 5 tasks each; it refuses a database that holds
//! any case that is not synthetic (give the benchmark a database of its own, kept between runs so
//! the seeding is paid once). Then router, casework, procesregie and the gateway run in this
//! process, exactly as `rcn run` starts them, and two built-in accounts sign in over HTTP (a
//! Haarlem staff member who holds seeded tasks, and an RCN coordinator).
//!
//! Each page is asked [`ROUNDS`] times over HTTP on loopback: the **server time** of a page
//! request (the gateway's session look-up, its signed NATS requests to casework, router and
//! procesregie, their database work and the rendering). Beside each page, in the same run and
//! interleaved with it, the **raw baseline**: the same casework query through casework's own
//! function on its own pool (the database work alone, without NATS, gateway or HTML), so the ratio
//! says what the page adds. The last line is
//! `pages_scale_cases=… worst_page_p95_ms=… worst_baseline_p95_ms=… ratio=…`.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use rcn_casework::state::{Casework, today};
use rcn_contracts::casework_api::{CaseRequest, InboxQuery, InboxScope, TaskRef};
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::region::RegionTable;
use rcn_contracts::{Gemeentecode, Region};
use rcn_gateway::portal::users::{self, NewUser, UserError};
use rcn_runtime::{CancellationToken, Config};
use uuid::Uuid;

use crate::stack::{Service, Stack};

/// Requests measured per page, unless [`PATIENCE`] runs out first (then at least [`FEWEST`]).
const ROUNDS: usize = 200;
const PATIENCE: Duration = Duration::from_secs(30);
const FEWEST: usize = 10;
/// Requests before measuring, to warm caches, pools and prepared statements.
const WARM_UP: usize = 5;
/// Haarlem: 40 % of the synthetic cases.
const HAARLEM: &str = "GM0392";

/// One page measured beside its baseline.
struct Measured {
    what: &'static str,
    page_ms: Vec<f64>,
    baseline_ms: Vec<f64>,
    bytes: usize,
}

fn pct(ms: &[f64], p: f64) -> f64 {
    let mut ms = ms.to_vec();
    ms.sort_by(f64::total_cmp);
    ms[((ms.len() as f64 * p).ceil() as usize).clamp(1, ms.len()) - 1]
}

/// A signed-in browser: the session cookie it sends.
struct Browser {
    client: reqwest::Client,
    base: String,
    cookie: String,
}

impl Browser {
    /// Signs in through the login form, as a person would: the form's token and cookie, then the
    /// user name and password.
    async fn sign_in(base: &str, user_id: &str, password: &str) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let form = client.get(format!("{base}/inloggen")).send().await?;
        anyhow::ensure!(
            form.status() == 200,
            "GET /inloggen: HTTP {}",
            form.status()
        );
        let login_cookie = set_cookie(&form, "rcn_inlog=").context("the login form's cookie")?;
        let html = form.text().await?;
        let token = html
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .context("the login form's token")?
            .to_owned();
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("csrf", &token)
            .append_pair("gebruikersnaam", user_id)
            .append_pair("wachtwoord", password)
            .finish();
        let signed_in = client
            .post(format!("{base}/inloggen"))
            .header("cookie", &login_cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await?;
        anyhow::ensure!(
            signed_in.status().is_redirection(),
            "signing in as {user_id}: HTTP {}",
            signed_in.status()
        );
        // The session cookie (`rcn_sessie`, or `__Host-rcn_sessie` behind TLS).
        let cookie = set_cookie(&signed_in, "rcn_sessie=")
            .or_else(|| set_cookie(&signed_in, "__Host-rcn_sessie="))
            .context("the session cookie")?;
        Ok(Self {
            client,
            base: base.to_owned(),
            cookie,
        })
    }

    /// GETs `path`; the page must be a 200 holding `expect` (so an error page is never timed).
    async fn page(&self, path: &str, expect: &str) -> anyhow::Result<(Duration, usize)> {
        let t = Instant::now();
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await?;
        let status = r.status();
        let body = r.text().await?;
        let took = t.elapsed();
        anyhow::ensure!(status == 200, "GET {path}: HTTP {status}");
        anyhow::ensure!(
            body.contains(expect),
            "GET {path}: no {expect:?} on the page"
        );
        Ok((took, body.len()))
    }
}

fn set_cookie(r: &reqwest::Response, prefix: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(prefix))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

/// Adds the built-in account, or gives the existing one `password` (the schema is kept between
/// runs).
async fn account(pool: &sqlx::PgPool, new: NewUser<'_>) -> anyhow::Result<()> {
    match users::add(pool, new.clone()).await {
        Ok(()) => Ok(()),
        Err(UserError::Exists(_)) => Ok(users::reset_password(pool, new.user_id, new.password)
            .await
            .with_context(|| format!("resetting the password of {}", new.user_id))?),
        Err(e) => Err(e).with_context(|| format!("adding {}", new.user_id)),
    }
}

/// Seeds up to `cases` cases, starts the services and measures the pages.
pub async fn run(config: &Config, cases: u64) -> anyhow::Result<()> {
    let mut config = config.clone();
    config.region = Region::parse("benchpages")?;
    let url = config.database_url()?.to_owned();
    let settings = rcn_casework::Settings::from_env()?;

    // Casework's schema, opened (and migrated) through casework's library, as the inbox bench.
    let pool = rcn_casework::stats::open(&url, 4).await?;
    let real = rcn_casework::seed::real_case_count(&pool).await?;
    anyhow::ensure!(
        real == 0,
        "this database holds {real} cases that are not synthetic: give `rcn bench --pages-scale` \
         a database of its own (DATABASE_URL=…/rcn_pages)"
    );
    let haarlem = Gemeentecode::parse(HAARLEM)?;
    let mut codes: Vec<Gemeentecode> = RegionTable::kennemerland()
        .municipalities
        .iter()
        .map(|m| m.code.clone())
        .filter(|c| *c != haarlem)
        .collect();
    codes.insert(0, haarlem.clone());
    let today = today();
    let started = Instant::now();
    let added = rcn_casework::seed::synthetic_cases(
        &pool,
        cases,
        &codes,
        &settings.conditions,
        today,
        |done| {
            eprintln!(
                "seeded {done} cases ({:.0} s)",
                started.elapsed().as_secs_f64()
            )
        },
    )
    .await
    .context("seeding synthetic cases")?;
    eprintln!(
        "{added} cases added; {cases} present; seeding and vacuum took {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let cw = Casework::new(pool.clone(), config.region.subjects(), &settings);

    // The accounts: Haarlem's synthetic holder 0 (so "Mijn taken" has rows) and an RCN
    // coordinator; a fresh password each run.
    let gateway_pool = rcn_gateway::tokens::open(&url).await?;
    let password = format!("bench-{}", Uuid::new_v4().simple());
    let staff = Identity {
        user_id: rcn_casework::seed::holder(&haarlem, 0),
        role: Role::MunicipalStaff,
        gemeentecode: Some(haarlem.clone()),
    };
    let rcn = Identity {
        user_id: "bench-rcn".into(),
        role: Role::RcnCoordinator,
        gemeentecode: None,
    };
    for (who, name) in [
        (&staff, "Medewerker Haarlem (bench)"),
        (&rcn, "RCN (bench)"),
    ] {
        account(
            &gateway_pool,
            NewUser {
                user_id: &who.user_id,
                display_name: name,
                role: who.role,
                gemeentecode: who.gemeentecode.clone(),
                password: &password,
            },
        )
        .await?;
    }

    // The services a case page asks, and the gateway on a free port.
    let services: Vec<&'static Service> = ["router", "casework", "procesregie", "gateway"]
        .into_iter()
        .map(|name| Service::named(name).map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<_>>()?;
    let env = |var: &str| match var {
        "RCN_HTTP_ADDR" => Some("127.0.0.1:0".to_owned()),
        _ => rcn_runtime::config::process_env(var),
    };
    let prepared = Stack::prepare(&services, &env)?;
    crate::nats_provision::provision(&config, &services).await?;
    let shutdown = CancellationToken::new();
    let stack = Stack::start(&config, prepared, shutdown.clone()).await?;
    let base = format!("http://{}", stack.http_addr.context("the gateway runs")?);
    let stack = tokio::spawn(stack.wait());

    let measured = measure_pages(&base, &cw, &staff, &rcn, &password, today).await;
    shutdown.cancel();
    stack.await.context("the services' task")??;
    pool.close().await;
    let measured = measured?;

    println!();
    println!(
        "{cases} synthetic cases, {} tasks; server time over HTTP on loopback, and the same \
         casework query alone (baseline)",
        cases * 5
    );
    println!(
        "{:<40} {:>6} {:>7} {:>9} {:>9} {:>9} {:>13} {:>6}",
        "page", "calls", "KiB", "p50 ms", "p95 ms", "p99 ms", "baseline p95", "ratio"
    );
    let mut worst = (0.0_f64, 0.0_f64);
    for m in &measured {
        let (p95, b95) = (pct(&m.page_ms, 0.95), pct(&m.baseline_ms, 0.95));
        println!(
            "{:<40} {:>6} {:>7.1} {:>9.1} {:>9.1} {:>9.1} {:>13.1} {:>6.1}",
            m.what,
            m.page_ms.len(),
            m.bytes as f64 / 1024.0,
            pct(&m.page_ms, 0.50),
            p95,
            pct(&m.page_ms, 0.99),
            b95,
            p95 / b95.max(0.001),
        );
        if p95 > worst.0 {
            worst = (p95, b95);
        }
    }
    println!(
        "pages_scale_cases={cases} worst_page_p95_ms={:.1} worst_baseline_p95_ms={:.1} ratio={:.1}",
        worst.0,
        worst.1,
        worst.0 / worst.1.max(0.001)
    );
    Ok(())
}

/// What one page is: its name, who asks, its path on the i-th call, a text it must hold, and the
/// casework query behind it.
struct PageSpec {
    what: &'static str,
    rcn: bool,
    path: Box<dyn Fn(usize) -> String>,
    expect: &'static str,
    baseline: Baseline,
}

enum Baseline {
    Inbox(InboxQuery),
    Case,
}

async fn measure_pages(
    base: &str,
    cw: &Casework,
    staff: &Identity,
    rcn: &Identity,
    password: &str,
    today: chrono::NaiveDate,
) -> anyhow::Result<Vec<Measured>> {
    let staff_browser = Browser::sign_in(base, &staff.user_id, password).await?;
    let rcn_browser = Browser::sign_in(base, &rcn.user_id, password).await?;

    // Cases to open: Haarlem's open work, from the inbox the staff member sees.
    let page = rcn_casework::inbox::inbox(
        cw,
        staff,
        &InboxQuery {
            scope: InboxScope::All,
            ..Default::default()
        },
        today,
    )
    .await
    .context("the inbox of Haarlem")?;
    let mut case_ids: Vec<Uuid> = page.rows.iter().map(|r| r.case_id).collect();
    case_ids.dedup();
    anyhow::ensure!(
        !case_ids.is_empty(),
        "Haarlem's inbox shows no case to open"
    );
    let case_path = {
        let ids = case_ids.clone();
        move |i: usize| format!("/casussen/{}", ids[i % ids.len()])
    };
    let query = |scope: InboxScope| InboxQuery {
        scope,
        ..Default::default()
    };
    let specs = vec![
        PageSpec {
            what: "Mijn taken (Haarlem staff)",
            rcn: false,
            path: Box::new(|_| "/taken".into()),
            expect: "<table",
            baseline: Baseline::Inbox(query(InboxScope::Mine)),
        },
        PageSpec {
            what: "Taken van de gemeente (Haarlem)",
            rcn: false,
            path: Box::new(|_| "/taken/gemeente".into()),
            expect: "<table",
            baseline: Baseline::Inbox(query(InboxScope::Unclaimed)),
        },
        PageSpec {
            what: "alle taken, pagina 4 (Haarlem)",
            rcn: false,
            path: Box::new(|_| "/taken/gemeente?lijst=alle&pagina=4".into()),
            expect: "<table",
            baseline: Baseline::Inbox(InboxQuery {
                page: Some(4),
                ..query(InboxScope::All)
            }),
        },
        PageSpec {
            what: "spoed, termijn verlopen (Haarlem)",
            rcn: false,
            path: Box::new(|_| "/taken/gemeente?lijst=alle&spoed=ja&verlopen=ja".into()),
            expect: "<main",
            baseline: Baseline::Inbox(InboxQuery {
                spoed: Some(true),
                overdue: Some(true),
                ..query(InboxScope::All)
            }),
        },
        PageSpec {
            what: "taken van de regio (RCN)",
            rcn: true,
            path: Box::new(|_| "/taken/gemeente".into()),
            expect: "<table",
            baseline: Baseline::Inbox(query(InboxScope::All)),
        },
        PageSpec {
            what: "casus (Haarlem staff)",
            rcn: false,
            path: Box::new(case_path.clone()),
            expect: "<h1",
            baseline: Baseline::Case,
        },
        PageSpec {
            what: "casus (RCN)",
            rcn: true,
            path: Box::new(case_path),
            expect: "<h1",
            baseline: Baseline::Case,
        },
    ];

    let mut measured = Vec::new();
    for spec in &specs {
        let (browser, who) = if spec.rcn {
            (&rcn_browser, rcn)
        } else {
            (&staff_browser, staff)
        };
        let mut m = Measured {
            what: spec.what,
            page_ms: Vec::with_capacity(ROUNDS),
            baseline_ms: Vec::with_capacity(ROUNDS),
            bytes: 0,
        };
        let began = Instant::now();
        for i in 0..ROUNDS + WARM_UP {
            if m.page_ms.len() >= FEWEST && began.elapsed() > PATIENCE {
                break;
            }
            let (took, bytes) = browser
                .page(&(spec.path)(i), spec.expect)
                .await
                .with_context(|| spec.what)?;
            let t = Instant::now();
            match &spec.baseline {
                Baseline::Inbox(q) => {
                    rcn_casework::inbox::inbox(cw, who, q, today).await?;
                }
                Baseline::Case => {
                    // The case and each task's history, as the page asks them.
                    let case_id = case_ids[i % case_ids.len()];
                    let case = rcn_casework::case_detail::case_detail(
                        cw,
                        who,
                        &CaseRequest { case_id, why: None },
                        today,
                    )
                    .await?;
                    for t in &case.tasks {
                        let task = TaskRef {
                            case_id,
                            condition: t.condition,
                        };
                        rcn_casework::tasks::task_history(cw, who, task, None).await?;
                    }
                }
            }
            let baseline = t.elapsed();
            if i >= WARM_UP {
                m.page_ms.push(took.as_secs_f64() * 1000.0);
                m.baseline_ms.push(baseline.as_secs_f64() * 1000.0);
                m.bytes = bytes;
            }
        }
        eprintln!(
            "{}: p95 {:.1} ms (baseline {:.1} ms)",
            spec.what,
            pct(&m.page_ms, 0.95),
            pct(&m.baseline_ms, 0.95)
        );
        measured.push(m);
    }
    Ok(measured)
}
