//! `gongkao-load exam`: candidates of the computer-based exam (人机对话考试) at their seats, each
//! with its own connection, read from `exam-candidates.tsv` (`gongkao demo --seed-only
//! --exam-candidates`). The exam officer signs in first and starts the candidates' rooms.
//!
//! - `--storm`: the start storm. Every candidate has the login page open; at one instant (the
//!   barrier) all of them log in, confirm their identity and fetch the paper. Reported: the time
//!   from the barrier until each has the paper (the step latencies too), how many had it within
//!   2 s and when the last one had it. With `--storm-before-start` the candidates log in and
//!   confirm before the rooms start and wait for the start as the page does (a held request, or
//!   polling every `--poll`); the
//!   barrier is the moment the exam officer starts the rooms.
//! - `--pace SECONDS` / `--max`: autosaves. Each candidate, after logging in (not measured),
//!   saves a random valid answer to a random item, on average once every SECONDS (between 0.5
//!   and 1.5 times SECONDS; latency counted from when the save was due) or again as soon as the
//!   previous one was acknowledged. `--next` adds the GET of the next item after each save.
//!
//! The server's CPU (`--server-pid`) and its resident memory now and at its peak (VmRSS,
//! VmHWM from /proc) are reported with the latencies.
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use clap::Args;
use reqwest::header::{CONTENT_TYPE, COOKIE};
use reqwest::{Client, StatusCode};

use crate::hist::Histogram;
use crate::{
    Common, CpuUse, Extra, Failed, KindStats, Session, Stats, Window, cookie_of, cpu_seconds, csrf_of, excerpt, exchange, exchange_lean,
    login, ms, parse_duration, raw, report, run_clients,
};

#[derive(Args)]
pub struct ExamArgs {
    #[command(flatten)]
    pub common: Common,
    /// The candidates: exam-candidates.tsv from `gongkao demo --seed-only --exam-candidates`
    /// (ticket_no, id_number, access_code, sitting_id, room_id; tab-separated, with a header).
    #[arg(long)]
    candidates_from: PathBuf,
    /// Skip this many candidates of the file (a fresh slice of candidates for each storm).
    #[arg(long, default_value_t = 0)]
    offset: usize,
    /// The staff account that starts the rooms (the agency's exam officer or a proctor).
    #[arg(long, default_value = "zz.examofficer")]
    proctor: String,
    /// The start storm: all candidates log in, confirm and fetch the paper at one instant.
    #[arg(long)]
    storm: bool,
    /// Storm variant: log in and confirm before the rooms start, then start the rooms and
    /// measure until every candidate has the paper (the rooms must not have started yet).
    #[arg(long)]
    storm_before_start: bool,
    /// How often a waiting candidate polls GET /exam/api/state; 0 (the default, as the page
    /// does) holds one request open until the room starts instead.
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    poll: Duration,
    /// The longest a storm may take; candidates without the paper by then count as failed.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    storm_timeout: Duration,
    /// Saves: each candidate saves one answer every SECONDS on average, like a person.
    #[arg(long, conflicts_with_all = ["max", "storm", "storm_before_start"])]
    pace: Option<f64>,
    /// Saves: each candidate saves again as soon as its previous save is acknowledged.
    #[arg(long, conflicts_with_all = ["storm", "storm_before_start"])]
    max: bool,
    /// After each save, GET /exam/api/item of the next position (the like-for-like path).
    #[arg(long)]
    next: bool,
    /// Saves per request (1 as a person answers; the page sends up to 200 after an outage).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=200))]
    batch: u16,
    /// Stop after this many save requests in all (0: only the duration bounds the run).
    #[arg(long, default_value_t = 0)]
    max_requests: u64,
    /// Candidates logging in at once while preparing a saves run (not measured).
    #[arg(long, default_value_t = 64)]
    login_concurrency: usize,
    /// A request not answered within this long counts as a transport error.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    request_timeout: Duration,
}

/// One line of exam-candidates.tsv.
#[derive(Clone, Debug)]
struct Candidate {
    ticket_no: String,
    id_number: String,
    access_code: String,
    sitting_id: i64,
    room_id: i64,
}

