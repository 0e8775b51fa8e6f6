//! `gongkao-load`: a load generator for a running Gongkao server, run as a second process.
//!
//! - `submit`: each client signs in as its own applicant and loops over the application life
//!   cycle through the web forms: save (POST /application: validation, eligibility, write,
//!   audit), submit (POST /application/submit with the pledge), withdraw (POST
//!   /application/withdraw). Every request is timed by kind.
//! - `get`: repeated GETs of one or several paths (rotating), signed in as one user (or anonymous).
//! - `exam`: candidates of the computer-based exam (人机对话考试) at their seats: the start storm
//!   (everyone logs in and opens the paper at once) or autosaves, paced like people or flat out
//!   (see `exam.rs`).
//!
//! Sign-ins happen before the clock starts; requests started during the warm-up are not counted.
//! Latency is from sending the request to having read the whole response body.
#![forbid(unsafe_code)]

mod exam;
mod hist;
mod raw;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use hist::Histogram;
use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::{Client, RequestBuilder, StatusCode};

#[derive(Parser)]
#[command(name = "gongkao-load", about = "Load generator for the Gongkao web server (run it as a second process)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Applicants save, submit and withdraw their applications in a loop, each as their own account.
    Submit(SubmitArgs),
    /// Repeated GETs of one or several paths (rotating), as one signed-in user or anonymously.
    Get(GetArgs),
    /// Exam candidates at their seats: the start storm (`--storm`) or answer saves (`--pace`/`--max`).
    Exam(exam::ExamArgs),
    /// Medians over repeated runs: reads the `--json` lines of several runs (files or stdin).
    Median {
        /// Files holding the JSON lines of the runs; stdin when none.
        files: Vec<PathBuf>,
    },
}

