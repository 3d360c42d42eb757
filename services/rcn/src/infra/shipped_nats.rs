//! The NATS configuration shipped for production (`services/rcn/deploy/nats/`), laid out in a
//! folder for a nats-server of the launcher's or a test's own, so that what development and the
//! tests run is what compose runs.
//!
//! Three files ship: `nats-server.conf` and `accounts.conf` are used as they are (the accounts
//! with the region renamed, as an operator of another region does), and `storage.conf`, where a
//! host keeps its JetStream store and how it syncs, is written here instead: the store in a
//! folder of ours, and `sync_interval: always` only on a server that knows the setting
//! (nats-server 2.10.23 or newer; Debian 12's 2.9.10 refuses to start with it). Port and
//! monitoring port are given on the command line, which overrides the file's.
//!
//! It must never change what the shipped files say about who may do what.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use rcn_contracts::Region;

/// The shipped server configuration: server settings, the `storage.conf` and `accounts.conf`
/// includes.
pub const SERVER_CONF: &str = include_str!("../../deploy/nats/nats-server.conf");
/// The shipped users and their permissions, written for [`SHIPPED_REGION`].
pub const ACCOUNTS_CONF: &str = include_str!("../../deploy/nats/accounts.conf");
/// The shipped production storage settings (not used here; see the module's doc).
pub const STORAGE_CONF: &str = include_str!("../../deploy/nats/storage.conf");

/// The region `accounts.conf` is written for (streams `KENNEMERLAND_*`).
pub const SHIPPED_REGION: &str = "kennemerland";

/// The first nats-server that knows `jetstream { sync_interval: always }`.
pub const SYNC_INTERVAL_SINCE: Version = Version(2, 10, 23);

/// A nats-server version, `major.minor.patch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u32, pub u32, pub u32);

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

impl Version {
    /// Reads `nats-server --version`'s answer (`nats-server: v2.9.10`).
    pub fn parse(answer: &str) -> Option<Self> {
        let v = answer.trim().rsplit(' ').next()?.trim_start_matches('v');
        let mut parts = v.split(['.', '-']).map(str::parse::<u32>);
        Some(Self(
            parts.next()?.ok()?,
            parts.next()?.ok()?,
            parts.next()?.ok()?,
        ))
    }

    /// What `binary --version` says.
    pub fn of(binary: &Path) -> Result<Self> {
        let output = std::process::Command::new(binary)
            .arg("--version")
            .output()
            .with_context(|| format!("could not run {} --version", binary.display()))?;
        let answer = String::from_utf8_lossy(&output.stdout);
        Self::parse(&answer).ok_or_else(|| {
            anyhow!(
                "{} --version answered {:?}, not a version",
                binary.display(),
                answer.trim()
            )
        })
    }

    /// Whether this server knows `sync_interval` (fsync before acknowledging).
    pub fn syncs_always(self) -> bool {
        self >= SYNC_INTERVAL_SINCE
    }
}

/// A user of the shipped accounts file and the environment variable its password comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShippedUser {
    pub user: String,
    pub password_var: String,
}

/// Every user of the shipped accounts file (`user: intake, password: $RCN_NATS_INTAKE_PASSWORD`).
pub fn users() -> Vec<ShippedUser> {
    ACCOUNTS_CONF
        .lines()
        .map(str::trim)
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let rest = line.strip_prefix("user:")?;
            let (user, password) = rest.split_once(',')?;
            let var = password.trim().strip_prefix("password:")?.trim();
            Some(ShippedUser {
                user: user.trim().to_owned(),
                password_var: var.strip_prefix('$')?.to_owned(),
            })
        })
        .collect()
}

/// The shipped accounts for `region`: `kennemerland` and `KENNEMERLAND` renamed throughout, as
/// the file's head tells an operator of another region to do.
pub fn accounts_for(region: &Region) -> String {
    let name = region.as_str();
    let streams = name.to_ascii_uppercase().replace('-', "_");
    ACCOUNTS_CONF
        .replace(SHIPPED_REGION, name)
        .replace(&SHIPPED_REGION.to_ascii_uppercase(), &streams)
}