fn read_candidates(path: &PathBuf, offset: usize, n: usize) -> Result<Vec<Candidate>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut all = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with("ticket_no\t") || line.starts_with('#') {
            continue;
        }
        let c: Vec<&str> = line.split('\t').map(str::trim).collect();
        let [ticket_no, id_number, access_code, sitting, room] = c.as_slice() else {
            bail!("{} line {}: expected 5 tab-separated columns", path.display(), i + 1);
        };
        let num = |s: &str, what: &str| s.parse::<i64>().with_context(|| format!("{} line {}: {what} {s:?}", path.display(), i + 1));
        all.push(Candidate {
            ticket_no: (*ticket_no).to_owned(),
            id_number: (*id_number).to_owned(),
            access_code: (*access_code).to_owned(),
            sitting_id: num(sitting, "sitting_id")?,
            room_id: num(room, "room_id")?,
        });
    }
    if all.len() < offset + n {
        bail!("{n} clients from candidate {} need {} candidates; {} lists only {}", offset + 1, offset + n, path.display(), all.len());
    }
    Ok(all.into_iter().skip(offset).take(n).collect())
}

/// How long a request may take (`--request-timeout`), set once at the start.
static REQUEST_TIMEOUT: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();

/// How long a request may take before it counts as a transport error.
pub fn request_timeout() -> Duration {
    REQUEST_TIMEOUT.get().copied().unwrap_or(Duration::from_secs(30))
}

/// One candidate's own connection: requests time out rather than hang the run.
fn seat_client() -> Result<Client> {
    Ok(Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(1)
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(10))
        .timeout(request_timeout())
        .build()?)
}

/// A window that records nothing (preparation steps).
fn unmeasured() -> Window {
    let now = Instant::now();
    Window { start: now, end: now }
}

/// A window that records everything from `start` on.
fn from(start: Instant, within: Duration) -> Window {
    Window { start: start - Duration::from_millis(1), end: start + within + Duration::from_secs(60) }
}

// ---------------------------------------------------------------------------------------------
// Rooms

fn console_path(sitting_id: i64, room_id: i64) -> String {
    format!("/proctor/rooms/{room_id}?sitting={sitting_id}")
}

/// The rooms (sitting, room) of the candidates, in order.
fn rooms_of(candidates: &[Candidate]) -> Vec<(i64, i64)> {
    candidates.iter().map(|c| (c.sitting_id, c.room_id)).collect::<BTreeSet<_>>().into_iter().collect()
}

/// The exam officer signed in, ready to start rooms.
struct Proctor {
    client: Client,
    session: Session,
}

async fn proctor_sign_in(common: &Common, user: &str, rooms: &[(i64, i64)]) -> Result<Proctor> {
    let base = common.base.trim_end_matches('/');
    let Some((sitting, room)) = rooms.first() else { bail!("no candidates, so no rooms") };
    let client = seat_client()?;
    let session = login(&client, base, user, &common.password, &console_path(*sitting, *room)).await?;
    Ok(Proctor { client, session })
}

/// Starts every room (the console first, as the proctor opens it); a room already started is
/// left as it is. Returns how many this call started.
async fn start_rooms(base: &str, p: &Proctor, rooms: &[(i64, i64)], stats: &mut Stats, window: Window) -> Result<usize> {
    let mut started = 0;
    for (sitting, room) in rooms {
        let page = p.client.get(format!("{base}{}", console_path(*sitting, *room))).header(COOKIE, &p.session.cookie).send().await?;
        let status = page.status();
        let html = page.text().await?;
        if status != StatusCode::OK {
            bail!("console of room {room} (sitting {sitting}): {status} {}", excerpt(&html));
        }
        let csrf = csrf_of(&html).unwrap_or_else(|| p.session.csrf.clone());
        let form = [("sitting", sitting.to_string()), ("csrf_token", csrf)];
        let req = p.client.post(format!("{base}/proctor/rooms/{room}/start")).header(COOKIE, &p.session.cookie).form(&form);
        match exchange(stats, window, K_ROOM_START, req, StatusCode::SEE_OTHER, None).await {
            Ok(_) => started += 1,
            Err(e) if e.message.contains("已开考") => {}
            Err(e) => bail!("starting room {room} (sitting {sitting}): {}", e.message),
        }
    }
    Ok(started)
}

/// The proctors' consoles open (each room's CSRF token read), ready to press start.
async fn open_consoles(base: &str, p: &Proctor, rooms: &[(i64, i64)]) -> Result<Vec<(i64, i64, String)>> {
    let mut out = Vec::with_capacity(rooms.len());
    for (sitting, room) in rooms {
        let page = p.client.get(format!("{base}{}", console_path(*sitting, *room))).header(COOKIE, &p.session.cookie).send().await?;
        let html = page.text().await?;
        out.push((*sitting, *room, csrf_of(&html).unwrap_or_else(|| p.session.csrf.clone())));
    }
    Ok(out)
}

