//! `rcn privacy who-saw`: the privacy officer's "who saw this person" from the command line. The
//! BSN is read from standard input (a prompt when it is a terminal), never from the arguments
//! (which other users of the machine can see, and shells keep in their history). Every service
//! that keeps an access log is asked over NATS with the officer's identity, signed with the
//! region's identity key as the gateway signs it; each logs the question; the answers are merged
//! by time.
//!
//! `rcn privacy export` is the person's right of access (AVG art. 15): the BSN from a file or
//! standard input, every service's part as one JSON document, each service logging the question
//! with its reason.

use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

use anyhow::Context as _;
use rcn_contracts::envelope::ApiReply;
use rcn_contracts::identity::{Identity, Role, check_user_id};
use rcn_contracts::privacy_api::{
    AccessEntry, WhoSawReply, WhoSawRequest, merge, who_saw_subjects,
};
use rcn_contracts::privacy_export::{ExportRequest, PersonExport, assemble, export_subjects};
use rcn_contracts::{Bsn, Subjects};
use rcn_runtime::signed_identity::IdentitySigner;

/// How long each service may take to answer.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Reads one BSN from `input`, prompting on standard error when standard input is a terminal.
pub fn read_bsn(input: &mut impl BufRead) -> anyhow::Result<Bsn> {
    if std::io::stdin().is_terminal() {
        eprint!("BSN: ");
        std::io::stderr().flush().ok();
    }
    let mut line = String::new();
    input.read_line(&mut line).context("reading the BSN")?;
    let digits: String = line.chars().filter(|c| !c.is_whitespace()).collect();
    // The error names the rule, never the digits entered.
    Bsn::parse(&digits).map_err(|e| anyhow::anyhow!("{}", e.0))
}

/// The answer: every entry by time, whether any service left entries out, and the services
/// that did not answer.
pub struct Answer {
    pub entries: Vec<AccessEntry>,
    pub truncated: bool,
    pub missing: Vec<String>,
}

/// Asks every service that keeps an access log who saw the person with `bsn`, as privacy
/// officer `user_id`.
pub async fn who_saw(
    nats: &async_nats::Client,
    subjects: &Subjects,
    signer: &IdentitySigner,
    user_id: &str,
    bsn: &Bsn,
) -> anyhow::Result<Answer> {
    check_user_id(user_id).map_err(|e| anyhow::anyhow!("--user: {}", e.0))?;
    let who = Identity {
        user_id: user_id.to_owned(),
        role: Role::PrivacyOfficer,
        gemeentecode: None,
    };
    let payload = serde_json::to_vec(&WhoSawRequest { bsn: bsn.clone() })?;
    let asks = who_saw_subjects(subjects).map(|(name, subject)| {
        let h = signer.sign(&who.to_header(), &subject, &payload);
        let request = async_nats::Request::new()
            .payload(payload.clone().into())
            .headers(h)
            .timeout(Some(TIMEOUT));
        async move { (name, nats.send_request(subject, request).await) }
    });
    let mut replies = Vec::new();
    let mut missing = Vec::new();
    for (name, answer) in futures::future::join_all(asks).await {
        let Ok(message) = answer else {
            missing.push(name.to_owned());
            continue;
        };
        let reply: ApiReply<WhoSawReply> = serde_json::from_slice(&message.payload)
            .with_context(|| format!("{name} answered something unreadable"))?;
        match reply.into_result() {
            Ok(r) => replies.push(r),
            Err(p) if p.status >= 500 => missing.push(name.to_owned()),
            Err(p) => anyhow::bail!("{name} refused: {}", p.detail),
        }
    }
    let (entries, truncated) = merge(replies);
    Ok(Answer {
        entries,
        truncated,
        missing,
    })
}

/// Reads one BSN from the file at `path` (its first line), as [`read_bsn`] reads standard input.
pub fn read_bsn_file(path: &std::path::Path) -> anyhow::Result<Bsn> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut line = String::new();
    std::io::BufReader::new(file)
        .read_line(&mut line)
        .context("reading the BSN file")?;
    let digits: String = line.chars().filter(|c| !c.is_whitespace()).collect();
    Bsn::parse(&digits).map_err(|e| anyhow::anyhow!("{}", e.0))
}

