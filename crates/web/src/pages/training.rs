//! The exam officer's training pages: the classes of their jurisdiction with the form for a new
//! one (`/training`), and one class (`/training/{id}`): its details and edit form, the enrolled
//! with masked ID numbers, enrolment and removal, the attendance grid and the day's sheet.
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use gongkao_domain::campaign::{Level, format_date};
use gongkao_domain::id_number::IdNumber;
use gongkao_domain::training::{Attendance, Mark, day_label, parse_date, places_left, training_period};
use gongkao_domain::validation::FieldErrors;
use gongkao_storage::training as store;

use super::{FormPairs, html, html_status, pdf, see_other};
use crate::AppState;
use crate::auth::RequestInfo;
use crate::error::{AppError, AppResult};
use crate::policy::{Principal, Scope};
use crate::services::training::{self as service, spec_of};
use crate::services::{Actor, campaigns, jurisdiction};
use crate::view::{Chrome, notice, render};

/// Classes are created for the officer's own agency.
fn own_agency(p: &Principal) -> AppResult<String> {
    p.agency_code.clone().ok_or(AppError::Forbidden)
}

fn value_of(values: &[(String, String)], key: &str) -> String {
    values.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or_default()
}

/// The levels a class may be for: 5 to 2 (level 1 is not trained).
fn level_options() -> Vec<(u8, &'static str)> {
    [Level::L5, Level::L4, Level::L3, Level::L2].into_iter().map(|l| (l.number(), l.label())).collect()
}

pub struct ClassRow {
    pub id: i64,
    pub name: String,
    pub agency: String,
    pub level: &'static str,
    pub work_type: String,
    pub dates: String,
    pub place: String,
    pub enrolled: i64,
    pub capacity: i32,
}

#[derive(Template)]
#[template(path = "training.html")]
struct ListPage {
    chrome: Chrome,
    agency_name: String,
    period: String,
    classes: Vec<ClassRow>,
    levels: Vec<(u8, &'static str)>,
    work_types: Vec<String>,
    errors: FieldErrors,
    values: Vec<(String, String)>,
}

impl ListPage {
    fn value(&self, key: &str) -> String {
        value_of(&self.values, key)
    }
}

async fn list_page(
    state: &AppState,
    p: &Principal,
    scope: &Scope,
    errors: FieldErrors,
    values: Vec<(String, String)>,
    msg: Option<&str>,
) -> AppResult<String> {
    let (campaign, _) = campaigns::current(state).await?;
    let db = state.store().conn();
    let agencies = jurisdiction::agencies(state).await?;
    let rows = store::classes(db, campaign.id, scope.agency_filter().as_deref()).await?;
    let counts: std::collections::HashMap<i64, i64> =
        store::enrolled_counts(db, &rows.iter().map(|c| c.id).collect::<Vec<_>>()).await?.into_iter().collect();
    let mut classes = Vec::with_capacity(rows.len());
    for c in rows {
        let spec = spec_of(&c)?;
        classes.push(ClassRow {
            id: c.id,
            agency: jurisdiction::agency_name(&agencies, &c.agency_code),
            level: spec.level.label(),
            work_type: spec.work_type_label().to_owned(),
            dates: spec.dates_label(),
            place: spec.place,
            enrolled: counts.get(&c.id).copied().unwrap_or(0),
            capacity: c.capacity,
            name: spec.name,
        });
    }
    let period = training_period(campaign.year).map(|(a, b)| format!("{} 至 {}", format_date(a), format_date(b))).unwrap_or_default();
    let page = ListPage {
        chrome: Chrome::for_principal(p, "/training").with_notice(notice(msg)),
        agency_name: p.agency_code.as_deref().map(|c| jurisdiction::agency_name(&agencies, c)).unwrap_or_default(),
        period,
        classes,
        levels: level_options(),
        work_types: service::work_types(state).await?,
        errors,
        values,
    };
    Ok(render(&page))
}

#[derive(serde::Deserialize, Default)]
pub struct ClassQuery {
    pub msg: Option<String>,
    /// The day the attendance form is for.
    pub day: Option<String>,
    pub enrolled: Option<usize>,
}

pub async fn index(State(state): State<AppState>, p: Principal, scope: Scope, Query(q): Query<ClassQuery>) -> AppResult<Response> {
    Ok(html(list_page(&state, &p, &scope, FieldErrors::new(), Vec::new(), q.msg.as_deref()).await?))
}

pub async fn create(State(state): State<AppState>, p: Principal, scope: Scope, info: RequestInfo, form: FormPairs) -> AppResult<Response> {
    let agency = own_agency(&p)?;
    match service::create(&state, &Actor::of(&p, &info), &agency, &form.0).await {
        Ok(id) => Ok(see_other(&format!("/training/{id}?msg=created"))),
        Err(AppError::Invalid(e)) => {
            Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, list_page(&state, &p, &scope, e, form.0, None).await?))
        }
        Err(e) => Err(e),
    }
}

