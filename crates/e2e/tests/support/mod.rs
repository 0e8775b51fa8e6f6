//! Harness of the browser tests: one `gongkao demo` server, one chromedriver, and a fresh
//! headless Chromium session (with its own profile folder) per scenario.
//!
//! Everything here fails loudly: a missing binary, chromedriver or browser is a test failure,
//! never a silent pass.

use std::fmt::Display;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use tempfile::TempDir;

/// The outcome of a step or a scenario: `Err` carries a readable explanation.
pub type Outcome<T = ()> = Result<T, String>;

/// How long the demo server may take to seed its data and answer `/readyz` with 200.
pub const SERVER_READY_TIMEOUT: Duration = Duration::from_secs(120);
/// How long chromedriver may take to answer `/status`.
const DRIVER_READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a page element or a navigation may take to appear.
pub const UI_TIMEOUT: Duration = Duration::from_secs(20);

const DEFAULT_CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";

/// Adds what was being done to an error, so a failure says where it happened.
pub trait Context<T> {
    fn ctx(self, what: impl Display) -> Outcome<T>;
}

impl<T, E: Display> Context<T> for Result<T, E> {
    fn ctx(self, what: impl Display) -> Outcome<T> {
        self.map_err(|e| format!("{what}: {e}"))
    }
}

