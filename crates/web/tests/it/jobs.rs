//! The background job queue (后台任务) end to end: the audit-log export as a job whose result
//! only its owner downloads; jobs run once across nodes and racing claimers; retries with
//! backoff, then failure; cancellation of queued and running jobs; takeover after a lease runs
//! out; and a job queued in a rolled-back transaction never existing. Time is the kit's
//! FixedClock: backoff and leases only pass when a test moves it.
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use gongkao_domain::paging::Page;
use gongkao_storage::audit::{self, AuditFilter};
use gongkao_storage::jobs::{self, Job, NewJob};
use gongkao_storage::{StoreError, to_ms};
use gongkao_web::jobs::{JobError, JobResult, LEASE, Registry, Workers, spawn_workers};
use time::Duration;

use crate::kit::TestApp;

const GRACE: StdDuration = StdDuration::from_secs(5);

async fn enqueue(app: &TestApp, kind: &str, owner: &str) -> i64 {
    let tx = app.state.store().write().await.unwrap();
    let id = jobs::enqueue(tx.conn(), NewJob::new(kind, serde_json::Value::Null, owner), app.state.now()).await.unwrap();
    tx.commit().await.unwrap();
    app.state.job_queued();
    id
}

async fn job(app: &TestApp, id: i64) -> Job {
    jobs::get(app.state.store().conn(), id).await.unwrap().unwrap()
}

