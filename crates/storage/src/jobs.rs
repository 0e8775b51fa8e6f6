//! The background job queue (后台任务) kept in the `job` table, the same on SQLite and on
//! PostgreSQL with several app nodes.
//!
//! - [`enqueue`] takes any connection, so a job is queued inside the caller's write transaction
//!   and exists exactly when the change that needs it commits.
//! - [`claim`] is portable (no `SKIP LOCKED`): it reads the oldest due candidates, then takes one
//!   with a guarded `UPDATE … WHERE id = ? AND <still due>`. Zero rows means another node got it
//!   first; the next candidate is tried. On PostgreSQL a second claimer blocks on the row lock
//!   and re-evaluates the guard after the first commits, so a job is claimed once.
//! - A running job carries a lease (`locked_by`, `locked_until`). The holder renews it with
//!   [`progress`]; once it runs out another node may take the job over, and every later write by
//!   the old holder is guarded on `locked_by` and refused as [`StoreError::Conflict`].
//! - [`fail`] re-queues with exponential backoff ([`backoff_ms`]) until `max_attempts`.
//!
//! Callers on SQLite go through `Store::write()` for every call that writes, as everywhere.
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use time::{Duration, OffsetDateTime};

use crate::entity::job::{self, Column as C};
use crate::{StoreError, StoreResult, to_ms};

pub use crate::entity::job::Model as Job;

/// The states of a job, as stored.
pub mod status {
    pub const QUEUED: &str = "queued";
    pub const RUNNING: &str = "running";
    pub const SUCCEEDED: &str = "succeeded";
    pub const FAILED: &str = "failed";
    pub const CANCELLED: &str = "cancelled";
}

/// Runs a job gets unless its kind asks otherwise: one try and two retries.
pub const DEFAULT_MAX_ATTEMPTS: i32 = 3;
/// The first retry waits this long; each later one twice as long as the one before.
pub const BACKOFF_BASE_MS: i64 = 5_000;
/// No retry waits longer than this.
pub const BACKOFF_CAP_MS: i64 = 10 * 60_000;
/// How many candidates one read considers, and how many reads [`claim`] makes before giving
/// up until the next poll (every candidate of every read taken by other nodes).
const CLAIM_BATCH: u64 = 8;
const CLAIM_ROUNDS: usize = 4;

/// A job to queue.
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    pub kind: &'a str,
    pub payload: serde_json::Value,
    pub owner: &'a str,
    pub max_attempts: i32,
    /// Not before this instant; `None` means at once.
    pub run_after: Option<OffsetDateTime>,
}

impl<'a> NewJob<'a> {
    pub fn new(kind: &'a str, payload: serde_json::Value, owner: &'a str) -> NewJob<'a> {
        NewJob { kind, payload, owner, max_attempts: DEFAULT_MAX_ATTEMPTS, run_after: None }
    }
}

/// The result file of a succeeded job, already written to the `BlobStore`.
#[derive(Debug, Clone, Copy)]
pub struct StoredResult<'a> {
    pub name: &'a str,
    pub content_type: &'a str,
    /// SM3 of the bytes, lower-case hex (`files::content_hash`).
    pub hash: &'a str,
}

/// The delay before the next run after the `attempts`-th run failed: 5 s, 10 s, 20 s, …,
/// capped at 10 minutes.
pub fn backoff_ms(attempts: i32) -> i64 {
    let doublings = u32::try_from(attempts.saturating_sub(1)).unwrap_or(0).min(30);
    BACKOFF_BASE_MS.saturating_mul(1i64 << doublings).min(BACKOFF_CAP_MS)
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.whole_milliseconds()).unwrap_or(i64::MAX).max(0)
}