/// Every room's proctor presses start at the same moment; returns when each room started.
async fn press_start(base: &str, p: &Proctor, consoles: Vec<(i64, i64, String)>) -> Result<(Stats, HashMap<(i64, i64), Instant>)> {
    let mut tasks = tokio::task::JoinSet::new();
    for (sitting, room, csrf) in consoles {
        let (client, cookie, base) = (p.client.clone(), p.session.cookie.clone(), base.to_owned());
        tasks.spawn(async move {
            let mut stats = Stats::default();
            let form = [("sitting", sitting.to_string()), ("csrf_token", csrf)];
            let req = client.post(format!("{base}/proctor/rooms/{room}/start")).header(COOKIE, &cookie).form(&form);
            let w = from(Instant::now(), Duration::from_secs(600));
            let r = exchange(&mut stats, w, K_ROOM_START, req, StatusCode::SEE_OTHER, None).await;
            (sitting, room, r.map(|_| Instant::now()).map_err(|e| e.message), stats)
        });
    }
    let mut stats = Stats::default();
    let mut started = HashMap::new();
    while let Some(r) = tasks.join_next().await {
        let (sitting, room, at, s) = r?;
        stats.merge(s);
        match at {
            Ok(at) => {
                started.insert((sitting, room), at);
            }
            Err(e) => bail!("starting room {room} (sitting {sitting}): {e}"),
        }
    }
    Ok((stats, started))
}

// ---------------------------------------------------------------------------------------------
// A candidate at the seat

/// The login page as the candidate's browser holds it: the double-submit cookie and token.
struct LoginPage {
    pre_cookie: Option<String>,
    token: String,
}

async fn open_login_page(client: &Client, base: &str) -> Result<LoginPage> {
    let resp = client.get(format!("{base}/exam/login")).send().await.context("GET /exam/login")?;
    let pre_cookie = cookie_of(&resp, "gk_csrf");
    let html = resp.text().await?;
    let token = csrf_of(&html).context("no csrf_token on /exam/login")?;
    Ok(LoginPage { pre_cookie, token })
}

const K_ROOM_START: &str = "room start (POST …/start)";
const K_SINCE_ROOM: &str = "storm: room start to paper";
const K_LOGIN: &str = "login (POST /exam/login)";
const K_IDENTITY: &str = "identity (GET /exam/identity)";
const K_CONFIRM: &str = "confirm (POST /exam/identity)";
const K_PAPER: &str = "paper (GET /exam/api/paper)";
const K_STATE: &str = "state (GET /exam/api/state)";
const K_SAVE: &str = "save (POST /exam/api/save)";
const K_NEXT: &str = "next item (GET /exam/api/item)";
const K_SAVE_NEXT: &str = "save + next item";
const K_STORM: &str = "storm: barrier to paper";

fn failed(status: &str, message: String) -> Failed {
    Failed { status: status.to_owned(), message }
}

/// Logs in at the seat and confirms the identity: the seat session (cookie and the exam's CSRF
/// token).
async fn log_in(
    stats: &mut Stats,
    window: Window,
    client: &Client,
    base: &str,
    c: &Candidate,
    page: &LoginPage,
) -> Result<Session, Failed> {
    let form = [
        ("ticket_no", c.ticket_no.as_str()),
        ("id_number", c.id_number.as_str()),
        ("access_code", c.access_code.as_str()),
        ("csrf_token", page.token.as_str()),
    ];
    let mut req = client.post(format!("{base}/exam/login")).form(&form);
    if let Some(pre) = &page.pre_cookie {
        req = req.header(COOKIE, pre);
    }
    let answered = exchange(stats, window, K_LOGIN, req, StatusCode::SEE_OTHER, None).await?;
    let cookie = answered
        .headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|kv| kv.split_once('=').is_some_and(|(k, v)| k.trim() == "gk_exam" && !v.is_empty()))
        .map(str::to_owned)
        .ok_or_else(|| failed("no cookie", format!("{}: no gk_exam cookie after login", c.ticket_no)))?;
    let req = client.get(format!("{base}/exam/identity")).header(COOKIE, &cookie);
    let answered = exchange(stats, window, K_IDENTITY, req, StatusCode::OK, None).await?;
    let csrf = csrf_of(&answered.body).ok_or_else(|| failed("no token", format!("{}: no csrf_token on /exam/identity", c.ticket_no)))?;
    let req = client.post(format!("{base}/exam/identity")).header(COOKIE, &cookie).form(&[("csrf_token", csrf.as_str())]);
    exchange(stats, window, K_CONFIRM, req, StatusCode::SEE_OTHER, None).await?;
    Ok(Session { cookie, csrf })
}