/// Polls (in real time) until the job is in the state `pred` describes.
async fn wait_for(app: &TestApp, id: i64, what: &str, pred: impl Fn(&Job) -> bool) -> Job {
    for _ in 0..600 {
        let j = job(app, id).await;
        if pred(&j) {
            return j;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    panic!("job {id} never became {what}: {:?}", job(app, id).await);
}

/// Entries of exactly this action (the filter matches a prefix: `job.cancel` also finds
/// `job.cancelled`).
async fn audit_count(app: &TestApp, action: &str) -> u64 {
    let f = AuditFilter { action: Some(action.into()), ..Default::default() };
    let rows = audit::all(app.state.store().conn(), &f, 10_000).await.unwrap();
    rows.iter().filter(|r| r.action == action).count() as u64
}

fn node_of(j: &Job) -> String {
    j.locked_by.clone().unwrap_or_default().split('/').next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn audit_export_job_runs_once_and_only_its_owner_downloads_the_result() {
    let app = TestApp::spawn().await;
    let (c, csrf) = app.login("t.auditadmin").await;
    let audit_page = c.get(app.url("/audit")).send().await.unwrap().text().await.unwrap();
    assert!(audit_page.contains("action=\"/audit/export-job\""), "the audit page offers the background export");
    let r =
        c.post(app.url("/audit/export-job")).form(&[("csrf_token", csrf.as_str()), ("actor", ""), ("outcome", "")]).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/jobs?msg=job_queued");
    let mine = jobs::list_for_owner(app.state.store().conn(), "t.auditadmin", 10).await.unwrap();
    assert_eq!(mine.len(), 1);
    let id = mine[0].id;
    let queued_page = c.get(app.url("/jobs?msg=job_queued")).send().await.unwrap().text().await.unwrap();
    assert!(queued_page.contains("导出审计日志") && queued_page.contains("排队中"), "{queued_page}");
    assert!(queued_page.contains("data-job-active") && queued_page.contains("/static/jobs.js"), "a page with live jobs refreshes itself");

    // Two nodes of two workers each share the queue.
    let a = spawn_workers(&app.state, Registry::standard(), 2);
    let b = spawn_workers(&app.state, Registry::standard(), 2);
    let done = wait_for(&app, id, "succeeded", |j| j.status == "succeeded").await;
    assert_eq!(done.attempts, 1, "ran once");
    assert_eq!(done.result_name.as_deref(), Some("审计日志.xlsx"));
    assert!(done.progress_total > 0 && done.progress_done == done.progress_total, "{done:?}");
    assert_eq!(audit_count(&app, "audit.export").await, 1, "the export is audited once, with its success");
    assert_eq!(audit_count(&app, "job.succeed").await, 1);

    let page = c.get(app.url("/jobs")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("已完成") && page.contains(&format!("/jobs/{id}/result")), "{page}");
    assert!(!page.contains("data-job-active"), "nothing left to refresh for");
    let detail = c.get(app.url(&format!("/jobs/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(detail.contains("审计日志.xlsx") && detail.contains("1 / 3"), "{detail}");

    let r = c.get(app.url(&format!("/jobs/{id}/result"))).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], gongkao_web::services::exports::XLSX);
    assert!(r.headers()["cache-control"].to_str().unwrap().contains("no-store"));
    let disposition = r.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.starts_with("attachment;") && disposition.contains("%E5%AE%A1%E8%AE%A1"), "{disposition}");
    let bytes = r.bytes().await.unwrap();
    use calamine::Reader;
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    assert_eq!(sheet.get((0, 0)).map(ToString::to_string).as_deref(), Some("序号"));
    assert!(sheet.height() > 2, "the log's entries are in the file");
    assert_eq!(audit_count(&app, "job.result.download").await, 1);

    // Anyone else, whatever their role, is refused the job, its page and its result.
    for other in ["t.sysadmin", "t.reviewer"] {
        let (o, o_csrf) = app.login(other).await;
        assert_eq!(o.get(app.url(&format!("/jobs/{id}/result"))).send().await.unwrap().status(), 403, "{other}");
        assert_eq!(o.get(app.url(&format!("/jobs/{id}"))).send().await.unwrap().status(), 403, "{other}");
        let r = o.post(app.url(&format!("/jobs/{id}/cancel"))).form(&[("csrf_token", o_csrf.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), 403, "{other}");
        let list = o.get(app.url("/jobs")).send().await.unwrap().text().await.unwrap();
        assert!(!list.contains(&format!("/jobs/{id}\"")), "{other} sees only their own jobs");
    }

    // A result file changed on disk is never served.
    let hash = done.result_hash.clone().unwrap();
    std::fs::write(app.state.config().files_dir.join(&hash[..2]).join(&hash), b"tampered").unwrap();
    assert_eq!(c.get(app.url(&format!("/jobs/{id}/result"))).send().await.unwrap().status(), 500);

    a.shutdown(GRACE).await;
    b.shutdown(GRACE).await;
    app.cleanup().await;
}

/// A registry whose `test.count` handler counts its runs per job.
fn counting(runs: Arc<Mutex<HashMap<i64, usize>>>) -> Registry {
    let mut r = Registry::new();
    r.register("test.count", move |_state, job: Job, ctx: gongkao_web::jobs::JobContext| {
        let runs = runs.clone();
        async move {
            *runs.lock().unwrap().entry(job.id).or_default() += 1;
            ctx.progress(1, 1, "完成").await?;
            Ok(None)
        }
    });
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_jobs_on_two_nodes_each_run_exactly_once() {
    let app = TestApp::spawn().await;
    let runs = Arc::new(Mutex::new(HashMap::new()));
    let mut ids = Vec::new();
    for _ in 0..30 {
        ids.push(enqueue(&app, "test.count", "t.reviewer").await);
    }
    let a = spawn_workers(&app.state, counting(runs.clone()), 3);
    let b = spawn_workers(&app.state, counting(runs.clone()), 3);
    for id in &ids {
        wait_for(&app, *id, "succeeded", |j| j.status == "succeeded").await;
    }
    a.shutdown(GRACE).await;
    b.shutdown(GRACE).await;
    let runs = runs.lock().unwrap().clone();
    assert_eq!(runs.len(), ids.len());
    assert!(runs.values().all(|n| *n == 1), "a job ran twice: {runs:?}");
    assert_eq!(audit_count(&app, "job.succeed").await, ids.len() as u64);
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_claimers_take_each_job_exactly_once() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for _ in 0..50 {
        ids.push(enqueue(&app, "test.race", "t.reviewer").await);
    }
    let mut tasks = Vec::new();
    for t in 0..8 {
        let state = app.state.clone();
        tasks.push(tokio::spawn(async move {
            let holder = format!("racer-{t}");
            let mut mine = Vec::new();
            loop {
                let tx = state.store().write().await.unwrap();
                let claimed = jobs::claim(tx.conn(), &holder, &["test.race"], state.now(), LEASE).await.unwrap();
                tx.commit().await.unwrap();
                match claimed {
                    Some(j) => {
                        assert_eq!(j.locked_by.as_deref(), Some(holder.as_str()));
                        mine.push(j.id);
                    }
                    None => break,
                }
            }
            mine
        }));
    }
    let mut claimed = Vec::new();
    for t in tasks {
        claimed.extend(t.await.unwrap());
    }
    claimed.sort_unstable();
    assert_eq!(claimed, ids, "every job claimed, none twice");
    for id in ids {
        let j = job(&app, id).await;
        assert_eq!((j.status.as_str(), j.attempts), ("running", 1));
    }
    app.cleanup().await;
}

#[tokio::test]
async fn a_failing_job_is_retried_with_backoff_then_marked_failed() {
    let app = TestApp::spawn().await;
    let runs = Arc::new(AtomicUsize::new(0));
    let mut r = Registry::new();
    let counter = runs.clone();
    r.register("test.fail", move |_s, _j, _c| {
        let counter = counter.clone();
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            Err::<Option<JobResult>, _>(JobError::from("模拟的失败：外部服务无响应"))
        }
    });
    let workers = spawn_workers(&app.state, r, 1);
    let id = enqueue(&app, "test.fail", "t.reviewer").await;

    let j = wait_for(&app, id, "queued after one failure", |j| j.attempts == 1 && j.status == "queued").await;
    assert_eq!(j.error.as_deref(), Some("模拟的失败：外部服务无响应"));
    assert_eq!(j.run_after, to_ms(app.state.now()) + 5_000, "first retry after 5 s");
    // The clock stands still, so the retry does not come due.
    tokio::time::sleep(StdDuration::from_millis(1200)).await;
    assert_eq!(job(&app, id).await.attempts, 1);
    let (c, _) = app.login("t.reviewer").await;
    let page = c.get(app.url("/jobs")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("第 1 次执行失败") && page.contains("自动重试"), "{page}");

    app.clock.advance(Duration::seconds(5));
    app.state.job_queued();
    let j = wait_for(&app, id, "queued after two failures", |j| j.attempts == 2 && j.status == "queued").await;
    assert_eq!(j.run_after, to_ms(app.state.now()) + 10_000, "then twice as long");

    app.clock.advance(Duration::seconds(10));
    app.state.job_queued();
    let j = wait_for(&app, id, "failed", |j| j.status == "failed").await;
    assert_eq!(j.attempts, 3);
    assert_eq!(j.error.as_deref(), Some("模拟的失败：外部服务无响应"));
    assert_eq!(j.finished_at, Some(to_ms(app.state.now())));
    app.clock.advance(Duration::hours(1));
    app.state.job_queued();
    tokio::time::sleep(StdDuration::from_millis(800)).await;
    workers.shutdown(GRACE).await;
    assert_eq!(runs.load(Ordering::SeqCst), 3, "a failed job is not run again");
    let f = AuditFilter { action: Some("job.fail".into()), outcome: Some("failed".into()), ..Default::default() };
    let entries = audit::list(app.state.store().conn(), &f, Page::new(None, None)).await.unwrap();
    assert_eq!(entries.total, 1, "the final failure is audited once");
    assert_eq!(entries.items[0].actor, "t.reviewer");
    assert_eq!(entries.items[0].role, "agency_reviewer", "in the owner's name and role");
    // The hour that passed ended the session.
    let (c, _) = app.login("t.reviewer").await;
    let page = c.get(app.url(&format!("/jobs/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("失败") && page.contains("外部服务无响应") && page.contains("3 / 3"), "{page}");
    app.cleanup().await;
}

#[tokio::test]
async fn the_owner_cancels_a_queued_job_and_stops_a_running_one() {
    let app = TestApp::spawn().await;
    let saw_stop = Arc::new(AtomicBool::new(false));
    let flag = saw_stop.clone();
    let mut registry = Registry::new();
    registry.register("test.slow", move |_s, _j, ctx: gongkao_web::jobs::JobContext| {
        let flag = flag.clone();
        async move {
            for i in 0..10_000u64 {
                if let Err(e) = ctx.progress(i, 10_000, &format!("第 {i} 步")).await {
                    flag.store(e == JobError::Stopped, Ordering::SeqCst);
                    return Err(e);
                }
                tokio::time::sleep(StdDuration::from_millis(20)).await;
            }
            Ok(None)
        }
    });
    let (c, csrf) = app.login("t.reviewer").await;

    // Queued, with no worker for its kind: cancelled on the spot.
    let waiting = enqueue(&app, "test.nobody", "t.reviewer").await;
    let r = c.post(app.url(&format!("/jobs/{waiting}/cancel"))).form(&[("csrf_token", csrf.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"].to_str().unwrap(), format!("/jobs/{waiting}?msg=job_cancelled"));
    assert_eq!(job(&app, waiting).await.status, "cancelled");
    let r = c.post(app.url(&format!("/jobs/{waiting}/cancel"))).form(&[("csrf_token", csrf.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), 409, "a finished job cannot be cancelled again");

    let workers = spawn_workers(&app.state, registry, 1);
    let id = enqueue(&app, "test.slow", "t.reviewer").await;
    wait_for(&app, id, "running with progress", |j| j.status == "running" && j.progress_done > 2).await;
    let page = c.get(app.url("/jobs")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("<progress max=\"10000\"") && page.contains("运行中") && page.contains("data-job-active"), "{page}");
    let r = c.post(app.url(&format!("/jobs/{id}/cancel"))).form(&[("csrf_token", csrf.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"].to_str().unwrap(), format!("/jobs/{id}?msg=job_cancel_requested"));
    let j = wait_for(&app, id, "cancelled", |j| j.status == "cancelled").await;
    assert!(saw_stop.load(Ordering::SeqCst), "the handler was told to stop");
    assert!(j.progress_done < 10_000, "it stopped early");
    assert_eq!(j.attempts, 1, "and was not retried");
    workers.shutdown(GRACE).await;
    assert_eq!(audit_count(&app, "job.cancel").await, 2, "both requests audited");
    assert_eq!(audit_count(&app, "job.cancelled").await, 1, "the stop of the running one too");
    let page = c.get(app.url(&format!("/jobs/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("已取消") && !page.contains("data-job-active"), "{page}");
    app.cleanup().await;
}

#[tokio::test]
async fn an_expired_lease_lets_another_node_take_the_job_over() {
    let app = TestApp::spawn().await;
    // Node A's handler stalls (a hung node) until released; node B's finishes at once.
    let release = Arc::new(tokio::sync::Notify::new());
    let gate = release.clone();
    let mut stalled = Registry::new();
    stalled.register("test.takeover", move |_s, _j, _c| {
        let gate = gate.clone();
        async move {
            gate.notified().await;
            Ok(Some(JobResult { name: "a.txt".into(), content_type: "text/plain".into(), bytes: b"from A".to_vec() }))
        }
    });
    let mut healthy = Registry::new();
    healthy.register("test.takeover", |_s, _j, _c| async move {
        Ok(Some(JobResult { name: "b.txt".into(), content_type: "text/plain".into(), bytes: b"from B".to_vec() }))
    });
    let a: Workers = spawn_workers(&app.state, stalled, 1);
    let id = enqueue(&app, "test.takeover", "t.reviewer").await;
    let j = wait_for(&app, id, "running on A", |j| j.status == "running").await;
    assert_eq!(node_of(&j), a.node());
    let b = spawn_workers(&app.state, healthy, 1);
    tokio::time::sleep(StdDuration::from_millis(1200)).await;
    assert_eq!(node_of(&job(&app, id).await), a.node(), "B waits while A's lease holds");

    app.clock.advance(LEASE + Duration::seconds(1));
    app.state.job_queued();
    let j = wait_for(&app, id, "done by B", |j| j.status == "succeeded").await;
    assert_eq!(node_of(&j), b.node());
    assert_eq!(j.attempts, 2);
    let a_holder = format!("{}/0", a.node());
    let db = app.state.store().conn();
    assert!(matches!(jobs::progress(db, id, &a_holder, 1, 1, None, app.state.now(), LEASE).await, Err(StoreError::Conflict)));
    // A wakes up and finishes: its result is discarded, B's stands.
    release.notify_one();
    tokio::time::sleep(StdDuration::from_millis(500)).await;
    let j = job(&app, id).await;
    assert_eq!(j.result_name.as_deref(), Some("b.txt"));
    assert_eq!(j.result_hash.as_deref(), Some(gongkao_storage::files::content_hash(b"from B").as_str()));
    assert_eq!(audit_count(&app, "job.succeed").await, 1);
    a.shutdown(GRACE).await;
    b.shutdown(GRACE).await;
    app.cleanup().await;
}

#[tokio::test]
async fn a_job_queued_in_a_rolled_back_transaction_does_not_exist() {
    let app = TestApp::spawn().await;
    let before = audit_count(&app, "job.enqueue").await;
    let tx = app.state.store().write().await.unwrap();
    let id = jobs::enqueue(tx.conn(), NewJob::new("test.count", serde_json::json!({"n": 1}), "t.reviewer"), app.state.now()).await.unwrap();
    let actor = gongkao_web::services::Actor::system("test");
    audit::append(&tx, app.state.now(), actor.record("job.enqueue", format!("job:{id}"), "与变更同一事务")).await.unwrap();
    drop(tx);
    assert!(jobs::get(app.state.store().conn(), id).await.unwrap().is_none());
    assert_eq!(jobs::count_all(app.state.store().conn()).await.unwrap(), 0);
    assert_eq!(audit_count(&app, "job.enqueue").await, before);

    // Committed with its change, it is there and runs.
    let tx = app.state.store().write().await.unwrap();
    let id = jobs::enqueue(tx.conn(), NewJob::new("test.count", serde_json::json!({"n": 2}), "t.reviewer"), app.state.now()).await.unwrap();
    audit::append(&tx, app.state.now(), actor.record("job.enqueue", format!("job:{id}"), "与变更同一事务")).await.unwrap();
    tx.commit().await.unwrap();
    app.state.job_queued();
    let runs = Arc::new(Mutex::new(HashMap::new()));
    let workers = spawn_workers(&app.state, counting(runs.clone()), 1);
    wait_for(&app, id, "succeeded", |j| j.status == "succeeded").await;
    workers.shutdown(GRACE).await;
    assert_eq!(runs.lock().unwrap().get(&id), Some(&1));
    app.cleanup().await;
}
