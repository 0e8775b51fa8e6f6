//! The exam officer's pages: test centres and rooms, sittings, and the seating plan.
use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use gongkao_domain::exam::Subject;
use gongkao_domain::validation::FieldErrors;
use gongkao_storage::exam_sites as store;
use gongkao_storage::{applications, from_ms, units};

use super::agencies::MsgQuery;
use super::{FormPairs, html, html_status, pdf, see_other};
use crate::AppState;
use crate::auth::RequestInfo;
use crate::error::{AppError, AppResult};
use crate::policy::{Principal, Scope};
use crate::services::exam_sites::{self as service, hm};
use crate::services::{Actor, campaigns, jurisdiction};
use crate::view::{Chrome, notice, page_link, render};

/// The officer's own agency: sittings and seating are per agency.
fn own_agency(p: &Principal) -> AppResult<String> {
    p.agency_code.clone().ok_or(AppError::Forbidden)
}

pub struct RoomRow {
    pub number: String,
    pub name: String,
    pub seats: i32,
    pub spare: i32,
}

pub struct CentreRow {
    pub id: i64,
    pub number: String,
    pub name: String,
    pub agency: String,
    pub address: String,
    pub contact: String,
    pub rooms: Vec<RoomRow>,
    pub seats: i32,
}

#[derive(Template)]
#[template(path = "exam_sites.html")]
struct SitesPage {
    chrome: Chrome,
    agency_name: String,
    centres: Vec<CentreRow>,
    errors: FieldErrors,
    form_centre: Option<i64>,
    values: Vec<(String, String)>,
}

impl SitesPage {
    fn is_form(&self, centre: &i64) -> bool {
        self.form_centre == Some(*centre)
    }
    fn value(&self, key: &str) -> &str {
        self.values.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).unwrap_or("")
    }
}

async fn sites_page(
    state: &AppState,
    p: &Principal,
    scope: &Scope,
    errors: FieldErrors,
    form_centre: Option<i64>,
    values: Vec<(String, String)>,
    msg: Option<&str>,
) -> AppResult<String> {
    let (campaign, _) = campaigns::current(state).await?;
    let db = state.store().conn();
    let agencies = jurisdiction::agencies(state).await?;
    let filter = scope.agency_filter();
    let centres = store::centres(db, campaign.id, filter.as_deref()).await?;
    let rooms = store::rooms_of(db, &centres.iter().map(|c| c.id).collect::<Vec<_>>()).await?;
    let rows = centres
        .into_iter()
        .map(|c| {
            let mine: Vec<&store::Room> = rooms.iter().filter(|r| r.centre_id == c.id).collect();
            CentreRow {
                id: c.id,
                number: format!("{:02}", c.number),
                agency: jurisdiction::agency_name(&agencies, &c.agency_code),
                address: c.address,
                contact: format!("{} {}", c.contact, c.phone),
                seats: mine.iter().map(|r| r.seat_count - r.spare_seats).sum(),
                rooms: mine
                    .iter()
                    .map(|r| RoomRow {
                        number: format!("{:03}", r.number),
                        name: r.name.clone(),
                        seats: r.seat_count,
                        spare: r.spare_seats,
                    })
                    .collect(),
                name: c.name,
            }
        })
        .collect();
    let page = SitesPage {
        chrome: Chrome::for_principal(p, "/exam-sites").with_notice(notice(msg)),
        agency_name: p.agency_code.as_deref().map(|c| jurisdiction::agency_name(&agencies, c)).unwrap_or_default(),
        centres: rows,
        errors,
        form_centre,
        values,
    };
    Ok(render(&page))
}

pub async fn sites(State(state): State<AppState>, p: Principal, scope: Scope, Query(q): Query<MsgQuery>) -> AppResult<Response> {
    Ok(html(sites_page(&state, &p, &scope, FieldErrors::new(), None, Vec::new(), q.msg.as_deref()).await?))
}

pub async fn add_centre(
    State(state): State<AppState>,
    p: Principal,
    scope: Scope,
    info: RequestInfo,
    form: FormPairs,
) -> AppResult<Response> {
    let agency = own_agency(&p)?;
    match service::add_centre(&state, &Actor::of(&p, &info), &agency, &form.0).await {
        Ok(_) => Ok(see_other("/exam-sites?msg=created")),
        Err(AppError::Invalid(e)) => {
            Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, sites_page(&state, &p, &scope, e, None, form.0, None).await?))
        }
        Err(e) => Err(e),
    }
}

