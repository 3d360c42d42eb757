//! `rcn tokens …`: the RCN manages the partner API's tokens, one (or more) per detention
//! institution. Works on the gateway's schema through DATABASE_URL; the token itself is printed
//! once, when issued or rotated, and is never stored or shown again. Each issue, rotation and
//! revocation goes into the gateway's token log as done "via the command line" (the portal's
//! *Partnertoegang* shows it), with `--why` when given.

use std::time::Duration;

use clap::Subcommand;
use rcn_gateway::tokens::{self, Actor, IssuedToken};
use rcn_runtime::Config;

#[derive(Subcommand)]
pub enum TokensAction {
    /// Issue a new API token for an institution and print it (once).
    Issue {
        /// The institution's code as it appears in sender.institution_code, e.g. PI-HAARLEM.
        institution_code: String,
        /// What the token is for, e.g. the institution's system that will use it.
        #[arg(long)]
        name: Option<String>,
        /// Why, for the token log.
        #[arg(long)]
        why: Option<String>,
    },
    /// List every token (never the tokens themselves).
    List,
    /// Issue a successor for a token and revoke the old one after a grace period.
    Rotate {
        token_id: uuid::Uuid,
        /// How long the old token keeps working, e.g. 0, 90s, 30m, 24h, 7d.
        #[arg(long, default_value = "0", value_parser = parse_grace)]
        grace: Duration,
        /// Why, for the token log.
        #[arg(long)]
        why: Option<String>,
    },
    /// Revoke a token now.
    Revoke {
        token_id: uuid::Uuid,
        /// Why, for the token log.
        #[arg(long)]
        why: Option<String>,
    },
}

pub async fn run(config: &Config, action: TokensAction) -> anyhow::Result<()> {
    let pool = tokens::open(config.database_url_for("gateway")?).await?;
    match action {
        TokensAction::Issue {
            institution_code,
            name,
            why,
        } => {
            let issued = tokens::issue(
                &pool,
                &institution_code,
                name.as_deref(),
                Actor::CommandLine,
                why.as_deref(),
            )
            .await?;
            print_issued(&issued);
        }
        TokensAction::List => {
            let now = chrono::Utc::now();
            let all = tokens::list(&pool).await?;
            println!(
                "{:<36}  {:<16}  {:<8}  {:<20}  {:<20}  name",
                "token id", "institution", "state", "created", "last used"
            );
            for t in &all {
                let day = |d: Option<chrono::DateTime<chrono::Utc>>| {
                    d.map_or("-".into(), |d| d.format("%Y-%m-%d %H:%M").to_string())
                };
                println!(
                    "{:<36}  {:<16}  {:<8}  {:<20}  {:<20}  {}",
                    t.token_id,
                    t.institution_code,
                    t.state(now),
                    day(Some(t.created_at)),
                    day(t.last_used_at),
                    t.name.as_deref().unwrap_or("")
                );
            }
            println!("{} token(s)", all.len());
        }
        TokensAction::Rotate {
            token_id,
            grace,
            why,
        } => {
            let issued =
                tokens::rotate(&pool, token_id, grace, Actor::CommandLine, why.as_deref()).await?;
            print_issued(&issued);
            if grace.is_zero() {
                println!("the old token {token_id} is revoked");
            } else {
                println!("the old token {token_id} keeps working for {grace:?}");
            }
        }
        TokensAction::Revoke { token_id, why } => {
            let t = tokens::revoke(&pool, token_id, Actor::CommandLine, why.as_deref()).await?;
            println!("revoked token {} of {}", t.token_id, t.institution_code);
        }
    }
    Ok(())
}

fn print_issued(issued: &IssuedToken) {
    println!("token id:    {}", issued.token_id);
    println!("institution: {}", issued.institution_code);
    println!("token:       {}", issued.token);
    println!("Hand the token to the institution over a safe channel; it is not shown again.");
    println!("It is sent as `Authorization: Bearer <token>`.");
}

/// `0`, or a number with `s`, `m`, `h` or `d`.
fn parse_grace(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = n
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 30m, 24h or 7d"))?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{s:?} is not a duration like 30m, 24h or 7d")),
    };
    let grace = Duration::from_secs(n * secs);
    if grace > Duration::from_secs(90 * 86_400) {
        return Err("a grace period of at most 90 days".into());
    }
    Ok(grace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grace_periods_read_like_people_write_them() {
        assert_eq!(parse_grace("0"), Ok(Duration::ZERO));
        assert_eq!(parse_grace("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_grace("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_grace("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert!(parse_grace("soon").is_err());
        assert!(parse_grace("10").is_err());
        assert!(parse_grace("1000d").is_err());
    }
}