fn env_path(var: &str) -> Option<PathBuf> {
    std::env::var_os(var).filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// The cargo target folder: `CARGO_TARGET_DIR`, else the workspace's `target/`.
pub fn target_dir() -> PathBuf {
    env_path("CARGO_TARGET_DIR").unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

/// The `gongkao` binary under test: `GONGKAO_BIN`, else `<target>/debug/gongkao`.
pub fn gongkao_bin() -> PathBuf {
    env_path("GONGKAO_BIN").unwrap_or_else(|| target_dir().join("debug/gongkao"))
}

pub fn chromedriver_bin() -> PathBuf {
    env_path("GONGKAO_CHROMEDRIVER").unwrap_or_else(|| PathBuf::from(DEFAULT_CHROMEDRIVER))
}

pub fn chromium_bin() -> PathBuf {
    env_path("GONGKAO_CHROMIUM").unwrap_or_else(|| PathBuf::from(DEFAULT_CHROMIUM))
}

/// Where screenshots, page sources and logs of failed scenarios are kept after the run:
/// `GONGKAO_E2E_ARTIFACTS`, else `<target>/e2e-artifacts/<unix time>`.
pub fn artifacts_dir() -> PathBuf {
    env_path("GONGKAO_E2E_ARTIFACTS").unwrap_or_else(|| {
        let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        target_dir().join("e2e-artifacts").join(secs.to_string())
    })
}

fn require_file(path: &Path, what: &str, hint: &str) -> Outcome {
    if path.is_file() { Ok(()) } else { Err(format!("{what} not found at {}: {hint}", path.display())) }
}

/// A free TCP port on 127.0.0.1 (bound, read, released).
pub fn free_port() -> Outcome<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").ctx("binding 127.0.0.1:0")?;
    let port = listener.local_addr().ctx("reading the bound port")?.port();
    Ok(port)
}

/// Status code of a plain HTTP/1.1 `GET path` to `addr`.
pub fn http_status(addr: SocketAddr, path: &str, timeout: Duration) -> io::Result<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: */*\r\nConnection: close\r\n\r\n")?;
    let mut head = Vec::new();
    let mut chunk = [0u8; 1024];
    while !head.windows(2).any(|w| w == b"\r\n") && head.len() < 16 * 1024 {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&head);
    let status_line = text.lines().next().unwrap_or_default();
    status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, format!("not an HTTP response: {status_line:?}")))
}

/// The last `max_lines` lines of a log file (or why it could not be read).
pub fn log_tail(path: &Path, max_lines: usize) -> String {
    match fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let lines: Vec<&str> = text.lines().collect();
            let skip = lines.len().saturating_sub(max_lines);
            let mut out = String::new();
            if skip > 0 {
                out.push_str(&format!("[... {skip} earlier lines ...]\n"));
            }
            for line in &lines[skip..] {
                out.push_str(line);
                out.push('\n');
            }
            out
        }
        Err(e) => format!("[could not read {}: {e}]\n", path.display()),
    }
}

fn log_file(path: &Path) -> Outcome<(Stdio, Stdio)> {
    let out = File::create(path).ctx(format!("creating {}", path.display()))?;
    let err = out.try_clone().ctx(format!("duplicating {}", path.display()))?;
    Ok((Stdio::from(out), Stdio::from(err)))
}

/// A child process that is killed (and reaped) when dropped.
struct ChildGuard {
    name: &'static str,
    child: Child,
}

impl ChildGuard {
    /// `Some(description)` if the process has already exited.
    fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(format!("{} exited early with {status}", self.name)),
            Ok(None) => None,
            Err(e) => Some(format!("could not query {}: {e}", self.name)),
        }
    }

    fn wait_exit(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// A running `gongkao --data-dir <tmp> --listen 127.0.0.1:<port> demo`.
pub struct Server {
    /// Behind a lock so a scenario holding `&Server` can kill and restart it.
    child: std::sync::Mutex<ChildGuard>,
    pub base_url: String,
    pub log_path: PathBuf,
    log_shown: bool,
    addr: SocketAddr,
    // Declared last: removed after the process is gone.
    data_dir: TempDir,
}

fn spawn_demo(addr: SocketAddr, data_dir: &Path, log_path: &Path, at: Option<&str>) -> Outcome<ChildGuard> {
    let bin = gongkao_bin();
    require_file(&bin, "the gongkao binary", "build it first (`cargo build -p gongkao`) or point GONGKAO_BIN at it")?;
    let (stdout, stderr) = log_file(log_path)?;
    let mut cmd = Command::new(&bin);
    cmd.arg("--data-dir").arg(data_dir).arg("--listen").arg(addr.to_string());
    if let Some(at) = at {
        cmd.arg("--at").arg(at);
    }
    let child = cmd.arg("demo").stdin(Stdio::null()).stdout(stdout).stderr(stderr).spawn().ctx(format!("starting {}", bin.display()))?;
    Ok(ChildGuard { name: "gongkao", child })
}

impl Server {
    pub fn start() -> Outcome<Server> {
        let data_dir = tempfile::Builder::new().prefix("gongkao-e2e-data-").tempdir().ctx("creating the data folder")?;
        let log_path = data_dir.path().join("gongkao.log");
        let port = free_port()?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let child = spawn_demo(addr, data_dir.path(), &log_path, None)?;
        let server =
            Server { child: std::sync::Mutex::new(child), base_url: format!("http://{addr}"), log_path, log_shown: false, addr, data_dir };
        server.wait_ready(&server.log_path)?;
        Ok(server)
    }

    fn child(&self) -> std::sync::MutexGuard<'_, ChildGuard> {
        self.child.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn wait_ready(&self, log: &Path) -> Outcome {
        let started = Instant::now();
        loop {
            if let Some(exit) = self.child().exited() {
                return Err(format!("{exit} before /readyz answered 200.\n--- gongkao log ---\n{}", log_tail(log, 200)));
            }
            let last = match http_status(self.addr, "/readyz", Duration::from_secs(5)) {
                Ok(200) => break,
                Ok(code) => format!("HTTP {code}"),
                Err(e) => e.to_string(),
            };
            if started.elapsed() > SERVER_READY_TIMEOUT {
                return Err(format!(
                    "gongkao did not answer 200 on {}/readyz within {SERVER_READY_TIMEOUT:?} \
                     (last: {last}).\n--- gongkao log ---\n{}",
                    self.base_url,
                    log_tail(log, 200)
                ));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        eprintln!(
            "e2e: {} ready at {} after {:.1}s (log: {})",
            gongkao_bin().display(),
            self.base_url,
            started.elapsed().as_secs_f64(),
            log.display()
        );
        Ok(())
    }

    /// Kills the server with SIGKILL, as a power cut would: nothing is flushed or shut down.
    pub fn kill(&self) -> Outcome {
        let mut guard = self.child();
        guard.child.kill().ctx("killing gongkao")?;
        guard.child.wait().ctx("reaping gongkao")?;
        Ok(())
    }

    /// Starts the server again on the same data folder and address, its clock at `at`; the log
    /// of the new process goes to `gongkao.<n>.log` beside the first.
    pub fn restart_at(&self, at: &str, n: u32) -> Outcome {
        if self.child().exited().is_none() {
            self.kill()?;
        }
        let log = self.data_dir.path().join(format!("gongkao.{n}.log"));
        *self.child() = spawn_demo(self.addr, self.data_dir.path(), &log, Some(at))?;
        self.wait_ready(&log)
    }

    /// The log of the `n`-th restart (see [`Server::restart_at`]), where the demo prints its
    /// accounts and the exam-day line as the data stands then.
    pub fn restart_log(&self, n: u32) -> String {
        fs::read_to_string(self.data_dir.path().join(format!("gongkao.{n}.log"))).unwrap_or_default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub fn log_tail(&self, max_lines: usize) -> String {
        log_tail(&self.log_path, max_lines)
    }

    /// Prints the end of the server log (once; a later panic will not print it again).
    pub fn show_log(&mut self) {
        eprintln!("--- gongkao log (last 200 lines of {}) ---\n{}", self.log_path.display(), self.log_tail(200));
        self.log_shown = true;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if std::thread::panicking() && !self.log_shown {
            self.show_log();
        }
    }
}

/// A running chromedriver.
pub struct Driver {
    child: ChildGuard,
    addr: SocketAddr,
    pub log_path: PathBuf,
    _dir: TempDir,
}

impl Driver {
    pub fn start() -> Outcome<Driver> {
        let driver = chromedriver_bin();
        let hint = "install Debian's chromium and chromium-driver \
                    (`apt-get install chromium chromium-driver`), as .ci/run does";
        require_file(&driver, "chromedriver", hint)?;
        require_file(&chromium_bin(), "chromium", hint)?;
        let dir = tempfile::Builder::new().prefix("gongkao-e2e-driver-").tempdir().ctx("creating the chromedriver folder")?;
        let log_path = dir.path().join("chromedriver.log");
        let port = free_port()?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let (stdout, stderr) = log_file(&log_path)?;
        let child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .ctx(format!("starting {}", driver.display()))?;
        let mut this = Driver { child: ChildGuard { name: "chromedriver", child }, addr, log_path, _dir: dir };
        let started = Instant::now();
        loop {
            if let Some(exit) = this.child.exited() {
                return Err(format!("{exit}.\n--- chromedriver log ---\n{}", log_tail(&this.log_path, 100)));
            }
            if let Ok(200) = http_status(addr, "/status", Duration::from_secs(2)) {
                break;
            }
            if started.elapsed() > DRIVER_READY_TIMEOUT {
                return Err(format!(
                    "chromedriver did not answer on {addr} within {DRIVER_READY_TIMEOUT:?}.\n\
                     --- chromedriver log ---\n{}",
                    log_tail(&this.log_path, 100)
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(this)
    }

    /// A new headless Chromium session with a fresh profile, 1366×768.
    pub async fn new_browser(&self) -> Outcome<Browser> {
        let profile = tempfile::Builder::new().prefix("gongkao-e2e-chromium-").tempdir().ctx("creating the chromium profile folder")?;
        let caps = capabilities(&chromium_bin(), profile.path())?;
        let url = format!("http://{}", self.addr);
        let mut attempt = 1;
        let client = loop {
            let result = ClientBuilder::new(HttpConnector::new()).capabilities(caps.clone()).connect(&url).await;
            match result {
                Ok(client) => break client,
                // A cold first start of Chromium on a busy 2-core machine can time out once.
                Err(e) if attempt < 2 => {
                    eprintln!("e2e: starting a Chromium session failed ({e}); retrying once");
                    attempt += 1;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(e) => {
                    return Err(format!(
                        "could not start a Chromium session through chromedriver: {e}\n\
                         --- chromedriver log ---\n{}",
                        log_tail(&self.log_path, 60)
                    ));
                }
            }
        };
        Ok(Browser { client, _profile: profile })
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // /shutdown makes chromedriver quit its browsers too; a plain kill could orphan them.
        let _ = http_status(self.addr, "/shutdown", Duration::from_secs(5));
        self.child.wait_exit(Duration::from_secs(5));
    }
}

fn capabilities(chromium: &Path, profile: &Path) -> Outcome<Capabilities> {
    let value = serde_json::json!({
        "browserName": "chrome",
        "pageLoadStrategy": "normal",
        "timeouts": { "pageLoad": 60_000, "script": 30_000 },
        "goog:chromeOptions": {
            "binary": chromium.to_string_lossy(),
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1366,768",
                format!("--user-data-dir={}", profile.display()),
            ],
        },
    });
    match value {
        serde_json::Value::Object(map) => Ok(map),
        other => Err(format!("capabilities are not an object: {other}")),
    }
}

/// One WebDriver session. Call [`Browser::close`]; dropping it leaves Chromium to chromedriver.
pub struct Browser {
    pub client: Client,
    // Declared last: removed after the session is closed.
    _profile: TempDir,
}

impl Browser {
    pub async fn close(self) {
        if let Err(e) = self.client.clone().close().await {
            eprintln!("e2e: closing the Chromium session failed: {e}");
        }
    }

    /// Screenshot and page source into `dir`, named after `name`; returns what was saved.
    pub async fn save_evidence(&self, dir: &Path, name: &str) -> Vec<String> {
        let mut saved = Vec::new();
        if let Err(e) = fs::create_dir_all(dir) {
            saved.push(format!("could not create {}: {e}", dir.display()));
            return saved;
        }
        let stem: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
        if let Ok(url) = self.client.current_url().await {
            saved.push(format!("page at failure: {url}"));
        }
        match self.client.screenshot().await {
            Ok(png) => {
                let path = dir.join(format!("{stem}.png"));
                match fs::write(&path, png) {
                    Ok(()) => saved.push(format!("screenshot: {}", path.display())),
                    Err(e) => saved.push(format!("could not write {}: {e}", path.display())),
                }
            }
            Err(e) => saved.push(format!("no screenshot: {e}")),
        }
        if let Ok(html) = self.client.source().await {
            let path = dir.join(format!("{stem}.html"));
            if fs::write(&path, html).is_ok() {
                saved.push(format!("page source: {}", path.display()));
            }
        }
        saved
    }
}

/// Waits up to [`UI_TIMEOUT`] for an element matching the CSS selector.
pub async fn wait_css(client: &Client, selector: &str) -> Outcome<fantoccini::elements::Element> {
    match client.wait().at_most(UI_TIMEOUT).for_element(Locator::Css(selector)).await {
        Ok(element) => Ok(element),
        Err(e) => {
            let url = client.current_url().await.map(|u| u.to_string()).unwrap_or_else(|_| "?".into());
            Err(format!("no element `{selector}` within {UI_TIMEOUT:?} on {url}: {e}"))
        }
    }
}

/// Waits up to [`UI_TIMEOUT`] until the page's path is `path`.
pub async fn wait_path(client: &Client, path: &str) -> Outcome {
    let started = Instant::now();
    loop {
        let url = client.current_url().await.ctx("reading the current URL")?;
        if url.path() == path {
            return Ok(());
        }
        if started.elapsed() > UI_TIMEOUT {
            return Err(format!("expected to be on {path} within {UI_TIMEOUT:?}, but the page is {url}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Number of elements matching the CSS selector right now.
pub async fn count_css(client: &Client, selector: &str) -> Outcome<usize> {
    Ok(client.find_all(Locator::Css(selector)).await.ctx(format!("looking for `{selector}`"))?.len())
}
