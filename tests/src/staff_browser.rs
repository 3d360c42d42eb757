//! The one real browser of the tests: Debian's `chromium` driven through `chromedriver`
//! (WebDriver, via fantoccini), with axe-core run on every page a test looks at
//! ([`Browser::check_page`]) and a screenshot of it saved under
//! `$CARGO_TARGET_DIR/screenshots/<test binary run>/`. The portal suite opens it on the portal
//! ([`Browser::open`], paths relative to it); the sign-in suite ([`Browser::start`], full URLs,
//! and fantoccini's `Client` through `Deref`) drives it through the OpenID provider's pages
//! too. `rcn_tests::browser` is the same module under the sign-in suite's name.
//!
//! One chromedriver serves the whole test binary (started on first use, ended when the binary
//! exits: it is started by a shell that kills it when our end of its standard input closes);
//! every browser gets its own fresh profile, so sessions never leak between tests.

use std::io::Write as _;
use std::ops::Deref;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

/// axe-core, vendored from npm (see `tests/browser/vendor/README.md`).
const AXE: &str = include_str!("../browser/vendor/axe.min.js");

/// Where Debian installs them (`.ci/bootstrap` installs `chromium` and `chromium-driver`);
/// `RCN_CHROMIUM` and `RCN_CHROMEDRIVER` override them.
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// How long a test waits for an element to appear.
pub const BROWSER_PATIENCE: Duration = Duration::from_secs(20);

fn chromium() -> String {
    std::env::var("RCN_CHROMIUM").unwrap_or_else(|_| CHROMIUM.to_owned())
}

fn chromedriver() -> String {
    std::env::var("RCN_CHROMEDRIVER").unwrap_or_else(|_| CHROMEDRIVER.to_owned())
}

struct Driver {
    port: u16,
    /// Kept so the shell's standard input stays open while the binary runs.
    _shell: Mutex<Child>,
}

static DRIVER: OnceLock<Driver> = OnceLock::new();

fn driver() -> &'static Driver {
    DRIVER.get_or_init(|| {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        // `read` returns when this process exits and its end of the pipe closes; then the
        // shell ends chromedriver (and chromedriver its browsers).
        let shell = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "{} --port={port} --log-level=WARNING >/dev/null 2>&1 & d=$!; read _; kill $d",
                chromedriver()
            ))
            .stdin(Stdio::piped())
            .spawn()
            .expect("chromedriver starts (install chromium-driver: .ci/bootstrap)");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not listen on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver {
            port,
            _shell: Mutex::new(shell),
        }
    })
}

/// The folder this run's screenshots go to (printed once).
pub fn screenshot_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .or_else(|| {
                // target/debug/deps/<binary>: three levels up.
                std::env::current_exe()
                    .ok()
                    .and_then(|p| p.ancestors().nth(3).map(PathBuf::from))
            })
            .unwrap_or_else(std::env::temp_dir);
        let dir = target.join("screenshots").join(format!(
            "browser-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%S")
        ));
        std::fs::create_dir_all(&dir).expect("the screenshot folder");
        let _ = writeln!(std::io::stderr(), "screenshots: {}", dir.display());
        println!("screenshots: {}", dir.display());
        dir
    })
}

/// One browser window with its own profile.
pub struct Browser {
    pub client: Client,
    base: String,
    profile: PathBuf,
    /// Prefix of this browser's screenshot names (the scenario and who uses it).
    name: String,
}

/// An accessibility violation axe-core found.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Violation {
    pub id: String,
    pub impact: Option<String>,
    pub help: String,
    #[serde(default)]
    pub nodes: Vec<serde_json::Value>,
}