/// The login page over the lean client (as [`open_login_page`]).
async fn open_login_page_lean(conn: &mut raw::Conn) -> Result<LoginPage> {
    let a = conn.send("GET", "/exam/login", "", b"", request_timeout()).await.context("GET /exam/login")?;
    if a.status != 200 {
        bail!("GET /exam/login: {}", a.status);
    }
    let pre_cookie = a.set_cookie("gk_csrf").map(str::to_owned);
    let token = csrf_of(&String::from_utf8_lossy(a.body)).context("no csrf_token on /exam/login")?;
    Ok(LoginPage { pre_cookie, token })
}

/// The storm's steps over the lean client: log in, confirm the identity and fetch the paper
/// (as [`log_in`] and [`fetch_paper`]).
async fn log_in_and_fetch_lean(
    stats: &mut Stats,
    window: Window,
    conn: &mut raw::Conn,
    c: &Candidate,
    page: &LoginPage,
) -> Result<PaperShape, Failed> {
    let form = raw::form(&[
        ("ticket_no", c.ticket_no.as_str()),
        ("id_number", c.id_number.as_str()),
        ("access_code", c.access_code.as_str()),
        ("csrf_token", page.token.as_str()),
    ]);
    let mut headers = "Content-Type: application/x-www-form-urlencoded\r\n".to_owned();
    if let Some(pre) = &page.pre_cookie {
        headers.push_str(&format!("Cookie: {pre}\r\n"));
    }
    let answered =
        exchange_lean(stats, window, K_LOGIN, conn, ("POST", "/exam/login", &headers, form.as_bytes()), StatusCode::SEE_OTHER, None)
            .await?;
    let cookie = answered
        .set_cookie("gk_exam")
        .filter(|kv| kv.len() > "gk_exam=".len())
        .map(str::to_owned)
        .ok_or_else(|| failed("no cookie", format!("{}: no gk_exam cookie after login", c.ticket_no)))?;
    let with_cookie = format!("Cookie: {cookie}\r\n");
    let answered =
        exchange_lean(stats, window, K_IDENTITY, conn, ("GET", "/exam/identity", &with_cookie, b""), StatusCode::OK, None).await?;
    let csrf = csrf_of(&String::from_utf8_lossy(answered.body))
        .ok_or_else(|| failed("no token", format!("{}: no csrf_token on /exam/identity", c.ticket_no)))?;
    let form = raw::form(&[("csrf_token", csrf.as_str())]);
    let headers = format!("{with_cookie}Content-Type: application/x-www-form-urlencoded\r\n");
    exchange_lean(stats, window, K_CONFIRM, conn, ("POST", "/exam/identity", &headers, form.as_bytes()), StatusCode::SEE_OTHER, None)
        .await?;
    let answered = exchange_lean(stats, window, K_PAPER, conn, ("GET", "/exam/api/paper", &with_cookie, b""), StatusCode::OK, None).await?;
    paper_shape(&String::from_utf8_lossy(answered.body))
}

/// What a candidate's paper is, as far as saving answers goes.
#[derive(Clone, Default)]
struct PaperShape {
    /// Per display position: the item's kind and its number of options.
    items: Vec<(String, usize)>,
    last_seq: i64,
}

fn paper_shape(body: &str) -> Result<PaperShape, Failed> {
    let v: serde_json::Value = serde_json::from_str(body).map_err(|e| failed("bad json", format!("paper: {e}")))?;
    let items: Vec<(String, usize)> = v["items"]
        .as_array()
        .map(|a| a.iter().map(|i| (i["kind"].as_str().unwrap_or("").to_owned(), i["options"].as_array().map_or(0, Vec::len))).collect())
        .unwrap_or_default();
    if items.is_empty() {
        return Err(failed("no items", "paper: no items".to_owned()));
    }
    Ok(PaperShape { items, last_seq: v["last_seq"].as_i64().unwrap_or(0) })
}

async fn fetch_paper(stats: &mut Stats, window: Window, client: &Client, base: &str, s: &Session) -> Result<PaperShape, Failed> {
    let req = client.get(format!("{base}/exam/api/paper")).header(COOKIE, &s.cookie);
    let answered = exchange(stats, window, K_PAPER, req, StatusCode::OK, None).await?;
    paper_shape(&answered.body)
}

/// SplitMix64: answers and positions need no better randomness.
struct Rng(u64);

