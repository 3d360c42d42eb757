//! A real browser for the tests: Debian's Chromium, headless, driven over WebDriver by
//! `chromedriver` (both from `.ci/bootstrap`) through fantoccini. Each [`Browser`] has its own
//! chromedriver and a fresh profile, so cookies never leak between tests; both go when it is
//! dropped. [`Browser::screenshot`] saves PNGs under `$CARGO_TARGET_DIR/screenshots/`.

use std::net::TcpListener;
use std::ops::Deref;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

/// The WebDriver server; `RCN_CHROMEDRIVER` overrides it.
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// How long a test waits for an element to appear.
pub const BROWSER_PATIENCE: Duration = Duration::from_secs(20);

/// One headless Chromium with its own chromedriver and profile.
pub struct Browser {
    client: Client,
    driver: Child,
    profile: PathBuf,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Browser(chromedriver pid {})", self.driver.id())
    }
}

impl Deref for Browser {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

/// Chromium itself: Debian's real binary, not its `/usr/bin/chromium` wrapper script.
fn chromium_binary() -> String {
    std::env::var("RCN_CHROMIUM").unwrap_or_else(|_| {
        ["/usr/lib/chromium/chromium", "/usr/bin/chromium"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .unwrap_or("/usr/bin/chromium")
            .to_owned()
    })
}

/// Where screenshots go: `$CARGO_TARGET_DIR/screenshots`, or beside the test binary's target.
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            // <target>/debug/deps/<test binary>
            let exe = std::env::current_exe().ok()?;
            Some(exe.parent()?.parent()?.parent()?.to_path_buf())
        })
        .unwrap_or_else(std::env::temp_dir);
    target.join("screenshots")
}

impl Browser {
    /// Starts chromedriver on a free port and opens a headless Chromium session.
    pub async fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let profile =
            std::env::temp_dir().join(format!("rcn-browser-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&profile).expect("a profile folder");
        let driver_bin = std::env::var("RCN_CHROMEDRIVER").unwrap_or_else(|_| CHROMEDRIVER.into());
        let driver = Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so dropping the browser ends Chromium with it.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("{driver_bin} starts ({e}); .ci/bootstrap installs it"));
        let mut browser = BrowserStart {
            driver: Some(driver),
            profile: profile.clone(),
        };
        let url = format!("http://127.0.0.1:{port}");
        let caps = serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium_binary(),
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--window-size=1280,900",
                    // Only this machine: a page that names an outside host (a web font) fails
                    // at once instead of waiting for a network that is not there.
                    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost",
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
        });
        let caps = caps.as_object().expect("an object").clone();
        let deadline = tokio::time::Instant::now() + BROWSER_PATIENCE;
        let client = loop {
            let attempt = ClientBuilder::new(HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await;
            match attempt {
                Ok(client) => break client,
                Err(e) if tokio::time::Instant::now() > deadline => {
                    panic!("no WebDriver session from {driver_bin} at {url}: {e}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        Self {
            client,
            driver: browser.driver.take().expect("still there"),
            profile,
        }
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

    /// Saves a screenshot of the page as `<name>.png` in [`screenshot_dir`], and returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("a screenshot");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("the screenshot folder");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("the screenshot is saved");
        path
    }

    /// Saves a screenshot named `name` and checks the page with axe-core: no serious or critical
    /// violation. For the portal's own pages (not the provider's, which are not ours to fix).
    pub async fn check_page(&self, name: &str) -> PathBuf {
        let shot = self.screenshot(name).await;
        let violations = crate::staff_browser::serious_violations(&self.client).await;
        let url = self.client.current_url().await.expect("a current URL");
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        crate::staff_browser::assert_accessible(name, &path, &shot, &violations);
        shot
    }

    /// Ends the session (Chromium quits), then the driver.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        stop_driver(&mut self.driver);
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Cleans up when [`Browser::start`] fails halfway.
struct BrowserStart {
    driver: Option<Child>,
    profile: PathBuf,
}

impl Drop for BrowserStart {
    fn drop(&mut self) {
        if let Some(driver) = self.driver.as_mut() {
            stop_driver(driver);
            let _ = std::fs::remove_dir_all(&self.profile);
        }
    }
}

/// Ends chromedriver and the Chromium it started: the process group this harness made for it.
fn stop_driver(driver: &mut Child) {
    let group = format!("-{}", driver.id());
    let _ = Command::new("kill")
        .args(["-TERM", "--", &group])
        .stderr(Stdio::null())
        .status();
    let _ = driver.kill();
    let _ = driver.wait();
}
