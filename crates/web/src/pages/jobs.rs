//! The signed-in user's background jobs (后台任务): the list with progress, one job, cancelling,
//! and downloading the result. The route table's `Job` target lets only the owner in.
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use gongkao_domain::campaign::format_shanghai;
use gongkao_storage::from_ms;
use gongkao_storage::jobs::{self as queue, CancelOutcome, Job, status};

use super::agencies::MsgQuery;
use super::{html, see_other};
use crate::AppState;
use crate::auth::RequestInfo;
use crate::error::{AppError, AppResult};
use crate::jobs::{kind_label, status_label};
use crate::policy::Principal;
use crate::services::{self, Actor};
use crate::view::{Chrome, notice, render};

/// How many of the owner's jobs the list shows, newest first.
const LIST_LIMIT: u64 = 50;

pub struct JobRow {
    pub id: i64,
    pub kind: String,
    pub status: &'static str,
    pub status_class: &'static str,
    /// Queued or running: the page refreshes itself while any row is.
    pub active: bool,
    pub done: i64,
    pub total: i64,
    pub progress_text: String,
    /// The handler's status line, the failure, or when a retry is due.
    pub note: String,
    pub attempts: String,
    pub created: String,
    pub started: String,
    pub finished: String,
    pub can_cancel: bool,
    pub result_name: Option<String>,
}

fn when(ms: Option<i64>) -> String {
    ms.map(|v| format_shanghai(from_ms(v))).unwrap_or_default()
}

impl JobRow {
    fn of(j: &Job) -> JobRow {
        let active = j.status == status::QUEUED || j.status == status::RUNNING;
        let progress_text = if j.progress_total > 0 {
            let pct = (j.progress_done.saturating_mul(100) / j.progress_total).clamp(0, 100);
            format!("{} / {}（{pct}%）", j.progress_done, j.progress_total)
        } else if j.status == status::RUNNING {
            "进行中".to_owned()
        } else {
            String::new()
        };
        let error = j.error.clone().unwrap_or_default();
        let note = match j.status.as_str() {
            status::FAILED => error,
            status::QUEUED if j.attempts > 0 => {
                format!("第 {} 次执行失败：{error}；将于 {} 后自动重试", j.attempts, format_shanghai(from_ms(j.run_after)))
            }
            status::QUEUED => "等待执行".to_owned(),
            // The handler's last line ("正在生成…") would read as if it were still at work.
            status::SUCCEEDED => j.result_name.as_ref().map_or_else(|| "已完成".to_owned(), |n| format!("结果文件：{n}")),
            status::CANCELLED => "已按提交人要求取消".to_owned(),
            _ => j.message.clone().unwrap_or_default(),
        };
        JobRow {
            id: j.id,
            kind: kind_label(&j.kind).to_owned(),
            status: status_label(&j.status, j.cancel_requested),
            status_class: match j.status.as_str() {
                status::SUCCEEDED => "open",
                status::FAILED => "refused",
                status::CANCELLED => "closed",
                _ => "pending",
            },
            active,
            done: j.progress_done,
            total: j.progress_total,
            progress_text,
            note,
            attempts: format!("{} / {}", j.attempts, j.max_attempts),
            created: when(Some(j.created_at)),
            started: when(j.started_at),
            finished: when(j.finished_at),
            can_cancel: active && !j.cancel_requested,
            result_name: j.result_name.clone().filter(|_| j.status == status::SUCCEEDED && j.result_hash.is_some()),
        }
    }
}

#[derive(Template)]
#[template(path = "jobs.html")]
struct ListPage {
    chrome: Chrome,
    jobs: Vec<JobRow>,
    any_active: bool,
}

pub async fn list(State(state): State<AppState>, p: Principal, Query(q): Query<MsgQuery>) -> AppResult<Response> {
    let jobs: Vec<JobRow> = queue::list_for_owner(state.store().conn(), &p.username, LIST_LIMIT).await?.iter().map(JobRow::of).collect();
    let page = ListPage {
        chrome: Chrome::for_principal(&p, "/jobs").with_notice(notice(q.msg.as_deref())),
        any_active: jobs.iter().any(|j| j.active),
        jobs,
    };
    Ok(html(render(&page)))
}

#[derive(Template)]
#[template(path = "job.html")]
struct DetailPage {
    chrome: Chrome,
    j: JobRow,
}

pub async fn show(State(state): State<AppState>, p: Principal, Path(id): Path<i64>, Query(q): Query<MsgQuery>) -> AppResult<Response> {
    let job = queue::get(state.store().conn(), id).await?.ok_or(AppError::NotFound)?;
    // The route's target check already did this; a handler never relies on one check alone.
    if job.owner != p.username {
        return Err(AppError::Forbidden);
    }
    let page = DetailPage { chrome: Chrome::for_principal(&p, "/jobs").with_notice(notice(q.msg.as_deref())), j: JobRow::of(&job) };
    Ok(html(render(&page)))
}

pub async fn cancel(State(state): State<AppState>, p: Principal, info: RequestInfo, Path(id): Path<i64>) -> AppResult<Response> {
    let msg = match services::jobs::cancel(&state, &Actor::of(&p, &info), id).await? {
        CancelOutcome::Cancelled => "job_cancelled",
        CancelOutcome::Requested => "job_cancel_requested",
    };
    Ok(see_other(&format!("/jobs/{id}?msg={msg}")))
}

/// The result file as an attachment, never cached: results may hold personal data.
pub async fn result(State(state): State<AppState>, p: Principal, info: RequestInfo, Path(id): Path<i64>) -> AppResult<Response> {
    let (job, bytes) = services::jobs::result(&state, &Actor::of(&p, &info), id).await?;
    let name = job.result_name.unwrap_or_else(|| format!("job-{id}"));
    let extension = name.rsplit_once('.').map(|(_, e)| e.to_owned()).filter(|e| !e.is_empty()).unwrap_or_else(|| "bin".to_owned());
    Ok((
        [
            (header::CONTENT_TYPE, job.result_content_type.unwrap_or_else(|| "application/octet-stream".to_owned())),
            (header::CONTENT_DISPOSITION, super::files::content_disposition("attachment", &name, &extension)),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}
