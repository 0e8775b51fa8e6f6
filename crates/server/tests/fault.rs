//! Fault injection on the computer-based exam: candidates save answers continuously while the
//! server is killed with SIGKILL and restarted on the same folder, three times. Every save the
//! server acknowledged must be there afterwards: for every (candidate, position), the stored
//! sequence number is at least the highest acknowledged one, and when it is that one, the stored
//! answer is the answer sent with it. (A save the server committed but could not acknowledge
//! before it died may be there too: the stored sequence may be higher.) SQLite, debug build.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::cookie::Jar;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

const CANDIDATES: usize = 20;
const CYCLES: usize = 3;

/// The server, killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(dir: &Path, at: &str) -> Server {
        // A fresh port each time: the killed server's port may still be held by its connections.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("server.log")).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_gongkao"))
            .arg("--data-dir")
            .arg(dir)
            .args(["--listen", &format!("127.0.0.1:{port}"), "--at", at, "serve"])
            .env_remove("GONGKAO_DATABASE_URL")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start gongkao serve");
        Server { child, base: format!("http://127.0.0.1:{port}") }
    }

    async fn ready(&mut self, dir: &Path) {
        let client = Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = client.get(format!("{}/healthz", self.base)).send().await
                && r.status() == StatusCode::OK
            {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the server exited ({status}): {}", std::fs::read_to_string(dir.join("server.log")).unwrap_or_default());
            }
            assert!(Instant::now() < deadline, "the server did not answer /healthz within 30 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: no shutdown, no flush, nothing the process could do about it.
    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client(jar: &Arc<Jar>) -> Client {
    Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let i = html.find(marker).unwrap_or_else(|| panic!("no csrf_token in {}", &html[..html.len().min(300)]));
    html[i + marker.len()..].split('"').next().unwrap().to_owned()
}

/// One candidate: the line of exam-candidates.tsv, the cookies (which hold the seat session
/// across restarts), the paper's shape and every save the server acknowledged.
struct Candidate {
    ticket_no: String,
    id_number: String,
    access_code: String,
    jar: Arc<Jar>,
    csrf: String,
    /// Per display position: kind and number of options.
    items: Vec<(String, usize)>,
    seq: i64,
    /// Per position: the highest acknowledged seq and the answer sent with it.
    acked: HashMap<i64, (i64, String)>,
    acked_total: usize,
    /// Answers other than 200 or a broken connection (none expected).
    unexpected: Vec<String>,
}

impl Candidate {
    /// Logs in at the seat and reads the exam's CSRF token; confirms the identity once.
    async fn log_in(&mut self, base: &str) {
        let c = client(&self.jar);
        let html = c.get(format!("{base}/exam/login")).send().await.unwrap().text().await.unwrap();
        let token = csrf_of(&html);
        let form = [
            ("ticket_no", self.ticket_no.as_str()),
            ("id_number", self.id_number.as_str()),
            ("access_code", self.access_code.as_str()),
            ("csrf_token", token.as_str()),
        ];
        let r = c.post(format!("{base}/exam/login")).form(&form).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "login of {}: {}", self.ticket_no, r.text().await.unwrap_or_default());
        let r = c.get(format!("{base}/exam/identity")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        self.csrf = csrf_of(&r.text().await.unwrap());
        let r = c.post(format!("{base}/exam/identity")).form(&[("csrf_token", self.csrf.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }

    /// The paper as the server has it now; logs in again when the session is gone.
    async fn paper(&mut self, base: &str) -> Value {
        for _ in 0..2 {
            let r = client(&self.jar).get(format!("{base}/exam/api/paper")).send().await.unwrap();
            match r.status() {
                StatusCode::OK => return r.json().await.unwrap(),
                StatusCode::UNAUTHORIZED => self.log_in(base).await,
                s => panic!("paper of {}: {s} {}", self.ticket_no, r.text().await.unwrap_or_default()),
            }
        }
        panic!("paper of {}: still signed out after logging in again", self.ticket_no)
    }

    fn answer(&self, rng: &mut StdRng, position: usize) -> String {
        let (kind, options) = &self.items[position];
        let n = (*options).clamp(1, 8);
        let letter = |i: usize| char::from(b"ABCDEFGH"[i]);
        match kind.as_str() {
            "true_false" => letter(rng.random_range(0..2)).to_string(),
            "single_choice" => letter(rng.random_range(0..n)).to_string(),
            "multiple_choice" => {
                let mask = rng.random_range(1..(1usize << n));
                (0..n).filter(|i| mask & (1 << i) != 0).map(letter).collect()
            }
            _ => format!("作答{}", rng.random_range(0..1000)),
        }
    }

    /// Saves random answers to random positions until told to stop, recording each
    /// acknowledged save. Broken connections (the server killed) are retried after a pause.
    async fn save_until(mut self, base: String, stop: Arc<AtomicBool>, seed: u64) -> Candidate {
        let c = client(&self.jar);
        let mut rng = StdRng::seed_from_u64(seed);
        while !stop.load(Ordering::Relaxed) {
            self.seq += 1;
            let position = rng.random_range(0..self.items.len());
            let answer = self.answer(&mut rng, position);
            let body = json!({"saves": [{"seq": self.seq, "position": position, "answer": answer, "flagged": false}]});
            let sent = c.post(format!("{base}/exam/api/save")).header("X-CSRF-Token", &self.csrf).json(&body).send().await;
            match sent {
                Ok(r) if r.status() == StatusCode::OK => {
                    // Only a whole answer naming the seq counts as an acknowledgement.
                    let Ok(v) = r.json::<Value>().await else { continue };
                    if v["acked"].as_array().is_some_and(|a| a.iter().any(|s| s.as_i64() == Some(self.seq))) {
                        let p = i64::try_from(position).unwrap();
                        let e = self.acked.entry(p).or_insert((0, String::new()));
                        if self.seq > e.0 {
                            *e = (self.seq, answer);
                        }
                        self.acked_total += 1;
                    }
                }
                Ok(r) => {
                    let status = r.status();
                    let text = r.text().await.unwrap_or_default();
                    self.unexpected.push(format!("{status} {}", &text[..text.len().min(200)]));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
        self
    }

    /// Every acknowledged save is stored (or a later one of the same position is).
    async fn check(&mut self, base: &str, cycle: usize) {
        let paper = self.paper(base).await;
        let stored: HashMap<i64, (i64, String)> = paper["answers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["position"].as_i64().unwrap(), (a["seq"].as_i64().unwrap(), a["answer"].as_str().unwrap().to_owned())))
            .collect();
        for (position, (seq, answer)) in &self.acked {
            let Some((s, a)) = stored.get(position) else {
                panic!("cycle {cycle}: {} position {position}: acknowledged save seq {seq} is missing", self.ticket_no);
            };
            assert!(s >= seq, "cycle {cycle}: {} position {position}: stored seq {s} < acknowledged {seq}", self.ticket_no);
            assert!(*s <= self.seq, "cycle {cycle}: {} position {position}: stored seq {s} was never sent", self.ticket_no);
            if s == seq {
                assert_eq!(a, answer, "cycle {cycle}: {} position {position} seq {seq}: stored answer differs", self.ticket_no);
            }
        }
        assert!(paper["last_seq"].as_i64().unwrap() <= self.seq);
    }
}

/// The exam officer starts the candidates' rooms.
async fn start_rooms(base: &str, rooms: &[(i64, i64)]) {
    let c = client(&Arc::new(Jar::default()));
    let html = c.get(format!("{base}/login")).send().await.unwrap().text().await.unwrap();
    let token = csrf_of(&html);
    let form = [("username", "zz.examofficer"), ("password", "Gongkao@2020"), ("csrf_token", token.as_str())];
    let r = c.post(format!("{base}/login")).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "exam officer sign-in");
    for (sitting, room) in rooms {
        let r = c.get(format!("{base}/proctor/rooms/{room}?sitting={sitting}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let token = csrf_of(&r.text().await.unwrap());
        let form = [("sitting", sitting.to_string()), ("csrf_token", token)];
        let r = c.post(format!("{base}/proctor/rooms/{room}/start")).form(&form).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "start room {room}: {}", r.text().await.unwrap_or_default());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_saves_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let seeded = Command::new(env!("CARGO_BIN_EXE_gongkao"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["demo", "--seed-only", "--exam-candidates"])
        .env_remove("GONGKAO_DATABASE_URL")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(seeded.status.success(), "{}", String::from_utf8_lossy(&seeded.stderr));
    let tsv = std::fs::read_to_string(dir.path().join("exam-candidates.tsv")).unwrap();
    let mut rooms = Vec::new();
    let mut candidates: Vec<Candidate> = Vec::new();
    for line in tsv.lines().skip(1).filter(|l| !l.trim().is_empty()).take(CANDIDATES) {
        let c: Vec<&str> = line.split('\t').collect();
        let room = (c[3].parse::<i64>().unwrap(), c[4].parse::<i64>().unwrap());
        if !rooms.contains(&room) {
            rooms.push(room);
        }
        candidates.push(Candidate {
            ticket_no: c[0].to_owned(),
            id_number: c[1].to_owned(),
            access_code: c[2].to_owned(),
            jar: Arc::new(Jar::default()),
            csrf: String::new(),
            items: Vec::new(),
            seq: 0,
            acked: HashMap::new(),
            acked_total: 0,
            unexpected: Vec::new(),
        });
    }
    assert!(candidates.len() >= 10, "the demo lists {} exam candidates", candidates.len());

    let mut server = Server::start(dir.path(), "2020-07-18 10:55");
    server.ready(dir.path()).await;
    start_rooms(&server.base, &rooms).await;
    for c in &mut candidates {
        c.log_in(&server.base).await;
        let paper = c.paper(&server.base).await;
        c.items = paper["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| (i["kind"].as_str().unwrap().to_owned(), i["options"].as_array().map_or(0, Vec::len)))
            .collect();
        assert!(!c.items.is_empty());
        c.seq = paper["last_seq"].as_i64().unwrap();
    }

    let mut rng = StdRng::seed_from_u64(7);
    for cycle in 1..=CYCLES {
        let stop = Arc::new(AtomicBool::new(false));
        let before: usize = candidates.iter().map(|c| c.acked_total).sum();
        let mut tasks = tokio::task::JoinSet::new();
        for (i, c) in candidates.drain(..).enumerate() {
            tasks.spawn(c.save_until(server.base.clone(), stop.clone(), (cycle * 1000 + i) as u64));
        }
        // Kill mid-stream, at a moment that differs from cycle to cycle.
        tokio::time::sleep(Duration::from_millis(rng.random_range(800..2000))).await;
        server.kill();
        stop.store(true, Ordering::Relaxed);
        while let Some(c) = tasks.join_next().await {
            candidates.push(c.unwrap());
        }
        let acked: usize = candidates.iter().map(|c| c.acked_total).sum::<usize>() - before;
        assert!(acked >= CANDIDATES, "cycle {cycle}: only {acked} saves acknowledged before the kill");
        for c in &candidates {
            assert!(c.unexpected.is_empty(), "cycle {cycle}: {}: unexpected answers to saves: {:?}", c.ticket_no, c.unexpected);
        }

        server = Server::start(dir.path(), "2020-07-18 11:05");
        server.ready(dir.path()).await;
        for c in &mut candidates {
            c.check(&server.base, cycle).await;
        }
        eprintln!("cycle {cycle}: {acked} saves acknowledged before SIGKILL, every one found after the restart");
    }
    server.kill();
}
