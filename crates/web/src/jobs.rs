//! The worker runtime of the background job queue (后台任务); the queue itself is
//! `gongkao_storage::jobs`.
//!
//! A [`Registry`] maps job kinds to async handlers. [`spawn_workers`] starts `n` tokio tasks
//! for this process (one node, with a random id); each polls the queue, claims a due job of a
//! kind it knows, runs its handler under a lease that every progress report renews, and records
//! the outcome: success (the result file goes to the content-addressed `BlobStore`), a failure
//! (retried with backoff, then failed), or a cancellation. Every end of a job is audited in the
//! owner's name, in the transaction that records it.
//!
//! Handlers must report progress ([`JobContext::progress`]) at least once per [`LEASE`]:
//! a job silent for longer is taken over by another worker as if its node had died.
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use gongkao_storage::audit::{self, AuditRecord};
use gongkao_storage::jobs::{self as queue, FailOutcome, Job, StoredResult};
use gongkao_storage::{StoreError, accounts};
use rand::RngCore;
use serde::de::DeserializeOwned;
use time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::AppState;
use crate::services::Actor;

/// How long a claimed job stays with its worker without a progress report.
pub const LEASE: Duration = Duration::minutes(2);
/// How often an idle worker looks for due work (an enqueue in this process wakes one at once;
/// other nodes' enqueues and retries that come due are found by this poll).
pub const POLL: std::time::Duration = std::time::Duration::from_millis(500);

/// The file a job produces, kept in the `BlobStore` and downloaded by the job's owner.
#[derive(Debug, Clone)]
pub struct JobResult {
    /// The file name offered on download, e.g. `审计日志.xlsx`.
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Why a handler did not finish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobError {
    /// A failure, in Chinese for the owner; retried with backoff while attempts remain unless
    /// `retry` is false (bad input fails the same way every time).
    Failed { message: String, retry: bool },
    /// The handler stopped because [`JobContext::progress`] told it to: the owner cancelled,
    /// or the lease went to another worker. The runtime knows which.
    Stopped,
}

impl JobError {
    /// A failure no retry can fix.
    pub fn permanent(message: impl Into<String>) -> JobError {
        JobError::Failed { message: message.into(), retry: false }
    }

    pub fn message(&self) -> &str {
        match self {
            JobError::Failed { message, .. } => message,
            JobError::Stopped => "任务已中止",
        }
    }
}

/// A plain message is a failure worth retrying (the database or the disk may be back).
impl From<String> for JobError {
    fn from(message: String) -> JobError {
        JobError::Failed { message, retry: true }
    }
}

impl From<&str> for JobError {
    fn from(message: &str) -> JobError {
        JobError::from(message.to_owned())
    }
}

impl From<StoreError> for JobError {
    fn from(e: StoreError) -> JobError {
        tracing::warn!(error = %e, "job: storage error");
        JobError::from("数据库暂时不可用，稍后自动重试")
    }
}

impl From<crate::error::AppError> for JobError {
    fn from(e: crate::error::AppError) -> JobError {
        if let crate::error::AppError::Internal(detail) = &e {
            tracing::warn!(%detail, "job: internal error");
        }
        let retry = matches!(e, crate::error::AppError::Internal(_));
        JobError::Failed { message: e.message(), retry }
    }
}

/// The handler's input, from the job's JSON payload.
pub fn payload<T: DeserializeOwned>(job: &Job) -> Result<T, JobError> {
    serde_json::from_str(&job.payload).map_err(|e| {
        tracing::warn!(job = job.id, error = %e, "job: unreadable payload");
        JobError::permanent("任务参数无法读取")
    })
}

/// Why the runtime told a handler to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Cancelled,
    LeaseLost,
}

struct ContextInner {
    state: AppState,
    job_id: i64,
    holder: String,
    owner: Actor,
    stop: Mutex<Option<Stop>>,
    /// Audit entries the handler asked for, appended with the success in one transaction.
    on_success: Mutex<Vec<AuditRecord>>,
}

/// What a handler gets besides its job: progress reporting (which renews the lease and says
/// when to stop), the owner as an audit actor, and audit entries to write with its success.
#[derive(Clone)]
pub struct JobContext(Arc<ContextInner>);

impl JobContext {
    pub fn job_id(&self) -> i64 {
        self.0.job_id
    }

    /// The job's owner, as the actor of audit entries about the job's work.
    pub fn actor(&self) -> &Actor {
        &self.0.owner
    }