/// The `storage.conf` of a server of ours: its store in `store_dir`, and `sync_interval: always`
/// when `version` knows it.
pub fn storage_for(store_dir: &Path, version: Version) -> String {
    let mut conf = format!(
        "# Written by rcn for a server of its own, in place of the shipped storage.conf.\n\
         store_dir: \"{}\"\n",
        store_dir.display().to_string().replace('"', "\\\"")
    );
    if version.syncs_always() {
        conf.push_str("sync_interval: always\n");
    } else {
        conf.push_str(&format!(
            "# nats-server {version} has no sync_interval (it needs {SYNC_INTERVAL_SINCE}): \
             acknowledged writes survive a process kill, not a power loss.\n"
        ));
    }
    conf
}

/// Writes the shipped configuration for `region` into `dir` (made if missing, mode 0700), with
/// its own `storage.conf` for `store_dir`; returns the path of `nats-server.conf` to start the
/// server with. The passwords are not in these files: the server takes them from its environment.
pub fn write(dir: &Path, region: &Region, store_dir: &Path, version: Version) -> Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::create_dir_all(dir).with_context(|| format!("could not create {}", dir.display()))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("could not make {} private", dir.display()))?;
    let server = dir.join("nats-server.conf");
    for (name, contents) in [
        ("nats-server.conf", SERVER_CONF.to_owned()),
        ("accounts.conf", accounts_for(region)),
        ("storage.conf", storage_for(store_dir, version)),
    ] {
        super::private_file(&dir.join(name), &contents)?;
    }
    Ok(server)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_and_compared() {
        let debian = Version::parse("nats-server: v2.9.10\n").unwrap();
        assert_eq!(debian, Version(2, 9, 10));
        assert!(!debian.syncs_always());
        assert!(
            Version::parse("nats-server: v2.10.23")
                .unwrap()
                .syncs_always()
        );
        assert!(
            Version::parse("nats-server: v2.11.0-RC.1")
                .unwrap()
                .syncs_always()
        );
        assert!(!Version(2, 10, 22).syncs_always());
        assert_eq!(Version::parse("command not found"), None);
    }

    #[test]
    fn every_user_of_the_shipped_accounts_is_found_with_its_password_variable() {
        let users = users();
        let names: Vec<_> = users.iter().map(|u| u.user.as_str()).collect();
        assert_eq!(
            names,
            [
                "provisioner",
                "intake",
                "router",
                "casework",
                "procesregie",
                "monitor",
                "gateway",
                "PI-HAARLEM"
            ]
        );
        assert_eq!(users[1].password_var, "RCN_NATS_INTAKE_PASSWORD");
        assert_eq!(users[7].password_var, "RCN_NATS_PI_HAARLEM_PASSWORD");
    }

    #[test]
    fn another_regions_accounts_name_its_subjects_and_streams_only() {
        let region = Region::parse("noord-holland-noord").unwrap();
        let accounts = accounts_for(&region);
        assert!(!accounts.contains("kennemerland"));
        assert!(!accounts.contains("KENNEMERLAND"));
        assert!(accounts.contains("\"rcn.noord-holland-noord.intake.accepted\""));
        assert!(accounts.contains("$JS.API.STREAM.INFO.NOORD_HOLLAND_NOORD_NOTICES\""));
        // Only the names changed.
        assert_eq!(
            accounts.lines().count(),
            ACCOUNTS_CONF.lines().count(),
            "same lines"
        );
    }

    #[test]
    fn the_shipped_storage_syncs_always_and_ours_only_where_the_server_can() {
        assert!(STORAGE_CONF.contains("\nsync_interval: always"));
        assert!(SERVER_CONF.contains("include ./storage.conf"));
        assert!(SERVER_CONF.contains("include ./accounts.conf"));
        let old = storage_for(Path::new("/tmp/js"), Version(2, 9, 10));
        assert!(old.contains("store_dir: \"/tmp/js\""));
        assert!(!old.contains("\nsync_interval"));
        let new = storage_for(Path::new("/tmp/js"), Version(2, 10, 23));
        assert!(new.contains("\nsync_interval: always\n"));
    }
}