pub async fn add_room(
    State(state): State<AppState>,
    p: Principal,
    scope: Scope,
    info: RequestInfo,
    Path(id): Path<i64>,
    form: FormPairs,
) -> AppResult<Response> {
    match service::add_room(&state, &Actor::of(&p, &info), id, &form.0).await {
        Ok(_) => Ok(see_other("/exam-sites?msg=created")),
        Err(AppError::Invalid(e)) => {
            Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, sites_page(&state, &p, &scope, e, Some(id), form.0, None).await?))
        }
        Err(e) => Err(e),
    }
}

pub struct SittingView {
    pub id: i64,
    pub subject: &'static str,
    pub date: String,
    pub time: String,
    /// Safe Exam Browser Config Keys required; 0 when any browser may be used.
    pub seb_keys: usize,
}

#[derive(Template)]
#[template(path = "sittings.html")]
struct SittingsPage {
    chrome: Chrome,
    sittings: Vec<SittingView>,
    subjects: Vec<(&'static str, &'static str)>,
    window: String,
    errors: FieldErrors,
    values: Vec<(String, String)>,
}

impl SittingsPage {
    fn value(&self, key: &str) -> &str {
        self.values.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).unwrap_or("")
    }
}

async fn sittings_page(
    state: &AppState,
    p: &Principal,
    errors: FieldErrors,
    values: Vec<(String, String)>,
    msg: Option<&str>,
) -> AppResult<String> {
    let agency = own_agency(p)?;
    let (campaign, schedule) = campaigns::current(state).await?;
    let rows = store::sittings(state.store().conn(), campaign.id, &agency).await?;
    let window = schedule.window(gongkao_domain::campaign::WindowKind::Exam).map(|w| w.label()).unwrap_or_else(|| "未设置".to_owned());
    let mut sittings = Vec::with_capacity(rows.len());
    for s in &rows {
        sittings.push(SittingView {
            id: s.id,
            subject: Subject::parse(&s.subject).map_or("", Subject::label),
            date: s.exam_date.clone(),
            time: format!("{}—{}", hm(from_ms(s.starts_at)), hm(from_ms(s.ends_at))),
            seb_keys: crate::services::delivery::seb_keys(state, s.id).await?.len(),
        });
    }
    let page = SittingsPage {
        chrome: Chrome::for_principal(p, "/sittings").with_notice(notice(msg)),
        sittings,
        subjects: Subject::ALL.iter().map(|s| (s.as_str(), s.label())).collect(),
        window,
        errors,
        values,
    };
    Ok(render(&page))
}

pub async fn sittings(State(state): State<AppState>, p: Principal, Query(q): Query<MsgQuery>) -> AppResult<Response> {
    Ok(html(sittings_page(&state, &p, FieldErrors::new(), Vec::new(), q.msg.as_deref()).await?))
}

pub async fn add_sitting(State(state): State<AppState>, p: Principal, info: RequestInfo, form: FormPairs) -> AppResult<Response> {
    let agency = own_agency(&p)?;
    match service::add_sitting(&state, &Actor::of(&p, &info), &agency, &form.0).await {
        Ok(_) => Ok(see_other("/sittings?msg=created")),
        Err(AppError::Invalid(e)) => Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, sittings_page(&state, &p, e, form.0, None).await?)),
        Err(e) => Err(e),
    }
}

/// The Safe Exam Browser requirement of one of the agency's sittings.
pub async fn set_seb(State(state): State<AppState>, p: Principal, info: RequestInfo, form: FormPairs) -> AppResult<Response> {
    let agency = own_agency(&p)?;
    match crate::services::delivery::set_seb_keys(&state, &Actor::of(&p, &info), &agency, &form.0).await {
        Ok(()) => Ok(see_other("/sittings?msg=saved")),
        Err(AppError::Invalid(e)) => Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, sittings_page(&state, &p, e, form.0, None).await?)),
        Err(e) => Err(e),
    }
}

pub struct PlanRow {
    pub ticket_no: String,
    pub name: String,
    pub work_type: String,
    pub subject: &'static str,
    pub time: String,
    pub room: String,
    pub seat: String,
    pub form: String,
}

#[derive(Template)]
#[template(path = "seating.html")]
struct SeatingPage {
    chrome: Chrome,
    admitted: usize,
    total: u64,
    rows: Vec<PlanRow>,
    prev_link: Option<String>,
    next_link: Option<String>,
    error: Option<String>,
    printed: u64,
    /// (id, label) of the agency's rooms and sittings, for the seat-move form.
    room_options: Vec<(i64, String)>,
    sitting_options: Vec<(i64, String)>,
    /// The agency's print window as set (`None`: the default, a week before each candidate's first sitting).
    window: Option<String>,
    errors: FieldErrors,
    /// Which form the errors belong to: "move" or "window".
    errors_for: &'static str,
    values: Vec<(String, String)>,
}