    /// Reports `done` of `total` with a status line for the owner's page and renews the
    /// lease. `Err(JobError::Stopped)` means stop now (return it with `?`): the owner asked to
    /// cancel, or another worker has taken the job over.
    pub async fn progress(&self, done: u64, total: u64, message: &str) -> Result<(), JobError> {
        if self.stopped() {
            return Err(JobError::Stopped);
        }
        let state = &self.0.state;
        let as_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let tx = state.store().write().await?;
        let reported =
            queue::progress(tx.conn(), self.0.job_id, &self.0.holder, as_i64(done), as_i64(total), Some(message), state.now(), LEASE).await;
        match reported {
            Ok(cancel) => {
                tx.commit().await?;
                if cancel {
                    self.set_stop(Stop::Cancelled);
                    return Err(JobError::Stopped);
                }
                Ok(())
            }
            Err(StoreError::Conflict) => {
                self.set_stop(Stop::LeaseLost);
                Err(JobError::Stopped)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Whether the handler has been told to stop (a later [`progress`](Self::progress) call
    /// would fail at once).
    pub fn stopped(&self) -> bool {
        self.stop().is_some()
    }

    /// An audit entry to append when, and only if, the job's success is recorded: the record
    /// of the work done lands in the same transaction as its result.
    pub fn audit_on_success(&self, record: AuditRecord) {
        if let Ok(mut pending) = self.0.on_success.lock() {
            pending.push(record);
        }
    }

    fn stop(&self) -> Option<Stop> {
        self.0.stop.lock().map(|s| *s).unwrap_or(None)
    }

    fn set_stop(&self, why: Stop) {
        if let Ok(mut s) = self.0.stop.lock() {
            s.get_or_insert(why);
        }
    }

    fn take_audit(&self) -> Vec<AuditRecord> {
        self.0.on_success.lock().map(|mut p| std::mem::take(&mut *p)).unwrap_or_default()
    }
}

type HandlerFuture = Pin<Box<dyn Future<Output = Result<Option<JobResult>, JobError>> + Send>>;
type Handler = Arc<dyn Fn(AppState, Job, JobContext) -> HandlerFuture + Send + Sync>;

/// Job kinds this process can run, each with its handler. A worker claims only these kinds, so
/// nodes of different versions can share one queue.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: BTreeMap<String, Handler>,
}

/// The kind of the background audit-log export.
pub const AUDIT_EXPORT: &str = "audit.export";

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    /// The kinds the product ships.
    pub fn standard() -> Registry {
        let mut r = Registry::new();
        r.register(AUDIT_EXPORT, crate::services::exports::audit_log_job);
        r.register(crate::services::tickets::CENTRE_TICKETS_JOB, crate::services::tickets::centre_tickets_job);
        r
    }

    pub fn register<F, Fut>(&mut self, kind: &str, handler: F) -> &mut Registry
    where
        F: Fn(AppState, Job, JobContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Option<JobResult>, JobError>> + Send + 'static,
    {
        let handler: Handler = Arc::new(move |state, job, ctx| Box::pin(handler(state, job, ctx)));
        self.handlers.insert(kind.to_owned(), handler);
        self
    }

    pub fn kinds(&self) -> Vec<&str> {
        self.handlers.keys().map(String::as_str).collect()
    }
}

/// The Chinese name of a job kind for the owner's page; an unknown kind is shown as it is.
pub fn kind_label(kind: &str) -> &str {
    match kind {
        AUDIT_EXPORT => "导出审计日志",
        crate::services::tickets::CENTRE_TICKETS_JOB => "批量打印准考证",
        other => other,
    }
}

/// The Chinese name of a job's state.
pub fn status_label(status: &str, cancel_requested: bool) -> &'static str {
    match status {
        queue::status::QUEUED => "排队中",
        queue::status::RUNNING if cancel_requested => "正在取消",
        queue::status::RUNNING => "运行中",
        queue::status::SUCCEEDED => "已完成",
        queue::status::FAILED => "失败",
        queue::status::CANCELLED => "已取消",
        _ => "未知",
    }
}

/// The workers of this process; stop them with [`Workers::shutdown`] (dropping this stops them
/// too, without waiting).
pub struct Workers {
    node: String,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Workers {
    /// This node's id, the prefix of every lease its workers hold.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Asks the workers to stop and waits up to `grace` for running jobs to finish; a job still
    /// running after that is abandoned, and its lease runs out so another node takes it over.
    pub async fn shutdown(self, grace: std::time::Duration) {
        let _ = self.stop.send(true);
        let mut tasks = self.tasks;
        let all = async {
            for t in tasks.iter_mut() {
                let _ = t.await;
            }
        };
        if tokio::time::timeout(grace, all).await.is_err() {
            for t in &tasks {
                t.abort();
            }
        }
    }
}

/// Starts `n` workers for this process under a fresh random node id.
pub fn spawn_workers(state: &AppState, registry: Registry, n: usize) -> Workers {
    let mut id = [0u8; 6];
    rand::rng().fill_bytes(&mut id);
    let node = format!("node-{}", hex::encode(id));
    let (stop, _) = watch::channel(false);
    let registry = Arc::new(registry);
    let tasks = (0..n)
        .map(|i| {
            let worker = Worker { state: state.clone(), registry: registry.clone(), holder: format!("{node}/{i}") };
            tokio::spawn(worker.run(stop.subscribe()))
        })
        .collect();
    tracing::info!(%node, workers = n, kinds = ?registry.kinds(), "background job workers started");
    Workers { node, stop, tasks }
}

/// Aborts the handler's task when the worker is dropped or aborted mid-job.
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

struct Worker {
    state: AppState,
    registry: Arc<Registry>,
    /// `<node>/<n>`: each worker holds its own leases, so one worker of a node can take over a
    /// job another worker of the same node let lapse, and the stale worker is still fenced off.
    holder: String,
}

impl Worker {
    async fn run(self, mut stop: watch::Receiver<bool>) {
        let kinds: Vec<String> = self.registry.kinds().into_iter().map(str::to_owned).collect();
        loop {
            if *stop.borrow() {
                break;
            }
            match self.claim(&kinds).await {
                Ok(Some(job)) => {
                    self.run_one(job).await;
                    continue;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(holder = %self.holder, error = %e, "job: claim failed"),
            }
            tokio::select! {
                _ = self.state.job_wakeup().notified() => {}
                _ = tokio::time::sleep(POLL) => {}
                // Dropping `Workers` without `shutdown` stops the workers too.
                changed = stop.changed() => if changed.is_err() { break },
            }
        }
    }

    async fn claim(&self, kinds: &[String]) -> Result<Option<Job>, StoreError> {
        let kinds: Vec<&str> = kinds.iter().map(String::as_str).collect();
        let tx = self.state.store().write().await?;
        let job = queue::claim(tx.conn(), &self.holder, &kinds, self.state.now(), LEASE).await?;
        tx.commit().await?;
        Ok(job)
    }

    async fn run_one(&self, job: Job) {
        let owner = owner_actor(&self.state, &job.owner, &self.holder).await;
        let ctx = JobContext(Arc::new(ContextInner {
            state: self.state.clone(),
            job_id: job.id,
            holder: self.holder.clone(),
            owner,
            stop: Mutex::new(None),
            on_success: Mutex::new(Vec::new()),
        }));
        tracing::info!(job = job.id, kind = %job.kind, attempt = job.attempts, holder = %self.holder, "job: started");
        if job.cancel_requested {
            // Cancelled while its previous holder was gone: end it without running.
            self.finish_cancelled(&job, &ctx).await;
            return;
        }
        if job.attempts > job.max_attempts {
            // Only a takeover claims past the limit: its earlier runs died with their node.
            self.record_failure(&job, &ctx, "任务执行多次中断（节点退出或失联），已停止重试", false).await;
            return;
        }
        let Some(handler) = self.registry.handlers.get(&job.kind).cloned() else {
            self.record_failure(&job, &ctx, "本节点不支持该任务类型", false).await;
            return;
        };
        // Its own task, so a panicking handler fails its job instead of killing the worker.
        let mut task = AbortOnDrop(tokio::spawn(handler(self.state.clone(), job.clone(), ctx.clone())));
        let outcome = match (&mut task.0).await {
            Ok(outcome) => outcome,
            Err(e) => {
                tracing::error!(job = job.id, error = %e, "job: handler panicked");
                Err(JobError::from("任务执行异常终止"))
            }
        };
        match (outcome, ctx.stop()) {
            (_, Some(Stop::LeaseLost)) => {
                tracing::warn!(job = job.id, holder = %self.holder, "job: lease lost to another worker; result discarded");
            }
            (Ok(result), _) => self.record_success(&job, &ctx, result).await,
            (Err(_), Some(Stop::Cancelled)) => self.finish_cancelled(&job, &ctx).await,
            (Err(JobError::Failed { message, retry }), None) => self.record_failure(&job, &ctx, &message, retry).await,
            (Err(JobError::Stopped), None) => self.record_failure(&job, &ctx, "任务已中止", true).await,
        }
    }

    async fn record_success(&self, job: &Job, ctx: &JobContext, result: Option<JobResult>) {
        let stored = match result {
            Some(r) => {
                let blobs = self.state.blobs();
                let JobResult { name, content_type, bytes } = r;
                let size = bytes.len();
                match tokio::task::spawn_blocking(move || blobs.put(&bytes)).await {
                    Ok(Ok(hash)) => Some((name, content_type, hash, size)),
                    Ok(Err(e)) => {
                        tracing::error!(job = job.id, error = %e, "job: result file not stored");
                        return self.record_failure(job, ctx, "保存结果文件失败", true).await;
                    }
                    Err(e) => {
                        tracing::error!(job = job.id, error = %e, "job: result file not stored");
                        return self.record_failure(job, ctx, "保存结果文件失败", true).await;
                    }
                }
            }
            None => None,
        };
        let summary = match &stored {
            Some((name, _, _, size)) => format!("{}：已完成，结果 {name}（{size} 字节）", kind_label(&job.kind)),
            None => format!("{}：已完成", kind_label(&job.kind)),
        };
        let result_ref = stored.as_ref().map(|(name, content_type, hash, _)| StoredResult { name, content_type, hash });
        let mut entries = ctx.take_audit();
        entries.push(ctx.actor().record("job.succeed", format!("job:{}", job.id), summary));
        let done = async {
            let tx = self.state.store().write().await?;
            queue::succeed(tx.conn(), job.id, &self.holder, result_ref, self.state.now()).await?;
            for e in entries {
                audit::append(&tx, self.state.now(), e).await?;
            }
            tx.commit().await
        };
        match done.await {
            Ok(()) => tracing::info!(job = job.id, "job: succeeded"),
            Err(StoreError::Conflict) => tracing::warn!(job = job.id, "job: lease lost before the success was recorded"),
            Err(e) => tracing::error!(job = job.id, error = %e, "job: success not recorded; the job will run again"),
        }
    }

    async fn record_failure(&self, job: &Job, ctx: &JobContext, message: &str, retry: bool) {
        let target = format!("job:{}", job.id);
        let done = async {
            let tx = self.state.store().write().await?;
            let now = self.state.now();
            let outcome = if retry {
                queue::fail(tx.conn(), job.id, &self.holder, message, now).await?
            } else {
                queue::fail_for_good(tx.conn(), job.id, &self.holder, message, now).await?
            };
            let label = kind_label(&job.kind);
            match outcome {
                // A retry is not an end: the log names a job's end once.
                FailOutcome::Retry { .. } => {}
                FailOutcome::Failed => {
                    let summary = format!("{label}：第 {} 次执行失败，不再重试：{message}", job.attempts);
                    let mut rec = ctx.actor().record("job.fail", target.clone(), summary);
                    rec.outcome = "failed".to_owned();
                    audit::append(&tx, now, rec).await?;
                }
                FailOutcome::Cancelled => {
                    audit::append(&tx, now, ctx.actor().record("job.cancelled", target.clone(), format!("{label}：已按要求停止"))).await?;
                }
            }
            tx.commit().await?;
            Ok::<_, StoreError>(outcome)
        };
        match done.await {
            Ok(outcome) => tracing::info!(job = job.id, ?outcome, error = message, "job: failed run recorded"),
            Err(StoreError::Conflict) => tracing::warn!(job = job.id, "job: lease lost before the failure was recorded"),
            Err(e) => tracing::error!(job = job.id, error = %e, "job: failure not recorded; the lease will run out"),
        }
    }

    async fn finish_cancelled(&self, job: &Job, ctx: &JobContext) {
        let done = async {
            let tx = self.state.store().write().await?;
            let now = self.state.now();
            queue::finish_cancelled(tx.conn(), job.id, &self.holder, now).await?;
            let summary = format!("{}：已按要求停止", kind_label(&job.kind));
            audit::append(&tx, now, ctx.actor().record("job.cancelled", format!("job:{}", job.id), summary)).await?;
            tx.commit().await
        };
        match done.await {
            Ok(()) => tracing::info!(job = job.id, "job: cancelled"),
            Err(e) => tracing::warn!(job = job.id, error = %e, "job: cancellation not recorded"),
        }
    }
}

/// The owner as an audit actor: their role and jurisdiction as the account has them now, and
/// the worker as the source address.
async fn owner_actor(state: &AppState, owner: &str, holder: &str) -> Actor {
    let account = accounts::by_username(state.store().conn(), owner).await.ok().flatten();
    Actor {
        username: owner.to_owned(),
        role: account.as_ref().map(|a| a.role.clone()).unwrap_or_default(),
        jurisdiction: account
            .as_ref()
            .and_then(|a| a.agency_code.clone().or_else(|| a.unit_id.map(|u| format!("unit:{u}"))))
            .unwrap_or_default(),
        client_ip: format!("job:{holder}"),
    }
}