impl Deref for Browser {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

impl Browser {
    /// Opens a headless Chromium for the portal at `base` (e.g. `http://127.0.0.1:1234`);
    /// `name` prefixes its screenshots.
    pub async fn open(base: &str, name: &str) -> Self {
        let port = driver().port;
        let profile = std::env::temp_dir().join(format!("rcn-chromium-{}", uuid::Uuid::new_v4()));
        let mut caps = Capabilities::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium(),
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1280,1000",
                    // Only this machine: a page that names an outside host (a web font) fails
                    // at once instead of waiting for a network that is not there.
                    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost",
                    format!("--user-data-dir={}", profile.display()),
                ],
            }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("chromedriver starts a Chromium session");
        Self {
            client,
            base: base.trim_end_matches('/').to_owned(),
            profile,
            name: name.to_owned(),
        }
    }

    /// Opens a browser with no portal address, for tests that go to full URLs (the sign-in
    /// suite: the portal, a relying party and the OpenID provider).
    pub async fn start() -> Self {
        Self::open("", "aanmelden").await
    }

    /// The element `css` once it is on the page.
    pub async fn element(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(BROWSER_PATIENCE)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
    }

    /// The text of the element `css` once it is on the page.
    pub async fn text_of(&self, css: &str) -> String {
        self.element(css).await.text().await.expect("its text")
    }

    /// Goes to `path` on the portal (a full URL when opened with [`Browser::start`]).
    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .expect("the page loads");
    }

    /// The current path (and query) of the page.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("a current URL");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// The visible text of the page's `<main>`.
    pub async fn main_text(&self) -> String {
        self.text("main").await
    }

    /// The visible text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
            .text()
            .await
            .expect("its text")
    }

    /// Types `value` into the field matching `css` (after clearing it).
    pub async fn fill(&self, css: &str, value: &str) {
        let field = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no field {css}: {e}"));
        field.clear().await.expect("the field clears");
        field.send_keys(value).await.expect("typing works");
    }

    /// Chooses the option with `value` in the select matching `css`.
    pub async fn select(&self, css: &str, value: &str) {
        let select = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no select {css}: {e}"));
        select
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("{css} has no option {value}: {e}"));
    }

    /// Clicks the element matching `css` (a link or a form's button) and waits for the page it
    /// leads to.
    pub async fn click(&self, css: &str) {
        let element = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("nothing to click at {css}: {e}"));
        // The theme scrolls smoothly; a click during the scroll would land elsewhere.
        let arg = serde_json::to_value(&element).expect("an element reference");
        self.client
            .execute(
                "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})",
                vec![arg],
            )
            .await
            .expect("the element scrolls into view");
        // Mark this document, so the wait below knows when the next one has replaced it: a
        // finished old page also reads `complete`.
        self.client
            .execute("window.__rcnOldPage = true", vec![])
            .await
            .expect("the page is marked");
        element.click().await.expect("the click lands");
        let started = Instant::now();
        loop {
            let fresh = self
                .client
                .execute(
                    "return window.__rcnOldPage !== true && document.readyState === 'complete'",
                    vec![],
                )
                .await
                .ok()
                .and_then(|v| v.as_bool())
                .unwrap_or(false);
            if fresh {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the click on {css} led to no new page"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The visible text of every element matching `css`, in page order (e.g. a table's rows).
    pub async fn rows(&self, css: &str) -> Vec<String> {
        let mut texts = Vec::new();
        for e in self
            .client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
        {
            texts.push(e.text().await.expect("its text"));
        }
        texts
    }

    /// Whether an element matches `css`.
    pub async fn has(&self, css: &str) -> bool {
        self.client.find(Locator::Css(css)).await.is_ok()
    }

    /// Waits until the document has loaded.
    pub async fn settle(&self) {
        let started = Instant::now();
        loop {
            let state = self
                .client
                .execute("return document.readyState", vec![])
                .await
                .ok();
            if state.as_ref().and_then(|s| s.as_str()) == Some("complete") {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the page did not finish loading"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Signs in on the built-in login form and waits for the page after it.
    pub async fn sign_in(&self, user_id: &str, password: &str) {
        self.goto("/inloggen").await;
        self.fill("#gebruikersnaam", user_id).await;
        self.fill("#wachtwoord", password).await;
        self.click("form[action='/inloggen'] button[type=submit]")
            .await;
    }

    /// Saves a screenshot named `<browser name>-<step>.png`; returns its path.
    pub async fn screenshot(&self, step: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("a screenshot");
        let path = screenshot_dir().join(format!("{}-{step}.png", self.name));
        std::fs::write(&path, png).expect("the screenshot is saved");
        path
    }

    /// Runs axe-core on the page: the violations of impact serious or critical.
    pub async fn serious_violations(&self) -> Vec<Violation> {
        serious_violations(&self.client).await
    }

    /// The bytes of `href` as this browser's session fetches it (a download, e.g. a CSV file).
    pub async fn fetch_bytes(&self, href: &str) -> Vec<u8> {
        let result = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 fetch(arguments[0], { credentials: 'same-origin' })
                    .then(r => r.arrayBuffer())
                    .then(b => done(Array.from(new Uint8Array(b))))
                    .catch(e => done('ERROR ' + e));",
                vec![serde_json::Value::from(href)],
            )
            .await
            .expect("the fetch runs");
        serde_json::from_value(result.clone())
            .unwrap_or_else(|_| panic!("fetching {href} failed: {result}"))
    }

    /// The `href` of the first element matching `css`.
    pub async fn href(&self, css: &str) -> String {
        let v = self
            .client
            .execute(
                "const e = document.querySelector(arguments[0]); return e ? e.getAttribute('href') : null;",
                vec![serde_json::Value::from(css)],
            )
            .await
            .expect("the script runs");
        v.as_str()
            .unwrap_or_else(|| panic!("no link {css}"))
            .to_owned()
    }

    /// Checks the page with axe-core (no serious or critical violation) and saves a screenshot
    /// named after `step`. Prints the page's axe result line for the test's log.
    pub async fn check_page(&self, step: &str) {
        self.settle().await;
        let shot = self.screenshot(step).await;
        let violations = self.serious_violations().await;
        assert_accessible(
            &format!("{}-{step}", self.name),
            &self.path().await,
            &shot,
            &violations,
        );
    }

    /// Ends the browser session and removes its profile.
    pub async fn close(self) {
        let _ = self.client.close().await;
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Runs axe-core (vendored, injected when the page does not have it yet) on the page `client`
/// shows: the violations of impact serious or critical. Both browser harnesses use it.
pub async fn serious_violations(client: &Client) -> Vec<Violation> {
    let loaded = client
        .execute("return typeof window.axe !== 'undefined'", vec![])
        .await
        .expect("a script runs");
    if loaded.as_bool() != Some(true) {
        client
            .execute(AXE, vec![])
            .await
            .expect("axe-core loads into the page");
    }
    let result = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] })
                .then(r => done(JSON.stringify(r.violations)))
                .catch(e => done('ERROR ' + e));",
            vec![],
        )
        .await
        .expect("axe-core runs");
    let text = result.as_str().unwrap_or_default();
    assert!(!text.starts_with("ERROR"), "axe-core failed: {text}");
    let all: Vec<Violation> = serde_json::from_str(text).expect("axe-core's violations");
    all.into_iter()
        .filter(|v| matches!(v.impact.as_deref(), Some("serious" | "critical")))
        .collect()
}

/// Prints the page's axe line (`axe <name> (<path>): N serious or critical violation(s)`) and
/// fails the test when there is any, naming each with the screenshot `shot`.
pub fn assert_accessible(name: &str, path: &str, shot: &std::path::Path, violations: &[Violation]) {
    println!(
        "axe {name} ({path}): {} serious or critical violation(s)",
        violations.len()
    );
    assert!(
        violations.is_empty(),
        "accessibility violations on {path} (screenshot {}): {:#?}",
        shot.display(),
        violations
            .iter()
            .map(|v| format!(
                "{} [{}] {}: {} node(s) {}",
                v.id,
                v.impact.as_deref().unwrap_or("?"),
                v.help,
                v.nodes.len(),
                v.nodes
                    .first()
                    .and_then(|n| n.get("html"))
                    .and_then(|h| h.as_str())
                    .unwrap_or("")
            ))
            .collect::<Vec<_>>()
    );
}