impl Rng {
    fn seeded(i: usize) -> Rng {
        let t = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        Rng(t ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n.max(1) as u64).unwrap_or(0)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const LETTERS: &[u8] = b"ABCDEFGH";

/// A random answer the server accepts for an item of this kind and number of options.
fn random_answer(rng: &mut Rng, kind: &str, options: usize) -> String {
    let options = options.clamp(1, LETTERS.len());
    let letter = |i: usize| char::from(LETTERS[i]);
    match kind {
        "true_false" => letter(rng.below(2)).to_string(),
        "single_choice" => letter(rng.below(options)).to_string(),
        "multiple_choice" => {
            let mask = 1 + rng.below((1 << options) - 1);
            (0..options).filter(|i| mask & (1 << i) != 0).map(letter).collect()
        }
        _ => format!("作答{}", rng.below(1000)),
    }
}

// ---------------------------------------------------------------------------------------------
// Running

pub async fn run(a: ExamArgs) -> Result<()> {
    let _ = REQUEST_TIMEOUT.set(a.request_timeout);
    if a.storm || a.storm_before_start {
        storm(a).await
    } else if a.max || a.pace.is_some() {
        saves(a).await
    } else {
        bail!("say what to run: --storm (or --storm-before-start), --max or --pace SECONDS")
    }
}

/// Resident memory of a process now and at its peak, in MB (VmRSS, VmHWM).
fn rss_mb(pid: Option<u32>) -> Option<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    let field = |name: &str| {
        status.lines().find_map(|l| l.strip_prefix(name)).and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
    };
    Some((field("VmRSS:")? / 1024.0, field("VmHWM:")? / 1024.0))
}

fn memory_extras(pid: Option<u32>) -> Vec<Extra> {
    match rss_mb(pid) {
        Some((now, peak)) => vec![
            Extra { key: "server_rss_mb", value: now.into(), line: format!("server RSS now {now:.1} MB, peak (VmHWM) {peak:.1} MB") },
            Extra { key: "server_peak_rss_mb", value: peak.into(), line: String::new() },
        ],
        None => Vec::new(),
    }
}

/// Logs every candidate in, confirms and opens the paper, a few at a time (not measured).
async fn prepare(base: &str, candidates: &[Candidate], concurrency: usize) -> Result<Vec<(Client, Session, PaperShape)>> {
    let limit = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, c) in candidates.iter().cloned().enumerate() {
        let (base, limit) = (base.to_owned(), limit.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await?;
            let client = seat_client()?;
            let page = open_login_page(&client, &base).await?;
            let mut stats = Stats::default();
            let w = unmeasured();
            let s =
                log_in(&mut stats, w, &client, &base, &c, &page).await.map_err(|e| anyhow::anyhow!("{}: {}", c.ticket_no, e.message))?;
            let shape =
                fetch_paper(&mut stats, w, &client, &base, &s).await.map_err(|e| anyhow::anyhow!("{}: {}", c.ticket_no, e.message))?;
            anyhow::Ok((i, client, s, shape))
        });
    }
    let mut out = Vec::with_capacity(candidates.len());
    let mut errors = Vec::new();
    while let Some(r) = tasks.join_next().await {
        match r? {
            Ok(x) => out.push(x),
            Err(e) => errors.push(e.to_string()),
        }
    }
    if let Some(first) = errors.first() {
        bail!("{} of {} candidates could not log in and open the paper; first: {first}", errors.len(), candidates.len());
    }
    out.sort_by_key(|x| x.0);
    Ok(out.into_iter().map(|(_, c, s, p)| (c, s, p)).collect())
}

