//! `rcn users …`: built-in accounts of the staff portal, for development and small sites without
//! an identity provider. Works on the gateway's schema through DATABASE_URL. A password is read
//! from the terminal's standard input (never from the command line, where `ps` would show it)
//! and never printed; `rcn run --demo` is the one exception: it makes demo accounts and prints
//! their fresh passwords.

use clap::Subcommand;
use rcn_contracts::Gemeentecode;
use rcn_contracts::identity::Role;
use rcn_gateway::portal::users::{self, NewUser, UserError};
use rcn_runtime::Config;
use sqlx::PgPool;

#[derive(Subcommand)]
pub enum UsersAction {
    /// Add a built-in account; the password is read from standard input (one line).
    Add {
        /// The sign-in name, e.g. anna.devries@haarlem.nl.
        user_id: String,
        /// The name colleagues see, e.g. "Anna de Vries".
        #[arg(long)]
        name: String,
        /// municipal_staff, rcn_coordinator, procesregisseur, privacy_officer or administrator.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The municipality of municipal staff, e.g. GM0392.
        #[arg(long, value_parser = parse_gemeentecode)]
        gemeentecode: Option<Gemeentecode>,
    },
    /// List every person the portal knows (built-in accounts and identity-provider sign-ins).
    List,
    /// Disable an account: it cannot sign in any more, and its sessions end now.
    Disable { user_id: String },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| {
        let all: Vec<_> = Role::ALL.iter().map(|r| r.as_str()).collect();
        format!("unknown role {s:?}; choose from {}", all.join(", "))
    })
}

fn parse_gemeentecode(s: &str) -> Result<Gemeentecode, String> {
    Gemeentecode::parse(s).map_err(|e| e.0)
}

pub async fn run(config: &Config, action: UsersAction) -> anyhow::Result<()> {
    let pool = rcn_gateway::tokens::open(config.database_url()?).await?;
    match action {
        UsersAction::Add {
            user_id,
            name,
            role,
            gemeentecode,
        } => {
            users::check_new_user_id(&user_id)?;
            eprintln!(
                "password for {user_id} (at least {} characters), then Enter:",
                users::MIN_PASSWORD
            );
            let mut password = String::new();
            std::io::stdin().read_line(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']);
            users::add(
                &pool,
                NewUser {
                    user_id: &user_id,
                    display_name: &name,
                    role,
                    gemeentecode,
                    password,
                },
            )
            .await?;
            println!("added {user_id} ({})", role.as_str());
        }
        UsersAction::List => {
            let all = users::list(&pool).await?;
            println!(
                "{:<32}  {:<24}  {:<16}  {:<6}  {:<8}  {:<8}  last sign-in",
                "user id", "name", "role", "GM", "kind", "state"
            );
            for u in &all {
                println!(
                    "{:<32}  {:<24}  {:<16}  {:<6}  {:<8}  {:<8}  {}",
                    u.user_id,
                    u.display_name,
                    u.role.as_str(),
                    u.gemeentecode.as_deref().unwrap_or("-"),
                    if u.builtin { "built-in" } else { "idp" },
                    if u.disabled_at.is_some() {
                        "disabled"
                    } else {
                        "active"
                    },
                    u.last_sign_in_at
                        .map_or("-".into(), |d| d.format("%Y-%m-%d %H:%M").to_string())
                );
            }
            println!("{} account(s)", all.len());
        }
        UsersAction::Disable { user_id } => {
            let ended = users::disable(&pool, &user_id).await?;
            println!("disabled {user_id}; {ended} session(s) ended");
        }
    }
    Ok(())
}

/// A demo account: (user id, display name, role, municipality).
type DemoAccount = (String, String, Role, Option<Gemeentecode>);

/// The demo accounts: one per role, and one municipal staff member per municipality of the
/// region (two for the centrumgemeente, so a task can be handed over).
fn demo_accounts(config: &Config) -> anyhow::Result<Vec<DemoAccount>> {
    let table = match &config.region_file {
        Some(path) => rcn_contracts::region::RegionTable::load(path)?,
        None => rcn_contracts::region::RegionTable::kennemerland(),
    };
    let mut accounts: Vec<DemoAccount> = Vec::new();
    for m in &table.municipalities {
        let slug = m.name.to_lowercase().replace(' ', "-");
        accounts.push((
            format!("demo-{slug}"),
            format!("Demo {}", m.name),
            Role::MunicipalStaff,
            Some(m.code.clone()),
        ));
        if m.code == table.centrumgemeente {
            accounts.push((
                format!("demo-{slug}-2"),
                format!("Demo {} (collega)", m.name),
                Role::MunicipalStaff,
                Some(m.code.clone()),
            ));
        }
    }
    for (id, name, role) in [
        ("demo-rcn", "Demo RCN-coördinator", Role::RcnCoordinator),
        (
            "demo-procesregie",
            "Demo procesregisseur",
            Role::Procesregisseur,
        ),
        (
            "demo-privacy",
            "Demo privacyfunctionaris",
            Role::PrivacyOfficer,
        ),
        ("demo-beheer", "Demo beheerder", Role::Administrator),
    ] {
        accounts.push((id.into(), name.into(), role, None));
    }
    Ok(accounts)
}

/// Makes (or refreshes) the demo accounts with new random passwords; returns
/// (user id, role, municipality name, password) to print.
pub async fn demo(config: &Config, pool: &PgPool) -> anyhow::Result<Vec<(String, String)>> {
    let mut printed = Vec::new();
    for (user_id, name, role, gemeentecode) in demo_accounts(config)? {
        let password = rcn_gateway::portal::session::random_password();
        let added = users::add(
            pool,
            NewUser {
                user_id: &user_id,
                display_name: &name,
                role,
                gemeentecode,
                password: &password,
            },
        )
        .await;
        match added {
            Ok(()) => {}
            Err(UserError::Exists(_)) => users::reset_password(pool, &user_id, &password).await?,
            Err(e) => return Err(e.into()),
        }
        printed.push((format!("{user_id} ({name})"), password));
    }
    Ok(printed)
}
