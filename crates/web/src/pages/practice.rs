//! The applicant's practice pages (模拟练习): the subjects and past attempts, starting an
//! attempt, the paper (the exam's page and script, pointed at `/practice/{id}/api/`), the JSON
//! routes the script calls, and the feedback after submission. Every route runs on the
//! applicant's own account session; the route table's `PracticeAttempt` target keeps each
//! attempt to the applicant who started it.
use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::{FormPairs, html, html_status, see_other};
use crate::AppState;
use crate::auth::RequestInfo;
use crate::error::{AppError, AppResult};
use crate::policy::Principal;
use crate::services::Actor;
use crate::services::delivery::SaveRequest;
use crate::services::practice::{self, AttemptRow, Feedback, SubjectChoice};
use crate::view::{Chrome, render};

#[derive(Template)]
#[template(path = "practice.html")]
struct IndexPage {
    chrome: Chrome,
    closed: Option<String>,
    error: Option<String>,
    max_items: usize,
    level_label: &'static str,
    work_type: String,
    choices: Vec<SubjectChoice>,
    attempts: Vec<AttemptRow>,
}

/// The page; when the applicant may not practise (not admitted, or in no training class of
/// the current campaign) it says why and offers nothing to start.
async fn index_page(state: &AppState, p: &Principal, error: Option<String>) -> AppResult<String> {
    let chrome = Chrome::for_principal(p, "/practice");
    let page = match practice::gate(state, p.applicant_id).await? {
        Err(reason) => {
            let page = IndexPage {
                chrome,
                closed: Some(reason),
                error: None,
                max_items: gongkao_domain::exam::practice::MAX_PRACTICE_ITEMS,
                level_label: "",
                work_type: String::new(),
                choices: Vec::new(),
                attempts: Vec::new(),
            };
            return Ok(render(&page));
        }
        Ok(app) => {
            let o = practice::overview(state, &app).await?;
            IndexPage {
                chrome,
                closed: None,
                error,
                max_items: gongkao_domain::exam::practice::MAX_PRACTICE_ITEMS,
                level_label: o.level_label,
                work_type: o.work_type,
                choices: o.choices,
                attempts: o.attempts,
            }
        }
    };
    Ok(render(&page))
}

pub async fn index(State(state): State<AppState>, p: Principal) -> AppResult<Response> {
    Ok(html(index_page(&state, &p, None).await?))
}

pub async fn start(State(state): State<AppState>, p: Principal, info: RequestInfo, form: FormPairs) -> AppResult<Response> {
    match practice::start(&state, p.applicant_id, &Actor::of(&p, &info), &form.0).await {
        Ok(id) => Ok(see_other(&format!("/practice/{id}"))),
        // Refused (the gate, an unknown subject, an empty pool): the page again with the reason.
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            Ok(html_status(e.status(), index_page(&state, &p, Some(e.message())).await?))
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "practice_paper.html")]
struct PaperPage {
    csrf: String,
    attempt_id: i64,
    name: String,
    subject: String,
    item_count: usize,
    total: String,
}

pub async fn paper_page(State(state): State<AppState>, p: Principal, Path(id): Path<i64>) -> AppResult<Response> {
    let head = practice::head(&state, id).await?;
    if head.submitted {
        return Ok(see_other(&format!("/practice/{id}/feedback")));
    }
    let page = PaperPage {
        csrf: p.csrf_token.clone(),
        attempt_id: id,
        name: p.display_name.clone(),
        subject: head.subject,
        item_count: head.item_count,
        total: head.total,
    };
    Ok(html(render(&page)))
}

pub async fn state(State(state): State<AppState>, Path(id): Path<i64>) -> Response {
    json_result(practice::practice_state(&state, id).await)
}

pub async fn paper(State(state): State<AppState>, Path(id): Path<i64>) -> Response {
    json_result(practice::paper(&state, id).await)
}

pub async fn item(State(state): State<AppState>, Path(id): Path<i64>, Query(q): Query<super::exam::ItemQuery>) -> Response {
    match q.position.as_deref().map(str::parse::<usize>) {
        Some(Ok(position)) => json_result(practice::item(&state, id, position).await),
        _ => AppError::field("position", "题号：应为从0开始的题目序号").json(),
    }
}

pub async fn save(State(state): State<AppState>, Path(id): Path<i64>, body: axum::body::Bytes) -> Response {
    match serde_json::from_slice::<SaveRequest>(&body) {
        Ok(request) => json_result(practice::save(&state, id, request).await),
        Err(e) => AppError::field("saves", format!("作答数据格式不正确：{e}")).json(),
    }
}

pub async fn submit(State(state): State<AppState>, p: Principal, info: RequestInfo, Path(id): Path<i64>) -> Response {
    json_result(practice::submit(&state, &Actor::of(&p, &info), id).await)
}

/// The script's routes answer in JSON, errors included (the Chinese message and its fields).
fn json_result<T: serde::Serialize>(result: AppResult<T>) -> Response {
    match result {
        Ok(value) => ([(header::CACHE_CONTROL, "no-store")], Json(value)).into_response(),
        Err(e) => e.json(),
    }
}

#[derive(Template)]
#[template(path = "practice_feedback.html")]
struct FeedbackPage {
    chrome: Chrome,
    f: Feedback,
}

pub async fn feedback(State(state): State<AppState>, p: Principal, Path(id): Path<i64>) -> AppResult<Response> {
    match practice::feedback(&state, id).await {
        Ok(f) => {
            let page = FeedbackPage { chrome: Chrome::for_principal(&p, "/practice"), f };
            Ok(([(header::CACHE_CONTROL, "private, no-store")], html(render(&page))).into_response())
        }
        // Not submitted yet: back to the paper.
        Err(AppError::Conflict(_)) => Ok(see_other(&format!("/practice/{id}"))),
        Err(e) => Err(e),
    }
}