pub struct TraineeRow {
    pub number: usize,
    pub application_id: i64,
    pub name: String,
    pub id_number: String,
    pub unit: String,
    pub work_type: String,
    pub level: &'static str,
    /// One short mark per class day ("" where none is recorded).
    pub marks: Vec<&'static str>,
    pub attendance: String,
    /// The mark the day's form starts with.
    pub day_mark: &'static str,
}

#[derive(Template)]
#[template(path = "training_class.html")]
struct ClassPage {
    chrome: Chrome,
    id: i64,
    version: i32,
    name: String,
    agency: String,
    level: &'static str,
    work_type: String,
    dates: String,
    place: String,
    organiser: String,
    capacity: i32,
    left: u32,
    eligible: usize,
    days: Vec<(String, String)>,
    day: String,
    day_label: String,
    day_recorded: bool,
    rows: Vec<TraineeRow>,
    marks: Vec<(&'static str, &'static str)>,
    levels: Vec<(u8, &'static str)>,
    work_types: Vec<String>,
    errors: FieldErrors,
    error: Option<String>,
    /// The edit form's values: the stored class, or what was typed in a refused edit.
    values: Vec<(String, String)>,
}

impl ClassPage {
    fn value(&self, key: &str) -> String {
        value_of(&self.values, key)
    }
}

async fn class_page(
    state: &AppState,
    p: &Principal,
    id: i64,
    q: &ClassQuery,
    errors: FieldErrors,
    error: Option<String>,
    form: Option<Vec<(String, String)>>,
) -> AppResult<String> {
    let class = store::class(state.store().conn(), id).await?.ok_or(AppError::NotFound)?;
    let spec = spec_of(&class)?;
    let agencies = jurisdiction::agencies(state).await?;
    let people = service::trainees(state, id).await?;
    let marks = service::marks(state, id).await?;
    let days = spec.days();
    let recorded: std::collections::HashSet<&str> = marks.keys().map(|(_, d)| d.as_str()).collect();
    // The form's day: the one asked for, else the first day without attendance, else the last.
    let day = q
        .day
        .as_deref()
        .and_then(parse_date)
        .filter(|d| spec.has_day(*d))
        .or_else(|| days.iter().copied().find(|d| !recorded.contains(format_date(*d).as_str())))
        .or_else(|| days.last().copied())
        .unwrap_or(spec.starts_on);
    let day_text = format_date(day);
    let rows = people
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mine = days.iter().map(|d| marks.get(&(t.application_id, format_date(*d))).copied());
            TraineeRow {
                number: i + 1,
                application_id: t.application_id,
                name: t.name.clone(),
                id_number: IdNumber::parse(&t.id_number).map(|n| n.masked()).unwrap_or_default(),
                unit: t.unit_name.clone(),
                work_type: t.work_type.clone(),
                level: u8::try_from(t.level).ok().and_then(Level::from_number).map_or("", Level::short_label),
                marks: mine.clone().map(|m| m.map_or("", Mark::short)).collect(),
                attendance: Attendance::of(mine.flatten()).label(),
                day_mark: marks.get(&(t.application_id, day_text.clone())).copied().unwrap_or(Mark::Present).as_str(),
            }
        })
        .collect();
    let values = form.unwrap_or_else(|| {
        [
            ("name", class.name.clone()),
            ("place", class.place.clone()),
            ("organiser", class.organiser.clone()),
            ("level", class.level.to_string()),
            ("work_type", class.work_type.clone().unwrap_or_default()),
            ("starts_on", class.starts_on.clone()),
            ("ends_on", class.ends_on.clone()),
            ("capacity", class.capacity.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    });
    let msg = match q.enrolled {
        Some(n) => Some(format!("已报名{n}人参训，并已短信通知本人。")),
        None => notice(q.msg.as_deref()),
    };
    let page = ClassPage {
        chrome: Chrome::for_principal(p, "/training").with_notice(msg),
        id,
        version: class.version,
        agency: jurisdiction::agency_name(&agencies, &class.agency_code),
        level: spec.level.label(),
        work_type: spec.work_type_label().to_owned(),
        dates: spec.dates_label(),
        place: spec.place.clone(),
        organiser: spec.organiser.clone().unwrap_or_default(),
        capacity: class.capacity,
        left: places_left(spec.capacity, people.len()),
        eligible: service::eligible_count(state, &class).await?,
        days: days.iter().map(|d| (format_date(*d), day_label(*d))).collect(),
        day_recorded: recorded.contains(day_text.as_str()),
        day_label: day_label(day),
        day: day_text,
        rows,
        marks: Mark::ALL.iter().map(|m| (m.as_str(), m.label())).collect(),
        levels: level_options(),
        work_types: service::work_types(state).await?,
        name: spec.name,
        errors,
        error,
        values,
    };
    Ok(render(&page))
}

pub async fn show(State(state): State<AppState>, p: Principal, Path(id): Path<i64>, Query(q): Query<ClassQuery>) -> AppResult<Response> {
    Ok(html(class_page(&state, &p, id, &q, FieldErrors::new(), None, None).await?))
}

/// A refused change shows the class page again with the messages; nothing was written.
async fn refused(state: &AppState, p: &Principal, id: i64, e: AppError, form: Option<Vec<(String, String)>>) -> AppResult<Response> {
    let q = ClassQuery::default();
    match e {
        AppError::Invalid(errors) => {
            Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, class_page(state, p, id, &q, errors, None, form).await?))
        }
        AppError::Conflict(m) => {
            Ok(html_status(StatusCode::CONFLICT, class_page(state, p, id, &q, FieldErrors::new(), Some(m), None).await?))
        }
        other => Err(other),
    }
}