/// Asks one service for its part of the export: `None` when it did not answer (or could not
/// now), an error when it refused.
async fn export_part<T: serde::de::DeserializeOwned>(
    nats: &async_nats::Client,
    signer: &IdentitySigner,
    who: &Identity,
    name: &str,
    subject: String,
    payload: &[u8],
) -> anyhow::Result<Option<T>> {
    let h = signer.sign(&who.to_header(), &subject, payload);
    let request = async_nats::Request::new()
        .payload(payload.to_vec().into())
        .headers(h)
        .timeout(Some(TIMEOUT));
    let Ok(message) = nats.send_request(subject, request).await else {
        return Ok(None);
    };
    let reply: ApiReply<T> = serde_json::from_slice(&message.payload)
        .with_context(|| format!("{name} answered something unreadable"))?;
    match reply.into_result() {
        Ok(part) => Ok(Some(part)),
        Err(p) if p.status >= 500 => Ok(None),
        Err(p) => anyhow::bail!("{name} refused: {}", p.detail),
    }
}

/// The person's data from every service (AVG art. 15), asked as privacy officer `user_id` for
/// the reason `why`; each service logs the question. A service that did not answer is named in
/// `missing`.
pub async fn export(
    nats: &async_nats::Client,
    subjects: &Subjects,
    signer: &IdentitySigner,
    user_id: &str,
    bsn: &Bsn,
    why: &str,
) -> anyhow::Result<PersonExport> {
    check_user_id(user_id).map_err(|e| anyhow::anyhow!("--user: {}", e.0))?;
    let why =
        ExportRequest::checked_why(why).map_err(|p| anyhow::anyhow!("--why: {}", p.message))?;
    let who = Identity {
        user_id: user_id.to_owned(),
        role: Role::PrivacyOfficer,
        gemeentecode: None,
    };
    let payload = serde_json::to_vec(&ExportRequest {
        bsn: bsn.clone(),
        why: why.clone(),
    })?;
    let s = export_subjects(subjects);
    let (intake, router, casework, procesregie) = tokio::join!(
        export_part(nats, signer, &who, "intake", s.intake, &payload),
        export_part(nats, signer, &who, "router", s.router, &payload),
        export_part(nats, signer, &who, "casework", s.casework, &payload),
        export_part(nats, signer, &who, "procesregie", s.procesregie, &payload),
    );
    let (intake, router, casework, procesregie) = (intake?, router?, casework?, procesregie?);
    let missing = [
        ("intake", intake.is_none()),
        ("router", router.is_none()),
        ("casework", casework.is_none()),
        ("procesregie", procesregie.is_none()),
    ]
    .into_iter()
    .filter(|(_, gone)| *gone)
    .map(|(name, _)| name.to_owned())
    .collect();
    Ok(assemble(
        chrono::Utc::now(),
        user_id,
        &why,
        bsn,
        intake,
        router,
        casework,
        procesregie,
        missing,
    ))
}

/// The answer as a table for a terminal.
pub fn print(answer: &Answer, bsn: &Bsn) {
    println!("who saw the person with BSN {}:", bsn.masked());
    println!(
        "{:<25}  {:<11}  {:<24}  {:<16}  {:<7}  {:<40}  why",
        "when (UTC)", "service", "who", "role", "org", "what"
    );
    for e in &answer.entries {
        println!(
            "{:<25}  {:<11}  {:<24}  {:<16}  {:<7}  {:<40}  {}",
            e.at.format("%Y-%m-%d %H:%M:%S%.3f"),
            e.service,
            e.user_id,
            e.role.as_str(),
            e.gemeentecode.as_ref().map_or("-", |g| g.as_str()),
            e.what,
            e.why.as_deref().unwrap_or("-")
        );
    }
    for m in &answer.missing {
        println!("! {m} did not answer: its part is missing");
    }
    if answer.truncated {
        println!("! more entries than shown: a service left out its newest");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bsn_is_read_from_one_line_and_a_wrong_one_is_refused_without_echoing_it() {
        let bsn = read_bsn(&mut &b" 123456782 \n"[..]).unwrap();
        assert_eq!(bsn.expose(), "123456782");
        let e = read_bsn(&mut &b"123456783\n"[..]).unwrap_err().to_string();
        assert!(e.contains("11-proef") && !e.contains("123456783"), "{e}");
        assert!(read_bsn(&mut &b""[..]).is_err());
    }
}
