//! The owner's side of background jobs (后台任务): cancelling one and reading its result. The
//! route's target check has already made sure the caller owns the job.
use gongkao_storage::audit;
use gongkao_storage::jobs::{self, CancelOutcome, Job, status};

use super::Actor;
use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::jobs::kind_label;

/// Cancels a queued job at once, or asks a running one to stop at its next progress report.
pub async fn cancel(state: &AppState, actor: &Actor, id: i64) -> AppResult<CancelOutcome> {
    let tx = state.store().write().await?;
    let now = state.now();
    let outcome = match jobs::request_cancel(tx.conn(), id, &actor.username, now).await {
        Ok(o) => o,
        Err(gongkao_storage::StoreError::Conflict) => return Err(AppError::Conflict("任务已结束，无法取消".to_owned())),
        Err(e) => return Err(e.into()),
    };
    let kind = jobs::get(tx.conn(), id).await?.map(|j| kind_label(&j.kind).to_owned()).unwrap_or_default();
    let summary = match outcome {
        CancelOutcome::Cancelled => format!("{kind}：尚未开始，已取消"),
        CancelOutcome::Requested => format!("{kind}：正在运行，已请求停止"),
    };
    audit::append(&tx, now, actor.record("job.cancel", format!("job:{id}"), summary)).await?;
    tx.commit().await?;
    Ok(outcome)
}

/// The result file of a succeeded job, read back from the `BlobStore` and checked against its
/// hash; every download is audited, since results may hold personal data.
pub async fn result(state: &AppState, actor: &Actor, id: i64) -> AppResult<(Job, Vec<u8>)> {
    let job = jobs::get(state.store().conn(), id).await?.ok_or(AppError::NotFound)?;
    if job.owner != actor.username {
        return Err(AppError::Forbidden);
    }
    let Some(hash) = job.result_hash.clone().filter(|_| job.status == status::SUCCEEDED) else {
        return Err(AppError::Conflict("该任务没有可下载的结果".to_owned()));
    };
    let blobs = state.blobs();
    let bytes = tokio::task::spawn_blocking(move || blobs.get(&hash))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Internal(format!("job {id} result: {e}")))?;
    let tx = state.store().write().await?;
    let summary = format!("{}：下载结果 {}（{} 字节）", kind_label(&job.kind), job.result_name.clone().unwrap_or_default(), bytes.len());
    audit::append(&tx, state.now(), actor.record("job.result.download", format!("job:{id}"), summary)).await?;
    tx.commit().await?;
    Ok((job, bytes))
}