pub async fn update(
    State(state): State<AppState>,
    p: Principal,
    info: RequestInfo,
    Path(id): Path<i64>,
    form: FormPairs,
) -> AppResult<Response> {
    match service::update(&state, &Actor::of(&p, &info), id, &form.0).await {
        Ok(()) => Ok(see_other(&format!("/training/{id}?msg=saved"))),
        Err(e) => refused(&state, &p, id, e, Some(form.0)).await,
    }
}

pub async fn delete(
    State(state): State<AppState>,
    p: Principal,
    info: RequestInfo,
    Path(id): Path<i64>,
    form: FormPairs,
) -> AppResult<Response> {
    match service::delete(&state, &Actor::of(&p, &info), id, &form.0).await {
        Ok(()) => Ok(see_other("/training?msg=deleted")),
        Err(e) => refused(&state, &p, id, e, None).await,
    }
}

pub async fn enrol_all(State(state): State<AppState>, p: Principal, info: RequestInfo, Path(id): Path<i64>) -> AppResult<Response> {
    match service::enrol_all(&state, &Actor::of(&p, &info), id).await {
        Ok(n) => Ok(see_other(&format!("/training/{id}?enrolled={n}"))),
        Err(e) => refused(&state, &p, id, e, None).await,
    }
}

pub async fn enrol_one(
    State(state): State<AppState>,
    p: Principal,
    info: RequestInfo,
    Path(id): Path<i64>,
    form: FormPairs,
) -> AppResult<Response> {
    match service::enrol_one(&state, &Actor::of(&p, &info), id, &form.0).await {
        Ok(_) => Ok(see_other(&format!("/training/{id}?enrolled=1"))),
        Err(e) => refused(&state, &p, id, e, None).await,
    }
}

pub async fn remove(
    State(state): State<AppState>,
    p: Principal,
    info: RequestInfo,
    Path(id): Path<i64>,
    form: FormPairs,
) -> AppResult<Response> {
    match service::remove(&state, &Actor::of(&p, &info), id, &form.0).await {
        Ok(()) => Ok(see_other(&format!("/training/{id}?msg=removed"))),
        Err(e) => refused(&state, &p, id, e, None).await,
    }
}

pub async fn record_attendance(
    State(state): State<AppState>,
    p: Principal,
    info: RequestInfo,
    Path(id): Path<i64>,
    form: FormPairs,
) -> AppResult<Response> {
    match service::record_attendance(&state, &Actor::of(&p, &info), id, &form.0).await {
        Ok(day) => Ok(see_other(&format!("/training/{id}?msg=attendance&day={}", format_date(day)))),
        Err(e) => refused(&state, &p, id, e, None).await,
    }
}

/// The sign-in sheet (培训签到表) to print, one signature column per day.
pub async fn sign_in_pdf(State(state): State<AppState>, p: Principal, info: RequestInfo, Path(id): Path<i64>) -> AppResult<Response> {
    let bytes = service::sign_in_pdf(&state, &Actor::of(&p, &info), id).await?;
    Ok(pdf("training-sign-in.pdf", bytes))
}