async fn saves(a: ExamArgs) -> Result<()> {
    let common = a.common.clone();
    let base = common.base.trim_end_matches('/').to_owned();
    let candidates = read_candidates(&a.candidates_from, a.offset, common.clients)?;
    let rooms = rooms_of(&candidates);
    let proctor = proctor_sign_in(&common, &a.proctor, &rooms).await?;
    let started = start_rooms(&base, &proctor, &rooms, &mut Stats::default(), unmeasured()).await?;
    let t = Instant::now();
    let seats = prepare(&base, &candidates, a.login_concurrency).await?;
    eprintln!(
        "{} rooms ({started} started now); {} candidates logged in with their papers in {:.1} s",
        rooms.len(),
        seats.len(),
        t.elapsed().as_secs_f64()
    );
    let shapes: Arc<Vec<PaperShape>> = Arc::new(seats.iter().map(|(_, _, p)| p.clone()).collect());
    let sessions: Vec<(Client, Session, usize)> = seats.into_iter().enumerate().map(|(i, (c, s, _))| (c, s, i)).collect();
    let sent = Arc::new(AtomicU64::new(0));
    let (pace, next, batch, cap) = (a.pace.filter(|p| *p > 0.0), a.next, usize::from(a.batch), a.max_requests);
    let target = crate::raw::Target::parse(&base)?;
    let lean = common.client == crate::ClientKind::Lean;
    let (stats, window, cpu) = run_clients(&common, sessions, |client, s, i, window, _pacer| {
        let (base, shapes, sent) = (base.clone(), shapes.clone(), sent.clone());
        // The page's own connection for its autosaves (the sign-in's stays with reqwest).
        let mut lean = lean.then(|| crate::raw::Conn::new(target.clone()));
        let save_headers = format!("Cookie: {}\r\nX-CSRF-Token: {}\r\nContent-Type: application/json\r\n", s.cookie, s.csrf);
        let get_headers = format!("Cookie: {}\r\n", s.cookie);
        async move {
            let mut stats = Stats::default();
            let Some(shape) = shapes.get(i) else { return stats };
            let n = shape.items.len();
            let mut rng = Rng::seeded(i);
            let mut seq = shape.last_seq;
            let mut due_at = pace.map(|p| Instant::now() + Duration::from_secs_f64(p * rng.unit()));
            let url = format!("{base}/exam/api/save");
            while Instant::now() < window.end {
                if cap > 0 && sent.fetch_add(1, Ordering::Relaxed) >= cap {
                    break;
                }
                let due = match (due_at, pace) {
                    (Some(d), Some(p)) => {
                        if d >= window.end {
                            break;
                        }
                        tokio::time::sleep_until(d.into()).await;
                        due_at = Some(d + Duration::from_secs_f64(p * (0.5 + rng.unit())));
                        Some(d)
                    }
                    _ => None,
                };
                let started = due.unwrap_or_else(Instant::now);
                let mut saves = Vec::with_capacity(batch);
                let mut position = 0;
                for _ in 0..batch {
                    seq += 1;
                    position = rng.below(n);
                    let (kind, options) = shape.items.get(position).map_or(("", 0), |(k, o)| (k.as_str(), *o));
                    let answer = random_answer(&mut rng, kind, options);
                    saves.push(serde_json::json!({"seq": seq, "position": position, "answer": answer, "flagged": false}));
                }
                let body = serde_json::json!({ "saves": saves }).to_string();
                let saved = match &mut lean {
                    Some(conn) => {
                        let request = ("POST", "/exam/api/save", save_headers.as_str(), body.as_bytes());
                        crate::exchange_lean(&mut stats, window, K_SAVE, conn, request, StatusCode::OK, due).await.map(|_| ())
                    }
                    None => {
                        let req = client
                            .post(&url)
                            .header(COOKIE, &s.cookie)
                            .header("X-CSRF-Token", &s.csrf)
                            .header(CONTENT_TYPE, "application/json")
                            .body(body);
                        exchange(&mut stats, window, K_SAVE, req, StatusCode::OK, due).await.map(|_| ())
                    }
                };
                if let Err(e) = &saved
                    && e.status == "transport"
                {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
                if next {
                    let path = format!("/exam/api/item?position={}", (position + 1) % n);
                    let fetched = match &mut lean {
                        Some(conn) => {
                            let request = ("GET", path.as_str(), get_headers.as_str(), &b""[..]);
                            crate::exchange_lean(&mut stats, window, K_NEXT, conn, request, StatusCode::OK, None).await.map(|_| ())
                        }
                        None => {
                            let req = client.get(format!("{base}{path}")).header(COOKIE, &s.cookie);
                            exchange(&mut stats, window, K_NEXT, req, StatusCode::OK, None).await.map(|_| ())
                        }
                    };
                    if started >= window.start && started < window.end {
                        let both = stats.kind(K_SAVE_NEXT);
                        both.hist.record(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX));
                        if let Some(e) = saved.as_ref().err().or(fetched.as_ref().err()) {
                            both.error(&e.status, e.message.clone());
                        }
                    }
                }
            }
            stats
        }
    })
    .await?;
    let secs = (window.end - window.start).as_secs_f64();
    let acked = stats.kinds.get(K_SAVE).map_or(0, |k| k.hist.count().saturating_sub(k.errors)) * u64::from(a.batch);
    let mut extras = vec![Extra {
        key: "saves_acked_per_s",
        value: (acked as f64 / secs).into(),
        line: format!("saves acknowledged: {acked} in {secs:.1} s = {:.1}/s ({} per request)", acked as f64 / secs, a.batch),
    }];
    extras.extend(memory_extras(common.server_pid));
    let mut order = vec![K_SAVE.to_owned()];
    if a.next {
        order.extend([K_NEXT.to_owned(), K_SAVE_NEXT.to_owned()]);
    }
    let mode = match pace {
        Some(p) => format!("exam --pace {p}{}", if a.next { " --next" } else { "" }),
        None => format!("exam --max{}", if a.next { " --next" } else { "" }),
    };
    report(&mode, &common, window.end - window.start, &stats, &order, &cpu, &extras);
    Ok(())
}