/// Queues a job and returns its id. Pass the caller's transaction (`WriteTx::conn()`) to tie
/// the job to the change that needs it: a rollback leaves no job.
pub async fn enqueue(db: &impl ConnectionTrait, new: NewJob<'_>, now: OffsetDateTime) -> StoreResult<i64> {
    let at = to_ms(now);
    let am = job::ActiveModel {
        kind: Set(new.kind.to_owned()),
        payload: Set(new.payload.to_string()),
        status: Set(status::QUEUED.to_owned()),
        attempts: Set(0),
        max_attempts: Set(new.max_attempts.max(1)),
        run_after: Set(new.run_after.map_or(at, to_ms)),
        locked_by: Set(None),
        locked_until: Set(None),
        progress_done: Set(0),
        progress_total: Set(0),
        message: Set(None),
        result_name: Set(None),
        result_content_type: Set(None),
        result_hash: Set(None),
        error: Set(None),
        owner: Set(new.owner.to_owned()),
        created_at: Set(at),
        started_at: Set(None),
        finished_at: Set(None),
        cancel_requested: Set(false),
        ..Default::default()
    };
    Ok(job::Entity::insert(am).exec(db).await.map_err(StoreError::classify)?.last_insert_id)
}

/// Due work at `now_ms`: queued and past its backoff, or running with a lease that ran out (its
/// node died or stalled).
fn due(now_ms: i64) -> Condition {
    Condition::any()
        .add(Condition::all().add(C::Status.eq(status::QUEUED)).add(C::RunAfter.lte(now_ms)))
        .add(Condition::all().add(C::Status.eq(status::RUNNING)).add(C::LockedUntil.lt(now_ms)))
}

/// Takes the oldest due job of one of `kinds` for `holder` (a node's worker) with a lease of
/// `lease`, counting one attempt; `None` when nothing is due. A job whose lease ran out is
/// taken over the same way; its old holder's later writes are refused.
pub async fn claim(
    db: &impl ConnectionTrait,
    holder: &str,
    kinds: &[&str],
    now: OffsetDateTime,
    lease: Duration,
) -> StoreResult<Option<Job>> {
    if kinds.is_empty() {
        return Ok(None);
    }
    let now_ms = to_ms(now);
    let until = now_ms.saturating_add(ms(lease));
    for _ in 0..CLAIM_ROUNDS {
        let candidates: Vec<i64> = job::Entity::find()
            .select_only()
            .column(C::Id)
            .filter(C::Kind.is_in(kinds.iter().copied()))
            .filter(due(now_ms))
            .order_by_asc(C::RunAfter)
            .order_by_asc(C::Id)
            .limit(CLAIM_BATCH)
            .into_tuple()
            .all(db)
            .await?;
        if candidates.is_empty() {
            return Ok(None);
        }
        for id in candidates {
            // The guard repeats the due condition: whoever updates first makes it false for
            // everyone else (a fresh lease is not expired, a running job is not queued).
            let res = job::Entity::update_many()
                .col_expr(C::Status, Expr::value(status::RUNNING))
                .col_expr(C::LockedBy, Expr::value(holder))
                .col_expr(C::LockedUntil, Expr::value(until))
                .col_expr(C::Attempts, sea_orm::ExprTrait::add(Expr::col(C::Attempts), 1))
                .col_expr(C::StartedAt, Expr::value(now_ms))
                .filter(C::Id.eq(id))
                .filter(due(now_ms))
                .exec(db)
                .await?;
            if res.rows_affected == 1 {
                return get(db, id).await;
            }
        }
    }
    Ok(None)
}

/// Guard for every write of a run: still running, still held by this holder.
fn held_by(id: i64, holder: &str) -> Condition {
    Condition::all().add(C::Id.eq(id)).add(C::Status.eq(status::RUNNING)).add(C::LockedBy.eq(holder))
}

/// Records progress (`done` of `total`, and a status line when given), renews the lease to
/// `now + lease`, and tells whether the owner asked to cancel. A holder that lost its lease to
/// another node gets [`StoreError::Conflict`] and must stop.
#[allow(clippy::too_many_arguments)]
pub async fn progress(
    db: &impl ConnectionTrait,
    id: i64,
    holder: &str,
    done: i64,
    total: i64,
    message: Option<&str>,
    now: OffsetDateTime,
    lease: Duration,
) -> StoreResult<bool> {
    let mut update = job::Entity::update_many()
        .col_expr(C::ProgressDone, Expr::value(done.max(0)))
        .col_expr(C::ProgressTotal, Expr::value(total.max(0)))
        .col_expr(C::LockedUntil, Expr::value(to_ms(now).saturating_add(ms(lease))));
    if let Some(m) = message {
        update = update.col_expr(C::Message, Expr::value(m));
    }
    let res = update.filter(held_by(id, holder)).exec(db).await?;
    if res.rows_affected == 0 {
        return Err(StoreError::Conflict);
    }
    let cancel: Option<bool> = job::Entity::find_by_id(id).select_only().column(C::CancelRequested).into_tuple().one(db).await?;
    Ok(cancel.unwrap_or(false))
}

