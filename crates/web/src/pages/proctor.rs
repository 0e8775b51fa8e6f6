//! The exam-day pages of proctors (监考员), the centre chief (主考) and the exam officer: the
//! rooms of the agency's centres per sitting with their progress, and one room's console, which
//! its script refreshes from the status route every few seconds.
use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use gongkao_domain::exam::delivery::{VIOLATIONS, ViolationCategory};
use serde::Deserialize;

use super::{FormPairs, html, html_status, see_other};
use crate::AppState;
use crate::auth::RequestInfo;
use crate::error::{AppError, AppResult};
use crate::policy::{Principal, Scope};
use crate::services::Actor;
use crate::services::delivery::{self, Console, RoomAction, SeatAction};
use crate::view::{Chrome, notice, render};

#[derive(Deserialize)]
pub struct RoomQuery {
    pub sitting: Option<i64>,
    pub msg: Option<String>,
}

pub struct RoomLink {
    pub sitting: String,
    pub centre: String,
    pub room: String,
    pub href: String,
    pub seated: usize,
    /// e.g. "答题中 28，已交卷 1，未登录 1": the centre chief's view of every room at once.
    pub progress: String,
}

#[derive(Template)]
#[template(path = "proctor_rooms.html")]
struct RoomsPage {
    chrome: Chrome,
    rooms: Vec<RoomLink>,
}

/// The rooms of the caller's centres for each sitting of their agencies, with each room's
/// progress: the centre chief's page of all rooms.
pub async fn index(State(state): State<AppState>, p: Principal, scope: Scope) -> AppResult<Response> {
    let rooms = delivery::room_overview(&state, scope.agency_filter().as_deref())
        .await?
        .into_iter()
        .map(|r| RoomLink {
            href: format!("/proctor/rooms/{}?sitting={}", r.room_id, r.sitting_id),
            sitting: r.sitting,
            centre: r.centre,
            room: r.room,
            seated: r.seated,
            progress: r.progress,
        })
        .collect();
    Ok(html(render(&RoomsPage { chrome: Chrome::for_principal(&p, "/proctor"), rooms })))
}

#[derive(Template)]
#[template(path = "proctor_console.html")]
struct ConsolePage {
    chrome: Chrome,
    c: Console,
    error: Option<String>,
    violations: &'static [ViolationCategory],
}

fn sitting_of(q: &RoomQuery) -> AppResult<i64> {
    q.sitting.ok_or_else(|| AppError::field("sitting", "场次：请从考场列表进入"))
}

async fn console_page(
    state: &AppState,
    p: &Principal,
    room: i64,
    sitting: i64,
    msg: Option<&str>,
    error: Option<String>,
) -> AppResult<String> {
    let c = delivery::console(state, sitting, room).await?;
    Ok(render(&ConsolePage { chrome: Chrome::for_principal(p, "/proctor").with_notice(notice(msg)), c, error, violations: &VIOLATIONS }))
}

pub async fn console(
    State(state): State<AppState>,
    p: Principal,
    Path(room): Path<i64>,
    Query(q): Query<RoomQuery>,
) -> AppResult<Response> {
    let sitting = sitting_of(&q)?;
    Ok(html(console_page(&state, &p, room, sitting, q.msg.as_deref(), None).await?))
}

pub async fn record_pdf(
    State(state): State<AppState>,
    p: Principal,
    info: RequestInfo,
    Path(room): Path<i64>,
    Query(q): Query<RoomQuery>,
) -> AppResult<Response> {
    let bytes = delivery::room_record_pdf(&state, &Actor::of(&p, &info), sitting_of(&q)?, room).await?;
    Ok(super::pdf("room-record.pdf", bytes))
}

/// The console's data for its script.
pub async fn status(State(state): State<AppState>, Path(room): Path<i64>, Query(q): Query<RoomQuery>) -> AppResult<Response> {
    let c = delivery::console(&state, sitting_of(&q)?, room).await?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(c)).into_response())
}

fn form_sitting(form: &FormPairs) -> AppResult<i64> {
    form.get("sitting").parse().map_err(|_| AppError::field("sitting", "场次：请从考场列表进入"))
}

async fn after(state: &AppState, p: &Principal, room: i64, sitting: i64, result: AppResult<()>, ok: &str) -> AppResult<Response> {
    match result {
        Ok(()) => Ok(see_other(&format!("/proctor/rooms/{room}?sitting={sitting}&msg={ok}"))),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let status = e.status();
            Ok(html_status(status, console_page(state, p, room, sitting, None, Some(e.message())).await?))
        }
        Err(e) => Err(e),
    }
}

async fn room_action(
    state: AppState,
    p: Principal,
    info: RequestInfo,
    room: i64,
    form: FormPairs,
    action: RoomAction,
    ok: &str,
) -> AppResult<Response> {
    let sitting = form_sitting(&form)?;
    let result = delivery::room_action(&state, &Actor::of(&p, &info), sitting, room, action, &form.0).await;
    after(&state, &p, room, sitting, result, ok).await
}

pub async fn start(
    State(state): State<AppState>,
    p: Principal,
    info: RequestInfo,
    Path(room): Path<i64>,
    form: FormPairs,
) -> AppResult<Response> {
    room_action(state, p, info, room, form, RoomAction::Start, "room_started").await
}

pub async fn pause(
    State(state): State<AppState>,
    p: Principal,
    info: RequestInfo,
    Path(room): Path<i64>,
    form: FormPairs,
) -> AppResult<Response> {
    room_action(state, p, info, room, form, RoomAction::Pause, "room_paused").await
}

pub async fn resume(
    State(state): State<AppState>,
    p: Principal,
    info: RequestInfo,
    Path(room): Path<i64>,
    form: FormPairs,
) -> AppResult<Response> {
    room_action(state, p, info, room, form, RoomAction::Resume, "room_resumed").await
}

pub async fn seat(
    State(state): State<AppState>,
    p: Principal,
    info: RequestInfo,
    Path(room): Path<i64>,
    form: FormPairs,
) -> AppResult<Response> {
    let sitting = form_sitting(&form)?;
    let action = match form.get("action").as_str() {
        "extend" => SeatAction::Extend,
        "absent" => SeatAction::Absent,
        "violation" => SeatAction::Violation,
        "move" => SeatAction::Move,
        _ => return after(&state, &p, room, sitting, Err(AppError::field("action", "处理事项：请选择")), "").await,
    };
    let result = delivery::seat_action(&state, &Actor::of(&p, &info), sitting, room, action, &form.0).await;
    after(&state, &p, room, sitting, result, "seat_done").await
}

pub async fn record(
    State(state): State<AppState>,
    p: Principal,
    info: RequestInfo,
    Path(room): Path<i64>,
    form: FormPairs,
) -> AppResult<Response> {
    let sitting = form_sitting(&form)?;
    let result = delivery::save_record(&state, &Actor::of(&p, &info), sitting, room, &form.0).await;
    after(&state, &p, room, sitting, result, "saved").await
}