/// What one candidate of a storm reports: its requests and when it had the paper.
struct StormOutcome {
    stats: Stats,
    paper_after: Option<Duration>,
    paper_at: Option<Instant>,
    room: (i64, i64),
    error: Option<Failed>,
}

async fn storm(a: ExamArgs) -> Result<()> {
    let common = a.common.clone();
    let base = common.base.trim_end_matches('/').to_owned();
    let candidates = read_candidates(&a.candidates_from, a.offset, common.clients)?;
    let rooms = rooms_of(&candidates);
    let proctor = proctor_sign_in(&common, &a.proctor, &rooms).await?;
    let before = a.storm_before_start;
    let consoles = if before { open_consoles(&base, &proctor, &rooms).await? } else { Vec::new() };
    if !before {
        let started = start_rooms(&base, &proctor, &rooms, &mut Stats::default(), unmeasured()).await?;
        eprintln!("{} rooms, {started} started now", rooms.len());
    }
    // Every candidate's browser has the login page open (and, before the start, is logged in).
    // The storm itself goes through the lean client (`--client`), as the saves do; waiting
    // for the start keeps reqwest.
    let t = Instant::now();
    let limit = Arc::new(tokio::sync::Semaphore::new(a.login_concurrency.max(1)));
    let lean = common.client == crate::ClientKind::Lean && !before;
    let target = raw::Target::parse(&base)?;
    let mut tasks = tokio::task::JoinSet::new();
    for (i, c) in candidates.iter().cloned().enumerate() {
        let (base, limit, target) = (base.clone(), limit.clone(), target.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await?;
            let client = seat_client()?;
            let mut conn = lean.then(|| raw::Conn::new(target));
            let page = match &mut conn {
                Some(conn) => open_login_page_lean(conn).await?,
                None => open_login_page(&client, &base).await?,
            };
            let session = if before {
                let s = log_in(&mut Stats::default(), unmeasured(), &client, &base, &c, &page)
                    .await
                    .map_err(|e| anyhow::anyhow!("{}: {}", c.ticket_no, e.message))?;
                Some(s)
            } else {
                None
            };
            anyhow::Ok((i, client, conn, page, session))
        });
    }
    let mut ready = Vec::with_capacity(candidates.len());
    while let Some(r) = tasks.join_next().await {
        ready.push(r??);
    }
    ready.sort_by_key(|x| x.0);
    eprintln!(
        "{} candidates ready in {:.1} s{}",
        ready.len(),
        t.elapsed().as_secs_f64(),
        if before { " (logged in, waiting)" } else { "" }
    );

    let barrier = Instant::now() + Duration::from_millis(500);
    let window = from(barrier, a.storm_timeout);
    let (timeout, poll) = (a.storm_timeout, a.poll);
    let mut tasks = tokio::task::JoinSet::new();
    for (i, client, mut conn, page, session) in ready {
        let base = base.clone();
        let Some(c) = candidates.get(i).cloned() else { continue };
        tasks.spawn(async move {
            let mut stats = Stats::default();
            let mut rng = Rng::seeded(i);
            tokio::time::sleep_until(barrier.into()).await;
            let flow = async {
                match session {
                    None => match &mut conn {
                        Some(conn) => {
                            log_in_and_fetch_lean(&mut stats, window, conn, &c, &page).await?;
                        }
                        None => {
                            let s = log_in(&mut stats, window, &client, &base, &c, &page).await?;
                            fetch_paper(&mut stats, window, &client, &base, &s).await?;
                        }
                    },
                    Some(s) => {
                        // The page holds a request open until the room starts (`?wait=25`, the
                        // default here). With `--poll` it polls on its own rhythm instead: the
                        // first poll after the start comes anywhere within one interval.
                        let long = poll.is_zero();
                        if !long {
                            tokio::time::sleep(poll.mul_f64(rng.unit())).await;
                        }
                        let path = if long { "/exam/api/state?wait=25" } else { "/exam/api/state" };
                        loop {
                            let req = client.get(format!("{base}{path}")).header(COOKIE, &s.cookie);
                            let state = exchange(&mut stats, window, K_STATE, req, StatusCode::OK, None).await?;
                            let v: serde_json::Value = serde_json::from_str(&state.body).unwrap_or_default();
                            if v["room_started"].as_bool() == Some(true) {
                                fetch_paper(&mut stats, window, &client, &base, &s).await?;
                                break;
                            }
                            if !long {
                                tokio::time::sleep(poll).await;
                            }
                        }
                    }
                }
                Ok::<(), Failed>(())
            };
            let outcome = tokio::time::timeout(timeout, flow).await;
            let (paper_after, error) = match outcome {
                Ok(Ok(())) => (Some(barrier.elapsed()), None),
                Ok(Err(e)) => (None, Some(e)),
                Err(_) => (None, Some(failed("timeout", format!("no paper within {:.0} s", timeout.as_secs_f64())))),
            };
            let paper_at = paper_after.map(|d| barrier + d);
            StormOutcome { stats, paper_after, paper_at, room: (c.sitting_id, c.room_id), error }
        });
    }
    let cpu0 = (cpu_seconds(None), common.server_pid.and_then(|p| cpu_seconds(Some(p))));
    let mut stats = Stats::default();
    let mut room_started = HashMap::new();
    if before {
        tokio::time::sleep_until(barrier.into()).await;
        let (s, started) = press_start(&base, &proctor, consoles).await?;
        eprintln!("{} rooms started at the barrier, the last after {:.2} s", started.len(), barrier.elapsed().as_secs_f64());
        stats.merge(s);
        room_started = started;
    }
    let mut storm = KindStats::default();
    let mut since_room = KindStats::default();
    let mut had = Vec::new();
    while let Some(r) = tasks.join_next().await {
        let o = r?;
        stats.merge(o.stats);
        if let (Some(at), Some(started)) = (o.paper_at, room_started.get(&o.room)) {
            since_room.hist.record(u64::try_from(at.saturating_duration_since(*started).as_micros()).unwrap_or(u64::MAX));
        }
        match (o.paper_after, o.error) {
            (Some(d), _) => {
                storm.hist.record(u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
                had.push(d);
            }
            (None, Some(e)) => storm.error(&e.status, e.message),
            (None, None) => {}
        }
    }
    let took = barrier.elapsed();
    let cpu = CpuUse {
        own: cpu0.0.zip(cpu_seconds(None)).map(|(a, b)| b - a),
        server: cpu0.1.zip(common.server_pid.and_then(|p| cpu_seconds(Some(p)))).map(|(a, b)| b - a),
    };
    let n = candidates.len();
    let within = had.iter().filter(|d| **d <= Duration::from_secs(2)).count();
    let failed_n = n - had.len();
    let last = had.iter().max().copied().unwrap_or_default();
    let h: &Histogram = &storm.hist;
    let mut extras = vec![
        Extra {
            key: "storm_within_2s",
            value: within.into(),
            line: format!(
                "storm: {within} of {n} had the paper within 2 s; the last after {:.2} s; p50 {:.0} ms, p99 {:.0} ms; {failed_n} without it",
                last.as_secs_f64(),
                ms(h.quantile(0.5)),
                ms(h.quantile(0.99))
            ),
        },
        Extra { key: "storm_all_s", value: last.as_secs_f64().into(), line: String::new() },
        Extra { key: "storm_failed", value: failed_n.into(), line: String::new() },
    ];
    extras.extend(memory_extras(common.server_pid));
    stats.kinds.insert(K_STORM.to_owned(), storm);
    let mut order: Vec<String> = vec![K_STORM.to_owned()];
    if before {
        let h = &since_room.hist;
        let n2 = had.len().saturating_sub(usize::try_from(h.count()).unwrap_or(0));
        extras.push(Extra {
            key: "storm_room_p99_ms",
            value: ms(h.quantile(0.99)).into(),
            line: format!(
                "from each room's start: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms{}",
                ms(h.quantile(0.5)),
                ms(h.quantile(0.99)),
                ms(h.max()),
                if n2 > 0 { format!(" ({n2} without a start time)") } else { String::new() }
            ),
        });
        stats.kinds.insert(K_SINCE_ROOM.to_owned(), since_room);
        order.extend([K_SINCE_ROOM.to_owned(), K_ROOM_START.to_owned(), K_STATE.to_owned()]);
    } else {
        order.extend([K_LOGIN.to_owned(), K_IDENTITY.to_owned(), K_CONFIRM.to_owned()]);
    }
    order.push(K_PAPER.to_owned());
    let mode = if before { "exam --storm-before-start" } else { "exam --storm" };
    let mut shown = common.clone();
    shown.warmup = Duration::ZERO;
    report(mode, &shown, took, &stats, &order, &cpu, &extras);
    Ok(())
}