/// Marks the run a success with its result file, if any.
pub async fn succeed(
    db: &impl ConnectionTrait,
    id: i64,
    holder: &str,
    result: Option<StoredResult<'_>>,
    now: OffsetDateTime,
) -> StoreResult<()> {
    let res = job::Entity::update_many()
        .col_expr(C::Status, Expr::value(status::SUCCEEDED))
        .col_expr(C::FinishedAt, Expr::value(to_ms(now)))
        .col_expr(C::LockedUntil, Expr::value(Option::<i64>::None))
        .col_expr(C::Error, Expr::value(Option::<String>::None))
        .col_expr(C::ResultName, Expr::value(result.map(|r| r.name.to_owned())))
        .col_expr(C::ResultContentType, Expr::value(result.map(|r| r.content_type.to_owned())))
        .col_expr(C::ResultHash, Expr::value(result.map(|r| r.hash.to_owned())))
        .filter(held_by(id, holder))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

/// What became of a failed run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOutcome {
    /// Queued again, not before this instant (epoch ms).
    Retry { run_after: i64 },
    /// No attempts left: failed for good.
    Failed,
    /// The owner had asked to cancel: cancelled rather than retried.
    Cancelled,
}

/// Records a failed run with its reason: re-queued after [`backoff_ms`] while attempts remain,
/// otherwise failed. A job whose owner asked to cancel is cancelled instead of retried.
pub async fn fail(db: &impl ConnectionTrait, id: i64, holder: &str, error: &str, now: OffsetDateTime) -> StoreResult<FailOutcome> {
    fail_with(db, id, holder, error, true, now).await
}

/// Records a failed run that no retry can fix (bad input): failed at once, whatever attempts
/// remain (or cancelled, if the owner asked).
pub async fn fail_for_good(db: &impl ConnectionTrait, id: i64, holder: &str, error: &str, now: OffsetDateTime) -> StoreResult<FailOutcome> {
    fail_with(db, id, holder, error, false, now).await
}

async fn fail_with(
    db: &impl ConnectionTrait,
    id: i64,
    holder: &str,
    error: &str,
    retry: bool,
    now: OffsetDateTime,
) -> StoreResult<FailOutcome> {
    let Some(j) = get(db, id).await? else { return Err(StoreError::NotFound) };
    if j.status != status::RUNNING || j.locked_by.as_deref() != Some(holder) {
        return Err(StoreError::Conflict);
    }
    let now_ms = to_ms(now);
    let outcome = if j.cancel_requested {
        FailOutcome::Cancelled
    } else if !retry || j.attempts >= j.max_attempts {
        FailOutcome::Failed
    } else {
        FailOutcome::Retry { run_after: now_ms.saturating_add(backoff_ms(j.attempts)) }
    };
    let mut update =
        job::Entity::update_many().col_expr(C::Error, Expr::value(error)).col_expr(C::LockedUntil, Expr::value(Option::<i64>::None));
    update = match outcome {
        FailOutcome::Retry { run_after } => {
            update.col_expr(C::Status, Expr::value(status::QUEUED)).col_expr(C::RunAfter, Expr::value(run_after))
        }
        FailOutcome::Failed => update.col_expr(C::Status, Expr::value(status::FAILED)).col_expr(C::FinishedAt, Expr::value(now_ms)),
        FailOutcome::Cancelled => update.col_expr(C::Status, Expr::value(status::CANCELLED)).col_expr(C::FinishedAt, Expr::value(now_ms)),
    };
    // The attempt count pins this exact run: a takeover in between bumped it.
    let res = update.filter(held_by(id, holder)).filter(C::Attempts.eq(j.attempts)).exec(db).await?;
    if res.rows_affected == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(outcome)
}

