//! An independent OpenID provider for the sign-in tests: the npm package `oidc-provider`, run by
//! `tests/oidc/provider/provider.mjs` on a random port of 127.0.0.1, with one confidential client
//! that must use PKCE and the accounts a test gives it. Its own login and consent pages take any
//! password. Installed from the npm registry on first use (`tests/oidc/provider/install`); the
//! process ends when the [`OidcProvider`] is dropped, or with the test process.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};

/// The client the provider knows, and the accounts that can sign in there.
#[derive(Debug, Clone)]
pub struct ProviderSetup {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    /// Login name → the claims of that account (besides `sub`, which is the login name).
    pub accounts: Map<String, Value>,
    /// Extra scopes → the claims they release (`profile` releases `name`).
    pub scopes: Map<String, Value>,
}

/// A running provider.
pub struct OidcProvider {
    /// Its issuer URL, `http://127.0.0.1:<port>`.
    pub issuer: String,
    child: Child,
    // Its standard input: the provider exits when this closes.
    _stdin: ChildStdin,
}

impl std::fmt::Debug for OidcProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OidcProvider({})", self.issuer)
    }
}

fn provider_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("oidc/provider")
}

/// Installs `oidc-provider` (once per test process; the script skips an install that is current)
/// and returns the folder that holds its `node_modules`.
pub fn install() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let out = std::process::Command::new(provider_dir().join("install"))
            .stderr(Stdio::inherit())
            .output()
            .expect("tests/oidc/provider/install runs (bash, npm: see .ci/bootstrap)");
        assert!(
            out.status.success(),
            "installing the test OpenID provider failed"
        );
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    })
    .clone()
}

impl OidcProvider {
    /// Starts a provider for `setup` and waits until it serves.
    pub async fn start(setup: &ProviderSetup) -> Self {
        let node_dir = install();
        let config = json!({
            "client": {
                "client_id": setup.client_id,
                "client_secret": setup.client_secret,
                "redirect_uris": setup.redirect_uris,
                "post_logout_redirect_uris": setup.post_logout_redirect_uris,
            },
            "accounts": setup.accounts,
            "scopes": setup.scopes,
        });
        let mut child = Command::new("node")
            .arg(provider_dir().join("provider.mjs"))
            .env("RCN_TEST_OIDC_NODE_DIR", &node_dir)
            .env("RCN_TEST_OIDC_CONFIG", config.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node starts (see .ci/bootstrap)");
        let stdin = child.stdin.take().expect("piped");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped")).lines();
        // Its warnings (development adapter, dev interactions) and errors go to the test's
        // output, where a failing test shows them.
        let mut stderr = BufReader::new(child.stderr.take().expect("piped")).lines();
        tokio::spawn(async move {
            while let Ok(Some(line)) = stderr.next_line().await {
                eprintln!("[oidc-provider] {line}");
            }
        });
        let issuer = tokio::time::timeout(Duration::from_secs(30), async {
            while let Ok(Some(line)) = stdout.next_line().await {
                if let Some(issuer) = line.strip_prefix("ISSUER=") {
                    return Some(issuer.to_owned());
                }
            }
            None
        })
        .await
        .ok()
        .flatten()
        .expect("the OpenID provider reports its issuer URL");
        tokio::spawn(async move { while let Ok(Some(_)) = stdout.next_line().await {} });
        Self {
            issuer,
            child,
            _stdin: stdin,
        }
    }

    /// Stops the provider and waits for it to exit.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}