#[derive(Args, Clone)]
struct Common {
    /// Base URL of the server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    base: String,
    /// Concurrent clients; each has its own connection and sends one request at a time.
    #[arg(long, default_value_t = 200)]
    clients: usize,
    /// Measured time, e.g. 20s, 1m, 500ms.
    #[arg(long, default_value = "20s", value_parser = parse_duration)]
    duration: Duration,
    /// Time before the measured window; requests started during it are not counted.
    #[arg(long, default_value = "3s", value_parser = parse_duration)]
    warmup: Duration,
    /// Password of the accounts (the demo password by default).
    #[arg(long, env = "GONGKAO_LOAD_PASSWORD", default_value = "Gongkao@2020", hide_env_values = true)]
    password: String,
    /// Fixed arrival rate: requests per second over all clients together (each client paces
    /// itself at RATE/CLIENTS). Latency is then counted from when each request was due, not
    /// when it was sent, so a stalled server is not hidden (no coordinated omission). Without
    /// it every client sends its next request as soon as the previous one is answered.
    #[arg(long)]
    rate: Option<f64>,
    /// Worker threads of the load generator (it shares the machine with the server).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Also report the CPU time this process (e.g. the server) used during the measured window.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Print the human summary to stderr and one JSON line to stdout.
    #[arg(long)]
    json: bool,
    /// The HTTP client of the measured loops (`get`, exam saves): `lean`, a minimal HTTP/1.1
    /// client that leaves more of a shared machine to the server (see `raw.rs`), or `reqwest`
    /// (what figures before 2026-12-05 used).
    #[arg(long, value_enum, default_value_t = ClientKind::Lean)]
    client: ClientKind,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ClientKind {
    Lean,
    Reqwest,
}

#[derive(Args)]
struct SubmitArgs {
    #[command(flatten)]
    common: Common,
    /// Accounts file written by `gongkao demo --applicant-accounts N` (load-accounts.tsv): one
    /// account a line, tab-separated, with the person's unit and work details for the form; or a
    /// plain list of user names (then --unit-credit-code is needed).
    #[arg(long, conflicts_with = "user_prefix")]
    users_from: Option<PathBuf>,
    /// Accounts named PREFIX0001, PREFIX0002, … (e.g. "load."); needs --unit-credit-code.
    #[arg(long)]
    user_prefix: Option<String>,
    /// The unit's credit code for accounts that come without one.
    #[arg(long)]
    unit_credit_code: Option<String>,
    /// Work type for accounts that come without one.
    #[arg(long, default_value = "汽车驾驶员")]
    work_type: String,
    /// Only save (each client keeps editing its own draft) instead of save, submit, withdraw.
    #[arg(long)]
    save_only: bool,
}

#[derive(Args)]
struct GetArgs {
    #[command(flatten)]
    common: Common,
    /// Sign in as this user (all clients share the session); anonymous when absent.
    #[arg(long)]
    user: Option<String>,
    /// Path and query to fetch, e.g. "/applicants?page=3"; repeat to rotate over several.
    #[arg(long = "path", required = true)]
    paths: Vec<String>,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).map_or((s, "s"), |i| (&s[..i], &s[i..]));
    let n: f64 = num.parse().map_err(|_| format!("not a duration: {s} (e.g. 20s, 500ms, 1m)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return Err(format!("unknown unit in {s}: use ms, s or m")),
    };
    Ok(Duration::from_secs_f64(secs))
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let threads = match &cli.command {
        Command::Submit(a) => a.common.threads,
        Command::Get(a) => a.common.threads,
        Command::Exam(a) => a.common.threads,
        Command::Median { files } => return median(files),
    };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(threads.max(1)).enable_all().build()?;
    rt.block_on(async {
        match cli.command {
            Command::Submit(a) => submit(a).await,
            Command::Get(a) => get(a).await,
            Command::Exam(a) => exam::run(a).await,
            Command::Median { .. } => Ok(()),
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Sessions

#[derive(Clone)]
struct Session {
    cookie: String,
    csrf: String,
}

fn new_client() -> Result<Client> {
    Ok(Client::builder().redirect(reqwest::redirect::Policy::none()).pool_max_idle_per_host(1).tcp_nodelay(true).build()?)
}

fn cookie_of(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|kv| kv.split_once('=').is_some_and(|(k, _)| k.trim() == name))
        .map(str::to_owned)
}

fn csrf_of(html: &str) -> Option<String> {
    let marker = "name=\"csrf_token\" value=\"";
    let i = html.find(marker)?;
    html[i + marker.len()..].split('"').next().map(str::to_owned).filter(|t| !t.is_empty())
}

/// The message of an error page (its `role="alert"` element), else the start of the body.
fn excerpt(body: &str) -> String {
    let text = match body.find("role=\"alert\">") {
        Some(i) => body[i + 13..].split("</").next().unwrap_or(""),
        None => body,
    };
    text.chars().take(200).collect::<String>().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Signs in through the login form, then reads the session's CSRF token from `page`.
async fn login(client: &Client, base: &str, user: &str, password: &str, page: &str) -> Result<Session> {
    let resp = client.get(format!("{base}/login")).send().await.context("GET /login")?;
    let pre = cookie_of(&resp, "gk_csrf");
    let html = resp.text().await?;
    let token = csrf_of(&html).context("no csrf_token on the login page")?;
    let mut req = client.post(format!("{base}/login")).form(&[("username", user), ("password", password), ("csrf_token", &token)]);
    if let Some(c) = &pre {
        req = req.header(COOKIE, c);
    }
    let resp = req.send().await.context("POST /login")?;
    if resp.status() != StatusCode::SEE_OTHER {
        let status = resp.status();
        bail!("sign-in of {user} failed: {status} {}", excerpt(&resp.text().await.unwrap_or_default()));
    }
    let cookie = cookie_of(&resp, "gk_session").context("no session cookie after sign-in")?;
    let html = client.get(format!("{base}{page}")).header(COOKIE, &cookie).send().await?.text().await?;
    let csrf = csrf_of(&html).with_context(|| format!("no csrf_token on {page} after sign-in of {user}"))?;
    Ok(Session { cookie, csrf })
}

// ---------------------------------------------------------------------------------------------
// Measurement

#[derive(Default)]
struct KindStats {
    hist: Histogram,
    errors: u64,
    /// Errors by HTTP status ("409") or "transport".
    by_status: BTreeMap<String, u64>,
    samples: Vec<String>,
}

impl KindStats {
    /// Counts one failed request under its status ("409", "transport").
    fn error(&mut self, status: &str, sample: String) {
        self.errors += 1;
        *self.by_status.entry(status.to_owned()).or_default() += 1;
        if self.samples.len() < 5 {
            self.samples.push(sample);
        }
    }
}

#[derive(Default)]
struct Stats {
    kinds: BTreeMap<String, KindStats>,
}

impl Stats {
    fn kind(&mut self, k: &str) -> &mut KindStats {
        self.kinds.entry(k.to_owned()).or_default()
    }
    fn merge(&mut self, other: Stats) {
        for (k, s) in other.kinds {
            let mine = self.kind(&k);
            mine.hist.merge(&s.hist);
            mine.errors += s.errors;
            for (k, n) in s.by_status {
                *mine.by_status.entry(k).or_default() += n;
            }
            for e in s.samples {
                if mine.samples.len() < 5 {
                    mine.samples.push(e);
                }
            }
        }
    }
}

/// The measured window, shared by every client.
#[derive(Clone, Copy)]
struct Window {
    start: Instant,
    end: Instant,
}

/// One client's schedule under `--rate`: its requests are due every `clients / rate` seconds,
/// the clients staggered evenly. Without a rate, nothing is ever due and requests go back to back.
struct Pacer {
    next: Option<Instant>,
    interval: Duration,
}

impl Pacer {
    fn new(common: &Common, client: usize, first: Instant) -> Pacer {
        match common.rate.filter(|r| *r > 0.0) {
            Some(rate) => {
                let interval = Duration::from_secs_f64(common.clients as f64 / rate);
                let stagger = interval.mul_f64(client as f64 / common.clients.max(1) as f64);
                Pacer { next: Some(first + stagger), interval }
            }
            None => Pacer { next: None, interval: Duration::ZERO },
        }
    }

    /// Waits until the next request is due and returns when that was.
    async fn due(&mut self) -> Option<Instant> {
        let due = self.next?;
        tokio::time::sleep_until(due.into()).await;
        self.next = Some(due + self.interval);
        Some(due)
    }
}

/// Sends one request, reads the whole body, and records it when it started (or, paced, was due)
/// inside the window. Returns whether it got the expected status.
async fn timed(stats: &mut Stats, window: Window, kind: &str, req: RequestBuilder, expect: StatusCode, due: Option<Instant>) -> bool {
    exchange(stats, window, kind, req, expect, due).await.is_ok()
}

/// A response that had the expected status: its headers and body.
struct Answered {
    headers: reqwest::header::HeaderMap,
    body: String,
}

/// What went wrong with one request: the status ("409", "transport") and a message.
struct Failed {
    status: String,
    message: String,
}

/// As [`timed`], and hands back the headers and body of an expected answer.
async fn exchange(
    stats: &mut Stats,
    window: Window,
    kind: &str,
    req: RequestBuilder,
    expect: StatusCode,
    due: Option<Instant>,
) -> Result<Answered, Failed> {
    let started = due.unwrap_or_else(Instant::now);
    let outcome = match req.send().await {
        Ok(resp) => {
            let status = resp.status();
            let headers = resp.headers().clone();
            match resp.text().await {
                Ok(body) if status == expect => Ok(Answered { headers, body }),
                Ok(body) => Err(Failed { status: status.as_u16().to_string(), message: format!("{status}: {}", excerpt(&body)) }),
                Err(e) => Err(Failed { status: "transport".to_owned(), message: format!("{status}: body: {e}") }),
            }
        }
        Err(e) => Err(Failed { status: "transport".to_owned(), message: format!("transport: {e}") }),
    };
    record(stats, window, kind, started, outcome.as_ref().err());
    outcome
}

/// As [`exchange`] over the lean client: `headers` are whole `Name: value\r\n` lines. Returns
/// an expected answer (its head and body).
async fn exchange_lean<'c>(
    stats: &mut Stats,
    window: Window,
    kind: &str,
    conn: &'c mut raw::Conn,
    request: (&str, &str, &str, &[u8]),
    expect: StatusCode,
    due: Option<Instant>,
) -> Result<raw::Answer<'c>, Failed> {
    let started = due.unwrap_or_else(Instant::now);
    let (method, path, headers, body) = request;
    let timeout = exam::request_timeout();
    let outcome = match conn.send(method, path, headers, body, timeout).await {
        Ok(a) if a.status == expect.as_u16() => Ok(a),
        Ok(a) => {
            Err(Failed { status: a.status.to_string(), message: format!("{}: {}", a.status, excerpt(&String::from_utf8_lossy(a.body))) })
        }
        Err(e) => Err(Failed { status: "transport".to_owned(), message: format!("transport: {e:#}") }),
    };
    record(stats, window, kind, started, outcome.as_ref().err());
    outcome
}

/// Records one request that started (or, paced, was due) at `started`, if inside the window.
fn record(stats: &mut Stats, window: Window, kind: &str, started: Instant, failed: Option<&Failed>) {
    let took = started.elapsed();
    if started >= window.start && started < window.end {
        let s = stats.kind(kind);
        s.hist.record(u64::try_from(took.as_micros()).unwrap_or(u64::MAX));
        if let Some(e) = failed {
            s.error(&e.status, e.message.clone());
        }
    }
}

/// CPU seconds (user + system) a process has used so far, from /proc (Linux; 100 ticks a second).
fn cpu_seconds(pid: Option<u32>) -> Option<f64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    let stat = std::fs::read_to_string(path).ok()?;
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields after the command name start at field 3 (state); utime and stime are fields 14, 15.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

struct CpuUse {
    own: Option<f64>,
    server: Option<f64>,
}

/// Samples CPU use at the start and end of the window.
fn cpu_probe(window: Window, server: Option<u32>) -> tokio::task::JoinHandle<CpuUse> {
    tokio::spawn(async move {
        tokio::time::sleep_until(window.start.into()).await;
        let (own0, srv0) = (cpu_seconds(None), server.and_then(|p| cpu_seconds(Some(p))));
        tokio::time::sleep_until(window.end.into()).await;
        let (own1, srv1) = (cpu_seconds(None), server.and_then(|p| cpu_seconds(Some(p))));
        CpuUse { own: own0.zip(own1).map(|(a, b)| b - a), server: srv0.zip(srv1).map(|(a, b)| b - a) }
    })
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// A figure of a mode beyond the per-kind table: a JSON key, its value and the human line.
struct Extra {
    key: &'static str,
    value: serde_json::Value,
    line: String,
}

fn report(mode: &str, common: &Common, window: Duration, stats: &Stats, order: &[String], cpu: &CpuUse, extras: &[Extra]) {
    let secs = window.as_secs_f64();
    let mut lines = Vec::new();
    let pacing = match common.rate {
        Some(r) => format!("paced at {r} requests/s in all, latency from when each was due"),
        None => "back to back".to_owned(),
    };
    lines.push(format!(
        "{mode}: {} clients ({pacing}), {:.1} s measured after {:.1} s warm-up, against {}",
        common.clients,
        secs,
        common.warmup.as_secs_f64(),
        common.base
    ));
    lines.push(format!(
        "{:<34} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7}",
        "kind", "requests", "req/s", "p50 ms", "p90 ms", "p99 ms", "p99.9", "max ms", "errors"
    ));
    let mut json_kinds = serde_json::Map::new();
    for k in order {
        let Some(s) = stats.kinds.get(k) else { continue };
        let h = &s.hist;
        let rps = h.count() as f64 / secs;
        lines.push(format!(
            "{:<34} {:>9} {:>9.1} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>7}",
            k,
            h.count(),
            rps,
            ms(h.quantile(0.50)),
            ms(h.quantile(0.90)),
            ms(h.quantile(0.99)),
            ms(h.quantile(0.999)),
            ms(h.max()),
            s.errors
        ));
        json_kinds.insert(
            k.clone(),
            serde_json::json!({
                "count": h.count(), "rps": rps, "mean_ms": h.mean() / 1000.0,
                "p50_ms": ms(h.quantile(0.50)), "p90_ms": ms(h.quantile(0.90)), "p99_ms": ms(h.quantile(0.99)),
                "p999_ms": ms(h.quantile(0.999)), "max_ms": ms(h.max()), "errors": s.errors, "error_samples": s.samples,
                "errors_by_status": s.by_status,
            }),
        );
    }
    let errors: u64 = order.iter().filter_map(|k| stats.kinds.get(k)).map(|s| s.errors).sum();
    if let Some(c) = cpu.own {
        lines.push(format!("load generator CPU: {:.2} cores", c / secs));
    }
    if let Some(c) = cpu.server {
        lines.push(format!("server CPU: {:.2} cores", c / secs));
    }
    lines.extend(extras.iter().filter(|e| !e.line.is_empty()).map(|e| e.line.clone()));
    for k in order {
        if let Some(s) = stats.kinds.get(k).filter(|s| !s.samples.is_empty()) {
            let by: Vec<String> = s.by_status.iter().map(|(st, n)| format!("{st} ×{n}")).collect();
            lines.push(format!("errors of {k} by status: {}", by.join(", ")));
            lines.push(format!("first errors of {k}:"));
            lines.extend(s.samples.iter().map(|e| format!("  {e}")));
        }
    }
    let text = lines.join("\n");
    if common.json {
        eprintln!("{text}");
        let mut out = serde_json::json!({
            "mode": mode, "base": common.base, "clients": common.clients, "rate": common.rate, "window_s": secs,
            "warmup_s": common.warmup.as_secs_f64(), "errors": errors, "kinds": json_kinds,
            "loadgen_cores": cpu.own.map(|c| c / secs), "server_cores": cpu.server.map(|c| c / secs),
        });
        if let Some(o) = out.as_object_mut() {
            for e in extras {
                o.insert(e.key.to_owned(), e.value.clone());
            }
        }
        println!("{out}");
    } else {
        println!("{text}");
    }
}

/// Runs `body` in each of `n` client tasks after sign-in, and merges their statistics.
async fn run_clients<F, Fut>(common: &Common, sessions: Vec<(Client, Session, usize)>, body: F) -> Result<(Stats, Window, CpuUse)>
where
    F: Fn(Client, Session, usize, Window, Pacer) -> Fut,
    Fut: std::future::Future<Output = Stats> + Send + 'static,
{
    let first = Instant::now();
    let start = first + common.warmup;
    let window = Window { start, end: start + common.duration };
    let probe = cpu_probe(window, common.server_pid);
    let mut tasks = tokio::task::JoinSet::new();
    for (client, session, i) in sessions {
        tasks.spawn(body(client, session, i, window, Pacer::new(common, i, first)));
    }
    let mut stats = Stats::default();
    while let Some(s) = tasks.join_next().await {
        stats.merge(s?);
    }
    Ok((stats, window, probe.await?))
}

/// Signs in `n` clients with bounded concurrency (Argon2 is deliberately slow).
async fn sign_in_all(base: &str, users: Vec<String>, password: &str, page: &'static str) -> Result<Vec<(Client, Session, usize)>> {
    let limit = Arc::new(tokio::sync::Semaphore::new(8));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, user) in users.into_iter().enumerate() {
        let (base, password, limit) = (base.to_owned(), password.to_owned(), limit.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await?;
            let client = new_client()?;
            let s = login(&client, &base, &user, &password, page).await?;
            anyhow::Ok((client, s, i))
        });
    }
    let mut out = Vec::new();
    while let Some(r) = tasks.join_next().await {
        out.push(r??);
    }
    out.sort_by_key(|(_, _, i)| *i);
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// submit

/// One applicant account and what its application form says.
#[derive(Clone)]
struct Applicant {
    username: String,
    unit_credit_code: String,
    work_type: String,
    work_start_date: String,
    education: String,
    held_level: String,
    target_level: String,
}

fn shift_years(date: &str, years: i32, cap: &str) -> String {
    let Some((y, rest)) = date.split_once('-') else { return cap.to_owned() };
    let Ok(y) = y.parse::<i32>() else { return cap.to_owned() };
    let rest = if rest == "02-29" { "02-28" } else { rest };
    let d = format!("{:04}-{rest}", y + years);
    if d.as_str() > cap { cap.to_owned() } else { d }
}

impl Applicant {
    /// A complete, valid application form for this person, as the page would send it.
    fn form(&self, csrf: &str) -> Vec<(&'static str, String)> {
        let start = if self.work_start_date.is_empty() { "2005-07-01".to_owned() } else { self.work_start_date.clone() };
        let mut f = vec![
            ("csrf_token", csrf.to_owned()),
            ("unit_credit_code", self.unit_credit_code.clone()),
            ("target_level", self.target_level.clone()),
            ("staff_type", "在岗正式工作人员".to_owned()),
            ("in_post", "是".to_owned()),
            ("work_start_date", start.clone()),
            ("regularised_on", shift_years(&start, 1, "2020-01-01")),
            ("education", if self.education.is_empty() { "高中".to_owned() } else { self.education.clone() }),
            ("current_work_type", self.work_type.clone()),
            ("annual_appraisals", "2015合格,2016合格,2017优秀,2018合格,2019合格".to_owned()),
        ];
        if !self.held_level.is_empty() {
            f.extend([
                ("held_level", self.held_level.clone()),
                ("certificate_work_type", self.work_type.clone()),
                ("certificate_issued_on", shift_years(&start, 6, "2016-06-30")),
                ("certificate_source", "考核取得".to_owned()),
                ("years_at_level_continuous", "是".to_owned()),
            ]);
        }
        f
    }
}

fn read_applicants(a: &SubmitArgs) -> Result<Vec<Applicant>> {
    let default = |username: String| Applicant {
        username,
        unit_credit_code: a.unit_credit_code.clone().unwrap_or_default(),
        work_type: a.work_type.clone(),
        work_start_date: String::new(),
        education: String::new(),
        held_level: String::new(),
        target_level: "5".to_owned(),
    };
    let list: Vec<Applicant> = match (&a.users_from, &a.user_prefix) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            text.lines()
                .map(str::trim_end)
                .filter(|l| !l.is_empty() && !l.starts_with("username\t") && !l.starts_with('#'))
                .map(|l| {
                    let c: Vec<&str> = l.split('\t').collect();
                    let col = |i: usize| c.get(i).map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
                    let mut x = default(col(0).unwrap_or_default());
                    x.unit_credit_code = col(1).unwrap_or(x.unit_credit_code);
                    x.work_type = col(2).unwrap_or(x.work_type);
                    x.work_start_date = col(3).unwrap_or_default();
                    x.education = col(4).unwrap_or_default();
                    x.held_level = col(5).unwrap_or_default();
                    x.target_level = col(6).unwrap_or(x.target_level);
                    x
                })
                .collect()
        }
        (None, Some(prefix)) => (1..=a.common.clients).map(|i| default(format!("{prefix}{i:04}"))).collect(),
        (None, None) => bail!("name the accounts: --users-from FILE or --user-prefix PREFIX"),
    };
    if list.len() < a.common.clients {
        bail!("{} clients need {} applicant accounts (one each); only {} given", a.common.clients, a.common.clients, list.len());
    }
    if let Some(x) = list.iter().find(|x| x.unit_credit_code.is_empty()) {
        bail!("no unit credit code for {}: give --unit-credit-code or use the accounts file", x.username);
    }
    Ok(list.into_iter().take(a.common.clients).collect())
}

const SUBMIT_KINDS: [&str; 4] =
    ["save (POST /application)", "submit (POST /application/submit)", "withdraw (POST /application/withdraw)", "all requests"];

async fn submit(a: SubmitArgs) -> Result<()> {
    let people = read_applicants(&a)?;
    let common = a.common.clone();
    let base = common.base.trim_end_matches('/').to_owned();
    let signed = Instant::now();
    let sessions = sign_in_all(&base, people.iter().map(|p| p.username.clone()).collect(), &common.password, "/application").await?;
    eprintln!("signed in {} applicants in {:.1} s", sessions.len(), signed.elapsed().as_secs_f64());
    // A run cut short may leave a live application behind: withdraw it before the clock starts.
    for (client, s, _) in &sessions {
        let _ = client.post(format!("{base}/application/withdraw")).header(COOKIE, &s.cookie).form(&[("csrf_token", &s.csrf)]).send().await;
    }
    let people = Arc::new(people);
    let save_only = a.save_only;
    let (stats, window, cpu) = run_clients(&common, sessions, |client, s, i, window, mut pacer| {
        let people = people.clone();
        let base = base.clone();
        async move {
            let mut stats = Stats::default();
            let Some(person) = people.get(i) else { return stats };
            let form = person.form(&s.csrf);
            let token = [("csrf_token", s.csrf.as_str())];
            let pledge = [("csrf_token", s.csrf.as_str()), ("pledge", "yes")];
            let [k_save, k_submit, k_withdraw, _] = SUBMIT_KINDS;
            while Instant::now() < window.end {
                let due = pacer.due().await;
                let req = client.post(format!("{base}/application")).header(COOKIE, &s.cookie).form(&form);
                timed(&mut stats, window, k_save, req, StatusCode::SEE_OTHER, due).await;
                if save_only {
                    continue;
                }
                let due = pacer.due().await;
                let req = client.post(format!("{base}/application/submit")).header(COOKIE, &s.cookie).form(&pledge);
                timed(&mut stats, window, k_submit, req, StatusCode::SEE_OTHER, due).await;
                let due = pacer.due().await;
                let req = client.post(format!("{base}/application/withdraw")).header(COOKIE, &s.cookie).form(&token);
                timed(&mut stats, window, k_withdraw, req, StatusCode::SEE_OTHER, due).await;
            }
            stats
        }
    })
    .await?;
    let mut stats = stats;
    let mut all = KindStats::default();
    for k in &SUBMIT_KINDS[..3] {
        if let Some(s) = stats.kinds.get(*k) {
            all.hist.merge(&s.hist);
            all.errors += s.errors;
        }
    }
    stats.kinds.insert(SUBMIT_KINDS[3].to_owned(), all);
    let order: Vec<String> = SUBMIT_KINDS.iter().map(|k| (*k).to_owned()).collect();
    report(if save_only { "submit --save-only" } else { "submit" }, &common, window.end - window.start, &stats, &order, &cpu, &[]);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// get

async fn get(a: GetArgs) -> Result<()> {
    let common = a.common.clone();
    let base = common.base.trim_end_matches('/').to_owned();
    let session = match &a.user {
        Some(user) => login(&new_client()?, &base, user, &common.password, "/").await?,
        None => Session { cookie: String::new(), csrf: String::new() },
    };
    let mut sessions = Vec::new();
    for i in 0..common.clients {
        sessions.push((new_client()?, session.clone(), i));
    }
    let paths = Arc::new(a.paths.clone());
    let target = raw::Target::parse(&base)?;
    let lean = common.client == ClientKind::Lean;
    let (stats, window, cpu) = run_clients(&common, sessions, |client, s, i, window, mut pacer| {
        let paths = paths.clone();
        let base = base.clone();
        let mut lean = lean.then(|| raw::Conn::new(target.clone()));
        let cookie_line = if s.cookie.is_empty() { String::new() } else { format!("Cookie: {}\r\n", s.cookie) };
        async move {
            let mut stats = Stats::default();
            // Clients start at different paths so every path is in flight at once.
            let mut n = i;
            while Instant::now() < window.end {
                let Some(path) = paths.get(n % paths.len()) else { break };
                n += 1;
                let due = pacer.due().await;
                match &mut lean {
                    Some(conn) => {
                        let _ = exchange_lean(&mut stats, window, path, conn, ("GET", path, &cookie_line, b""), StatusCode::OK, due).await;
                    }
                    None => {
                        let mut req = client.get(format!("{base}{path}"));
                        if !s.cookie.is_empty() {
                            req = req.header(COOKIE, &s.cookie);
                        }
                        timed(&mut stats, window, path, req, StatusCode::OK, due).await;
                    }
                }
            }
            stats
        }
    })
    .await?;
    let mut stats = stats;
    if a.paths.len() > 1 {
        let mut all = KindStats::default();
        for s in stats.kinds.values() {
            all.hist.merge(&s.hist);
            all.errors += s.errors;
        }
        stats.kinds.insert("all paths".to_owned(), all);
    }
    let mut order = a.paths.clone();
    order.dedup();
    if a.paths.len() > 1 {
        order.push("all paths".to_owned());
    }
    report("get", &common, window.end - window.start, &stats, &order, &cpu, &[]);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// median

fn median_of(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The modes' own figures that `median` reports when the runs have them.
const MEDIAN_EXTRAS: &[(&str, &str)] = &[
    ("saves_acked_per_s", "saves acknowledged per second"),
    ("storm_all_s", "storm: seconds until the last candidate had the paper"),
    ("storm_within_2s", "storm: candidates with the paper within 2 s"),
    ("storm_failed", "storm: candidates without the paper"),
    ("storm_room_p99_ms", "storm: p99 from the room's start to the paper, ms"),
    ("server_rss_mb", "server RSS at the end, MB"),
    ("server_peak_rss_mb", "server peak RSS (VmHWM), MB"),
];

/// Prints, for every kind of request, the median over the runs of each figure.
fn median(files: &[PathBuf]) -> Result<()> {
    use std::io::Read;
    let mut text = String::new();
    if files.is_empty() {
        std::io::stdin().read_to_string(&mut text)?;
    }
    for f in files {
        text.push_str(&std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?);
        text.push('\n');
    }
    let runs: Vec<serde_json::Value> =
        text.lines().map(str::trim).filter(|l| l.starts_with('{')).map(serde_json::from_str).collect::<Result<_, _>>()?;
    let Some(first) = runs.first() else { bail!("no JSON lines in the input") };
    let mut kinds: Vec<String> = Vec::new();
    for r in &runs {
        for k in r["kinds"].as_object().into_iter().flat_map(|o| o.keys()) {
            if !kinds.contains(k) {
                kinds.push(k.clone());
            }
        }
    }
    println!(
        "medians of {} runs ({} {} clients{}, {:.0} s each):",
        runs.len(),
        first["mode"].as_str().unwrap_or(""),
        first["clients"],
        first["rate"].as_f64().map(|r| format!(" paced at {r} requests/s")).unwrap_or_default(),
        first["window_s"].as_f64().unwrap_or(0.0)
    );
    println!("{:<34} {:>9} {:>8} {:>8} {:>8} {:>8} {:>12}", "kind", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors (sum)");
    let fig = |k: &str, f: &str| median_of(runs.iter().filter_map(|r| r["kinds"][k][f].as_f64()).collect());
    for k in &kinds {
        let errors: u64 = runs.iter().filter_map(|r| r["kinds"][k.as_str()]["errors"].as_u64()).sum();
        println!(
            "{:<34} {:>9.1} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>12}",
            k,
            fig(k, "rps"),
            fig(k, "p50_ms"),
            fig(k, "p90_ms"),
            fig(k, "p99_ms"),
            fig(k, "max_ms"),
            errors
        );
    }
    let cores = |f: &str| median_of(runs.iter().filter_map(|r| r[f].as_f64()).collect());
    if runs.iter().any(|r| r["server_cores"].is_number()) {
        println!("server CPU {:.2} cores, load generator CPU {:.2} cores (medians)", cores("server_cores"), cores("loadgen_cores"));
    }
    for (key, label) in MEDIAN_EXTRAS {
        let values: Vec<f64> = runs.iter().filter_map(|r| r[*key].as_f64()).collect();
        if !values.is_empty() {
            let (lo, hi) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(*v), b.max(*v)));
            println!("{label}: {:.1} (median; runs from {lo:.1} to {hi:.1})", median_of(values));
        }
    }
    Ok(())
}