impl SeatingPage {
    fn value(&self, key: &str) -> &str {
        self.values.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).unwrap_or("")
    }
    fn error_of(&self, form: &str, field: &str) -> Option<&str> {
        if self.errors_for == form { self.errors.get(field) } else { None }
    }
}

/// What the seating page shows besides the plan: the forms' state.
#[derive(Default)]
struct SeatingForms {
    error: Option<String>,
    errors: FieldErrors,
    errors_for: &'static str,
    values: Vec<(String, String)>,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct SeatingQuery {
    pub page: Option<u64>,
    pub msg: Option<String>,
    pub seated: Option<usize>,
    pub split: Option<usize>,
    pub unformed: Option<usize>,
}

async fn seating_page(state: &AppState, p: &Principal, q: &SeatingQuery, forms: SeatingForms) -> AppResult<String> {
    let agency = own_agency(p)?;
    let (campaign, _) = campaigns::current(state).await?;
    let db = state.store().conn();
    let admitted = store::admitted(db, campaign.id, &agency).await?.len();
    let page = gongkao_domain::paging::Page::new(q.page, Some(50));
    let (plan, total) = store::plan_page(db, campaign.id, &agency, page.offset(), page.size).await?;
    let sittings: HashMap<i64, store::SittingRow> =
        store::sittings(db, campaign.id, &agency).await?.into_iter().map(|s| (s.id, s)).collect();
    let mut rooms: HashMap<i64, String> = HashMap::new();
    let mut rows = Vec::new();
    for a in plan {
        if let std::collections::hash_map::Entry::Vacant(slot) = rooms.entry(a.room_id) {
            let label = match store::room(db, a.room_id).await? {
                Some(r) => {
                    let centre = store::centre(db, r.centre_id).await?.map(|c| c.name).unwrap_or_default();
                    format!("{centre} {}", r.name)
                }
                None => String::new(),
            };
            slot.insert(label);
        }
        let app = applications::get(db, a.application_id).await?;
        let (name, work_type) = match &app {
            Some(app) => (units::applicant(db, app.applicant_id).await?.map(|x| x.name).unwrap_or_default(), app.work_type.clone()),
            None => (String::new(), String::new()),
        };
        let s = sittings.get(&a.sitting_id);
        rows.push(PlanRow {
            ticket_no: a.ticket_no,
            name,
            work_type,
            subject: s.and_then(|s| Subject::parse(&s.subject)).map_or("", Subject::label),
            time: s.map(|s| format!("{} {}—{}", s.exam_date, hm(from_ms(s.starts_at)), hm(from_ms(s.ends_at)))).unwrap_or_default(),
            room: rooms.get(&a.room_id).cloned().unwrap_or_default(),
            seat: format!("{:02}", a.seat),
            form: form_label(a.form_number),
        });
    }
    let msg = match (q.seated, q.split) {
        (Some(n), Some(split)) => Some(format!(
            "编排完成：{n} 名考生已安排考场和座位{}。{}",
            if split > 0 { format!("，其中 {split} 人的科目不在同一考场或同一天") } else { String::new() },
            match q.unformed {
                Some(u) if u > 0 => format!("有 {u} 个科目座位的试卷蓝图尚未组卷，暂未分配试卷（组卷后重新编排即可分配）。"),
                _ => "相邻座位分配不同的平行试卷。".to_owned(),
            }
        )),
        _ => notice(q.msg.as_deref()),
    };
    let centres = store::centres(db, campaign.id, Some(std::slice::from_ref(&agency))).await?;
    let all_rooms = store::rooms_of(db, &centres.iter().map(|c| c.id).collect::<Vec<_>>()).await?;
    let room_options = all_rooms
        .iter()
        .map(|r| {
            let centre = centres.iter().find(|c| c.id == r.centre_id).map(|c| c.name.as_str()).unwrap_or("");
            (r.id, format!("{centre} {}（{}座，含备用{}）", r.name, r.seat_count, r.spare_seats))
        })
        .collect();
    let mut sitting_list: Vec<&store::SittingRow> = sittings.values().collect();
    sitting_list.sort_by_key(|s| s.starts_at);
    let sitting_options = sitting_list.iter().map(|s| (s.id, service::sitting_label(s))).collect();
    let window = crate::services::tickets::window_setting(state, &agency).await?.map(|w| w.label());
    let view = SeatingPage {
        chrome: Chrome::for_principal(p, "/seating").with_notice(msg),
        admitted,
        total,
        prev_link: (page.number > 1).then(|| page_link("", page.number - 1)),
        next_link: (page.number * page.size < total).then(|| page_link("", page.number + 1)),
        rows,
        error: forms.error,
        printed: gongkao_storage::tickets::printed_count(db, campaign.id, &agency).await?,
        room_options,
        sitting_options,
        window,
        errors: forms.errors,
        errors_for: forms.errors_for,
        values: forms.values,
    };
    Ok(render(&view))
}

/// A parallel form as exam staff name it: 1 → A卷, 2 → B卷 …; a dash while none is assigned.
fn form_label(number: Option<i32>) -> String {
    match number.and_then(|n| u8::try_from(n).ok()).filter(|n| (1..=26).contains(n)) {
        Some(n) => format!("{}卷", char::from(b'A' + n - 1)),
        None => "—".to_owned(),
    }
}

pub async fn seating(State(state): State<AppState>, p: Principal, Query(q): Query<SeatingQuery>) -> AppResult<Response> {
    Ok(html(seating_page(&state, &p, &q, SeatingForms::default()).await?))
}

pub async fn run_seating(State(state): State<AppState>, p: Principal, info: RequestInfo) -> AppResult<Response> {
    let agency = own_agency(&p)?;
    match service::run_seating(&state, &Actor::of(&p, &info), &agency).await {
        Ok(o) => Ok(see_other(&format!("/seating?seated={}&split={}&unformed={}", o.candidates, o.split, o.without_form))),
        Err(e @ (AppError::Conflict(_) | AppError::Invalid(_))) => {
            let status = e.status();
            let forms = SeatingForms { error: Some(e.message()), ..Default::default() };
            Ok(html_status(status, seating_page(&state, &p, &SeatingQuery::default(), forms).await?))
        }
        Err(e) => Err(e),
    }
}

/// Re-renders the seating page with a form's errors, or its conflict as the page's error.
async fn seating_refusal(
    state: &AppState,
    p: &Principal,
    e: AppError,
    form: &'static str,
    values: Vec<(String, String)>,
) -> AppResult<Response> {
    let status = e.status();
    let forms = match e {
        AppError::Invalid(errors) => SeatingForms { errors, errors_for: form, values, ..Default::default() },
        AppError::Conflict(_) => SeatingForms { error: Some(e.message()), errors_for: form, values, ..Default::default() },
        other => return Err(other),
    };
    Ok(html_status(status, seating_page(state, p, &SeatingQuery::default(), forms).await?))
}

/// Moves one candidate to another seat (调整座位).
pub async fn move_seat(State(state): State<AppState>, p: Principal, info: RequestInfo, form: FormPairs) -> AppResult<Response> {
    let agency = own_agency(&p)?;
    match service::move_seat(&state, &Actor::of(&p, &info), &agency, &form.0).await {
        Ok(m) => Ok(see_other(if m.notified { "/seating?msg=seat_moved_notified" } else { "/seating?msg=seat_moved" })),
        Err(e) => seating_refusal(&state, &p, e, "move", form.0).await,
    }
}

/// Sets the agency's ticket print window, or returns to the default.
pub async fn set_ticket_window(State(state): State<AppState>, p: Principal, info: RequestInfo, form: FormPairs) -> AppResult<Response> {
    let agency = own_agency(&p)?;
    let clear = form.get("clear") == "1";
    match crate::services::tickets::set_window(&state, &Actor::of(&p, &info), &agency, &form.0).await {
        Ok(()) => Ok(see_other(if clear { "/seating?msg=window_cleared" } else { "/seating?msg=window_saved" })),
        Err(e) => seating_refusal(&state, &p, e, "window", form.0).await,
    }
}

/// Every ticket of a centre as one PDF, for the agency to print.
pub async fn centre_tickets(State(state): State<AppState>, p: Principal, info: RequestInfo, Path(id): Path<i64>) -> AppResult<Response> {
    let (bytes, _) = crate::services::tickets::centre_tickets(&state, &Actor::of(&p, &info), id).await?;
    Ok(pdf("admission-tickets.pdf", bytes))
}

/// Queues a centre's tickets as a background job and shows the jobs page.
pub async fn queue_centre_tickets(
    State(state): State<AppState>,
    p: Principal,
    info: RequestInfo,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    crate::services::tickets::queue_centre_tickets(&state, &Actor::of(&p, &info), id).await?;
    Ok(see_other("/jobs?msg=job_queued"))
}