/// Ends a running job as cancelled, once its handler has stopped at the owner's request.
pub async fn finish_cancelled(db: &impl ConnectionTrait, id: i64, holder: &str, now: OffsetDateTime) -> StoreResult<()> {
    let res = job::Entity::update_many()
        .col_expr(C::Status, Expr::value(status::CANCELLED))
        .col_expr(C::FinishedAt, Expr::value(to_ms(now)))
        .col_expr(C::LockedUntil, Expr::value(Option::<i64>::None))
        .filter(held_by(id, holder))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

/// What a cancellation request did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// The job had not started: it is cancelled now and will never run.
    Cancelled,
    /// The job is running: its handler is told at its next progress report and stops there.
    Requested,
}

/// The owner's request to cancel. Someone else's job, or none, is [`StoreError::NotFound`]; a
/// job already finished is [`StoreError::Conflict`].
pub async fn request_cancel(db: &impl ConnectionTrait, id: i64, owner: &str, now: OffsetDateTime) -> StoreResult<CancelOutcome> {
    let mine = Condition::all().add(C::Id.eq(id)).add(C::Owner.eq(owner));
    let res = job::Entity::update_many()
        .col_expr(C::Status, Expr::value(status::CANCELLED))
        .col_expr(C::CancelRequested, Expr::value(true))
        .col_expr(C::FinishedAt, Expr::value(to_ms(now)))
        .filter(mine.clone())
        .filter(C::Status.eq(status::QUEUED))
        .exec(db)
        .await?;
    if res.rows_affected == 1 {
        return Ok(CancelOutcome::Cancelled);
    }
    let res = job::Entity::update_many()
        .col_expr(C::CancelRequested, Expr::value(true))
        .filter(mine)
        .filter(C::Status.eq(status::RUNNING))
        .exec(db)
        .await?;
    if res.rows_affected == 1 {
        return Ok(CancelOutcome::Requested);
    }
    match get(db, id).await? {
        Some(j) if j.owner == owner => Err(StoreError::Conflict),
        _ => Err(StoreError::NotFound),
    }
}

