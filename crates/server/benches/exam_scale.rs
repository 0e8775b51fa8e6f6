//! Seating and admission tickets at province scale, end to end: through the same services the
//! pages call, on a real database (SQLite file, or PostgreSQL with `GONGKAO_BENCH_DATABASE_URL`).
//!
//! Sets up N admitted candidates of one agency (default 100,000, the province-wide
//! figure in one agency, the worst case since seating runs per agency), 12 centres of 300 rooms
//! × 32 seats (2 spare) and the three sittings of one day; then times, each `--runs` times:
//! - `run_seating`: reading the candidates, rooms and sittings, the algorithm, ticket numbers,
//!   and replacing the plan (3 × N seat rows) in one transaction with its audit entry;
//! - gathering the tickets of the first centre (about 9,000 candidates) as the batch job does:
//!   every database read per candidate, without rendering (rendering is measured by the
//!   documents crate's bench).
//!
//! `cargo bench -p gongkao --bench exam_scale -- [candidates] [runs]`; prints medians.
use std::sync::Arc;
use std::time::Instant;

use gongkao_domain::campaign::shanghai_datetime;
use gongkao_domain::clock::FixedClock;
use gongkao_storage::Store;
use gongkao_storage::applications::{self, Content};
use gongkao_storage::exam_sites::{self as sites, NewCentre, NewRoom};
use gongkao_storage::units::{self, NewApplicant, NewUnit};
use gongkao_web::services::{Actor, exam_sites, tickets};
use gongkao_web::{AppState, WebConfig};

const AGENCY: &str = "410100";
const CENTRES: i32 = 12;
const ROOMS_PER_CENTRE: i32 = 300;
const WORK_TYPES: [&str; 8] = ["护理员", "绿化工", "汽车驾驶员", "保育员", "电工", "厨师", "收银员", "档案管理员"];

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let candidates: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let runs: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(3).max(1);
    let dir = tempfile::tempdir()?;
    let url = std::env::var("GONGKAO_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}?mode=rwc", dir.path().join("bench.sqlite").display()));
    let store = Store::connect(&url).await?.with_audit_key(b"bench audit key".to_vec());
    store.migrate().await?;
    let clock = Arc::new(FixedClock::new(shanghai_datetime(time::macros::date!(2020 - 06 - 01), 9, 0)));
    let config = WebConfig { files_dir: dir.path().join("files"), ..WebConfig::default() };
    let state = AppState::new(store, clock, config, Arc::new(gongkao_web::sender::LogSender::default()));
    gongkao_web::services::campaigns::bootstrap(&state).await.map_err(|e| anyhow::anyhow!(e.message()))?;
    let db = state.store().conn();
    let now = state.now();
    let campaign = gongkao_storage::campaigns::current(db).await?.ok_or_else(|| anyhow::anyhow!("no campaign"))?;

    let setup = Instant::now();
    let mut unit_ids = Vec::new();
    for n in 0..200 {
        let u = NewUnit {
            name: format!("压测单位{n:03}"),
            credit_code: format!("12410100BENCH{n:05}"),
            unit_type: "institution".to_owned(),
            category: "local".to_owned(),
            supervising_department: "卫生健康委员会".to_owned(),
            agency_code: AGENCY.to_owned(),
        };
        unit_ids.push(units::create(db, u, now).await?);
    }
    let people: Vec<NewApplicant> = (0..candidates)
        .map(|n| NewApplicant {
            id_number: format!("4101051980{n:08}"),
            name: format!("考生{n}"),
            sex: if n % 2 == 0 { "male" } else { "female" }.to_owned(),
            birth_date: "1980-01-01".to_owned(),
            mobile: format!("139{n:08}"),
            unit_id: Some(unit_ids[n % unit_ids.len()]),
            work_type: Some(WORK_TYPES[n % WORK_TYPES.len()].to_owned()),
            current_level: None,
            work_start_date: None,
            education: None,
        })
        .collect();
    units::insert_applicants(db, people, now).await?;
    let ids = units::applicant_ids(db).await?;
    let rows = ids
        .iter()
        .enumerate()
        .map(|(n, (id, _))| {
            let content = Content {
                unit_id: Some(unit_ids[n % unit_ids.len()]),
                agency_code: Some(AGENCY.to_owned()),
                work_type: WORK_TYPES[n % WORK_TYPES.len()].to_owned(),
                target_level: 2 + (n % 4) as i32,
                facts: "{}".to_owned(),
                verdict: "eligible".to_owned(),
                rule_set_id: "HN-GK-2020".to_owned(),
                rule_set_version: 1,
                trace: "[]".to_owned(),
            };
            (campaign.id, *id, content, "admitted", Some(now))
        })
        .collect();
    applications::insert_many(db, rows, now).await?;
    let officer = Actor {
        username: "bench".to_owned(),
        role: "agency_exam_officer".to_owned(),
        jurisdiction: AGENCY.to_owned(),
        client_ip: "127.0.0.1".to_owned(),
    };
    let mut first_centre = 0;
    for c in 1..=CENTRES {
        let name = format!("压测考点{c:02}");
        let centre = sites::insert_centre(
            db,
            NewCentre {
                campaign_id: campaign.id,
                agency_code: AGENCY,
                number: c,
                name: &name,
                address: "郑州市测试路1号",
                contact: "王老师",
                phone: "0371-1234567",
                by: "bench",
            },
            now,
        )
        .await?;
        if c == 1 {
            first_centre = centre;
        }
        for r in 1..=ROOMS_PER_CENTRE {
            let room = format!("第{r}考场");
            sites::insert_room(db, NewRoom { centre_id: centre, number: r, name: &room, seat_count: 32, spare_seats: 2 }, now).await?;
        }
    }
    for (subject, from, to) in [("post_skills", "09:00", "10:30"), ("ethics", "11:00", "12:30"), ("competence", "14:30", "16:00")] {
        let pairs: Vec<(String, String)> = [("subject", subject), ("date", "2020-07-18"), ("starts_at", from), ("ends_at", to)]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        exam_sites::add_sitting(&state, &officer, AGENCY, &pairs).await.map_err(|e| anyhow::anyhow!(e.message()))?;
    }
    println!(
        "setup: {candidates} admitted candidates, {} seats per sitting, in {:.1} s",
        CENTRES * ROOMS_PER_CENTRE * 30,
        setup.elapsed().as_secs_f64()
    );

    let mut seating = Vec::new();
    let mut gathering = Vec::new();
    let mut gathered = 0;
    for run in 1..=runs {
        let t = Instant::now();
        let outcome = exam_sites::run_seating(&state, &officer, AGENCY).await.map_err(|e| anyhow::anyhow!(e.message()))?;
        let s = t.elapsed().as_secs_f64();
        seating.push(s);
        let t = Instant::now();
        let (_, docs) =
            tickets::centre_ticket_docs(&state, first_centre, None).await.map_err(|e| anyhow::anyhow!(e.message().to_owned()))?;
        let g = t.elapsed().as_secs_f64();
        gathering.push(g);
        gathered = docs.len();
        println!(
            "run {run}: seating {} candidates ({} seat rows) {s:.2} s; tickets of centre 01: {gathered} gathered in {g:.2} s",
            outcome.candidates, outcome.assignments
        );
    }
    println!(
        "median of {runs}: seating {candidates} candidates {:.2} s; gathering {gathered} tickets {:.2} s ({:.0} per second)",
        median(seating),
        median(gathering.clone()),
        gathered as f64 / median(gathering)
    );
    Ok(())
}
