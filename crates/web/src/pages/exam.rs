//! The candidate's exam pages at the seat (人机对话考试): login with ticket number, ID number
//! and the room's access code, the identity check, the exam page (its script talks to the JSON
//! routes under `/exam/api/`), the receipt. Every route but the login runs on a seat session.
use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use gongkao_domain::campaign::format_shanghai;
use gongkao_storage::from_ms;

use super::session::{pre_csrf, with_cookie};
use super::{FormPairs, html, html_status, see_other};
use crate::AppState;
use crate::auth::{RequestInfo, cookie, set_cookie};
use crate::error::{AppError, AppResult};
use crate::services::delivery::{self, EXAM_COOKIE, SaveRequest, SeatSession};
use crate::view::render;

#[derive(Template)]
#[template(path = "exam_login.html")]
struct LoginPage {
    csrf: String,
    error: Option<String>,
    ticket_no: String,
    id_number: String,
}

pub async fn login_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (token, set) = pre_csrf(&state, &headers);
    let page = LoginPage { csrf: token, error: None, ticket_no: String::new(), id_number: String::new() };
    with_cookie(html(render(&page)), set)
}

pub async fn login(State(state): State<AppState>, info: RequestInfo, parts: axum::http::request::Parts, form: FormPairs) -> Response {
    let headers = parts.headers.clone();
    let browser = crate::auth::browser_facts(&state, &parts);
    match delivery::login(&state, &form.0, &info.client_ip, &browser).await {
        Ok(ok) => {
            let c = set_cookie(&state, EXAM_COOKIE, &ok.token, None);
            ([(header::SET_COOKIE, c)], see_other("/exam/identity")).into_response()
        }
        Err(e) => {
            let (token, set) = pre_csrf(&state, &headers);
            let page =
                LoginPage { csrf: token, error: Some(e.message()), ticket_no: form.get("ticket_no"), id_number: form.get("id_number") };
            with_cookie(html_status(e.status(), render(&page)), set)
        }
    }
}

pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    if let Some(token) = cookie(&headers, EXAM_COOKIE) {
        delivery::logout(&state, token).await?;
    }
    let c = set_cookie(&state, EXAM_COOKIE, "", Some(0));
    Ok(([(header::SET_COOKIE, c)], see_other("/exam/login")).into_response())
}

#[derive(Template)]
#[template(path = "exam_identity.html")]
struct IdentityPage {
    csrf: String,
    id: delivery::Identity,
}

pub async fn identity(State(state): State<AppState>, s: SeatSession) -> AppResult<Response> {
    let id = delivery::identity(&state, s.attempt_id).await?;
    Ok(html(render(&IdentityPage { csrf: s.csrf, id })))
}

pub async fn confirm(State(state): State<AppState>, s: SeatSession) -> AppResult<Response> {
    delivery::confirm_identity(&state, s.attempt_id).await?;
    Ok(see_other("/exam/paper"))
}

/// The candidate's own photo, for the identity check.
pub async fn photo(State(state): State<AppState>, s: SeatSession) -> AppResult<Response> {
    let id = delivery::identity(&state, s.attempt_id).await?;
    let bytes = crate::services::files::photo_of(&state, id.application_id).await?.ok_or(AppError::NotFound)?;
    Ok(([(header::CONTENT_TYPE, "image/jpeg"), (header::CACHE_CONTROL, "private, no-store")], bytes).into_response())
}

#[derive(Template)]
#[template(path = "exam_paper.html")]
struct PaperPage {
    csrf: String,
    attempt_id: i64,
    name: String,
    ticket_no: String,
    subject: String,
    seat: i32,
}

pub async fn paper_page(State(state): State<AppState>, s: SeatSession) -> AppResult<Response> {
    let id = delivery::identity(&state, s.attempt_id).await?;
    if !id.confirmed {
        return Ok(see_other("/exam/identity"));
    }
    let page =
        PaperPage { csrf: s.csrf, attempt_id: s.attempt_id, name: id.name, ticket_no: id.ticket_no, subject: id.subject, seat: id.seat };
    Ok(html(render(&page)))
}

#[derive(serde::Deserialize)]
pub struct StateQuery {
    /// Seconds the waiting page lets the server hold the answer until the room starts.
    pub wait: Option<u64>,
}

pub async fn state(State(state): State<AppState>, s: SeatSession, axum::extract::Query(q): axum::extract::Query<StateQuery>) -> Response {
    match q.wait.filter(|w| *w > 0) {
        Some(w) => json_result(delivery::exam_state_when_started(&state, s.attempt_id, std::time::Duration::from_secs(w)).await),
        None => json_result(delivery::exam_state(&state, s.attempt_id).await),
    }
}

pub async fn paper(State(state): State<AppState>, s: SeatSession) -> Response {
    json_result(delivery::paper(&state, s.attempt_id).await)
}

#[derive(serde::Deserialize)]
pub struct ItemQuery {
    pub position: Option<String>,
}

pub async fn item(State(state): State<AppState>, s: SeatSession, axum::extract::Query(q): axum::extract::Query<ItemQuery>) -> Response {
    match q.position.as_deref().map(str::parse::<usize>) {
        Some(Ok(position)) => json_result(delivery::item(&state, s.attempt_id, position).await),
        _ => AppError::field("position", "题号：应为从0开始的题目序号").json(),
    }
}

pub async fn save(State(state): State<AppState>, s: SeatSession, body: axum::body::Bytes) -> Response {
    let request = serde_json::from_slice::<SaveRequest>(&body).map_err(|e| AppError::field("saves", format!("作答数据格式不正确：{e}")));
    match request {
        Ok(request) => json_result(delivery::save(&state, &s, request).await),
        Err(e) => e.json(),
    }
}

pub async fn submit(State(state): State<AppState>, s: SeatSession, info: RequestInfo) -> Response {
    json_result(delivery::submit(&state, &s, &info.client_ip).await)
}

/// The script's routes answer in JSON, errors included (with the Chinese message and fields).
fn json_result<T: serde::Serialize>(result: AppResult<T>) -> Response {
    match result {
        Ok(value) => ([(header::CACHE_CONTROL, "no-store")], Json(value)).into_response(),
        Err(e) => e.json(),
    }
}

#[derive(Template)]
#[template(path = "exam_receipt.html")]
struct ReceiptPage {
    r: delivery::Receipt,
    submitted_at: String,
    submitted_by: &'static str,
}

pub async fn receipt(State(state): State<AppState>, s: SeatSession) -> AppResult<Response> {
    let r = delivery::receipt(&state, s.attempt_id).await?;
    let submitted_at = format_shanghai(from_ms(r.submitted_at));
    let submitted_by = match r.submitted_by.as_str() {
        "clock" => "考试时间到，系统自动交卷",
        _ if r.status_label == "违纪终止" => "监考员按违纪处理终止考试",
        _ => "考生交卷",
    };
    Ok(html(render(&ReceiptPage { r, submitted_at, submitted_by })))
}