/// The owner's jobs, newest first.
pub async fn list_for_owner(db: &impl ConnectionTrait, owner: &str, limit: u64) -> StoreResult<Vec<Job>> {
    Ok(job::Entity::find().filter(C::Owner.eq(owner)).order_by_desc(C::Id).limit(limit).all(db).await?)
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> StoreResult<Option<Job>> {
    Ok(job::Entity::find_by_id(id).one(db).await?)
}

/// Every job row (tests check that a rolled-back enqueue left none).
pub async fn count_all(db: &impl ConnectionTrait) -> StoreResult<u64> {
    Ok(job::Entity::find().count(db).await?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::Store;

    #[test]
    fn backoff_doubles_from_five_seconds_and_is_capped() {
        assert_eq!(backoff_ms(1), 5_000);
        assert_eq!(backoff_ms(2), 10_000);
        assert_eq!(backoff_ms(3), 20_000);
        assert_eq!(backoff_ms(0), 5_000);
        assert_eq!(backoff_ms(i32::MAX), BACKOFF_CAP_MS);
        for a in 1..200 {
            assert!(backoff_ms(a) <= backoff_ms(a + 1));
            assert!(backoff_ms(a) <= BACKOFF_CAP_MS);
        }
    }

    async fn store() -> (Store, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("gk-jobs-{}-{}", std::process::id(), rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = Store::connect(&format!("sqlite://{}?mode=rwc", dir.join("t.sqlite").display())).await.unwrap();
        store.migrate().await.unwrap();
        (store, dir)
    }

    const T0: OffsetDateTime = time::macros::datetime!(2020-04-14 01:00 UTC);

    /// The life of one job: claim, lease, takeover, fencing of the old holder, retries with
    /// backoff, and the final failure.
    #[tokio::test]
    async fn lease_takeover_fencing_and_retries() {
        let (store, dir) = store().await;
        let db = store.conn();
        let lease = Duration::seconds(60);
        let id = enqueue(db, NewJob::new("k", serde_json::json!({"n": 1}), "alice"), T0).await.unwrap();
        assert!(claim(db, "a", &["other"], T0, lease).await.unwrap().is_none(), "only kinds the node knows");
        let j = claim(db, "a", &["k"], T0, lease).await.unwrap().unwrap();
        assert_eq!((j.id, j.attempts, j.status.as_str(), j.locked_by.as_deref()), (id, 1, "running", Some("a")));
        assert_eq!(j.payload, r#"{"n":1}"#);
        assert!(claim(db, "b", &["k"], T0 + Duration::seconds(59), lease).await.unwrap().is_none(), "lease still held");
        // Progress renews the lease, so at 90 s the job is still a's.
        assert!(!progress(db, id, "a", 1, 10, Some("一"), T0 + Duration::seconds(50), lease).await.unwrap());
        assert!(claim(db, "b", &["k"], T0 + Duration::seconds(90), lease).await.unwrap().is_none());
        let t = T0 + Duration::seconds(111);
        let j = claim(db, "b", &["k"], t, lease).await.unwrap().unwrap();
        assert_eq!((j.attempts, j.locked_by.as_deref(), j.progress_done), (2, Some("b"), 1));
        // The old holder is fenced off on every write.
        assert!(matches!(progress(db, id, "a", 2, 10, None, t, lease).await, Err(StoreError::Conflict)));
        assert!(matches!(succeed(db, id, "a", None, t).await, Err(StoreError::Conflict)));
        assert!(matches!(fail(db, id, "a", "x", t).await, Err(StoreError::Conflict)));
        // b fails: attempt 2 of 3 → retried after 10 s.
        assert_eq!(fail(db, id, "b", "第二次失败", t).await.unwrap(), FailOutcome::Retry { run_after: to_ms(t) + 10_000 });
        assert!(claim(db, "c", &["k"], t + Duration::seconds(9), lease).await.unwrap().is_none(), "backoff respected");
        let t = t + Duration::seconds(10);
        let j = claim(db, "c", &["k"], t, lease).await.unwrap().unwrap();
        assert_eq!((j.attempts, j.error.as_deref()), (3, Some("第二次失败")));
        assert_eq!(fail(db, id, "c", "第三次失败", t).await.unwrap(), FailOutcome::Failed);
        let j = get(db, id).await.unwrap().unwrap();
        assert_eq!((j.status.as_str(), j.error.as_deref(), j.finished_at), ("failed", Some("第三次失败"), Some(to_ms(t))));
        assert!(claim(db, "d", &["k"], t + Duration::days(1), lease).await.unwrap().is_none(), "failed jobs stay failed");
        store.close().await.unwrap();
        std::fs::remove_dir_all(dir).ok();
    }

    #[tokio::test]
    async fn cancel_queued_running_and_finished_jobs() {
        let (store, dir) = store().await;
        let db = store.conn();
        let lease = Duration::seconds(60);
        let queued = enqueue(db, NewJob::new("k", serde_json::Value::Null, "alice"), T0).await.unwrap();
        assert!(matches!(request_cancel(db, queued, "bob", T0).await, Err(StoreError::NotFound)), "only the owner");
        assert_eq!(request_cancel(db, queued, "alice", T0).await.unwrap(), CancelOutcome::Cancelled);
        assert!(claim(db, "a", &["k"], T0, lease).await.unwrap().is_none(), "a cancelled job never runs");
        assert!(matches!(request_cancel(db, queued, "alice", T0).await, Err(StoreError::Conflict)), "already over");

        let running = enqueue(db, NewJob::new("k", serde_json::Value::Null, "alice"), T0).await.unwrap();
        claim(db, "a", &["k"], T0, lease).await.unwrap().unwrap();
        assert_eq!(request_cancel(db, running, "alice", T0).await.unwrap(), CancelOutcome::Requested);
        assert!(progress(db, running, "a", 1, 2, None, T0, lease).await.unwrap(), "the handler is told");
        // A run that fails after the request is cancelled, not retried.
        assert_eq!(fail(db, running, "a", "中断", T0).await.unwrap(), FailOutcome::Cancelled);
        assert_eq!(get(db, running).await.unwrap().unwrap().status, "cancelled");
        assert!(matches!(request_cancel(db, 999, "alice", T0).await, Err(StoreError::NotFound)));
        let mine = list_for_owner(db, "alice", 10).await.unwrap();
        assert_eq!(mine.iter().map(|j| j.id).collect::<Vec<_>>(), [running, queued]);
        store.close().await.unwrap();
        std::fs::remove_dir_all(dir).ok();
    }
}
