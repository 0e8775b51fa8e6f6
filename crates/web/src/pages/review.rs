//! The agency's qualification review (资格审查): the filtered list with bulk decisions, the
//! decision on one application, the level-1 dossier checklist, and the rosters units print.
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use gongkao_domain::application::ApplicationAction;
use gongkao_domain::application::ApplicationStatus;
use gongkao_domain::campaign::{Level, WindowKind};
use gongkao_domain::id_number::IdNumber;
use gongkao_domain::paging::Page;
use gongkao_domain::validation::FieldErrors;
use gongkao_storage::applications::{self, AgencyFilter};
use gongkao_storage::units::{self, UnitFilter};

use super::{FormPairs, html, html_status, see_other};
use crate::AppState;
use crate::auth::RequestInfo;
use crate::error::{AppError, AppResult};
use crate::policy::{Principal, Scope};
use crate::services::applications::{Decision, act_many, act_with, verdict_label};
use crate::services::rosters::{self, RosterKind};
use crate::services::{self, Actor};
use crate::view::{Chrome, page_link, query_string, render};

#[derive(serde::Deserialize, Default, Clone)]
pub struct AgencyQuery {
    pub status: Option<String>,
    pub level: Option<String>,
    pub work_type: Option<String>,
    pub verdict: Option<String>,
    pub unit: Option<String>,
    pub late: Option<String>,
    pub page: Option<u64>,
    pub msg: Option<String>,
}

pub struct AgencyRow {
    pub id: i64,
    pub name: String,
    pub id_number: String,
    pub unit: String,
    pub work_type: String,
    pub level: &'static str,
    pub verdict: &'static str,
    pub verdict_changed: bool,
    pub status: &'static str,
    pub late: bool,
    pub dossier: &'static str,
}

#[derive(Template)]
#[template(path = "agency_applications.html")]
struct AgencyListPage {
    chrome: Chrome,
    q: AgencyQuery,
    status: String,
    statuses: Vec<(&'static str, &'static str)>,
    levels: Vec<(String, &'static str)>,
    deadline: String,
    rows: Vec<AgencyRow>,
    total: u64,
    can_bulk: bool,
    errors: FieldErrors,
    general_error: Option<String>,
    notice: Option<String>,
    prev_link: Option<String>,
    next_link: Option<String>,
}

async fn filter_of(state: &AppState, scope: &Scope, q: &AgencyQuery) -> AppResult<(AgencyFilter, String)> {
    let (_, schedule) = services::campaigns::current(state).await?;
    let status = q.status.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| "unit_approved".to_owned());
    let statuses = match status.as_str() {
        "all" => None,
        "pending" => Some(vec!["unit_approved".to_owned(), "on_site_required".to_owned()]),
        s if ApplicationStatus::parse(s).is_some() => Some(vec![s.to_owned()]),
        _ => Some(vec!["unit_approved".to_owned()]),
    };
    let agencies = scope.agency_filter();
    let unit_ids = match q.unit.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(text) => {
            let f = UnitFilter { scope: agencies.clone(), name_contains: Some(text.to_owned()), ..Default::default() };
            let mut ids: Vec<i64> =
                units::list(state.store().conn(), &f, Page::new(Some(1), Some(200))).await?.items.iter().map(|u| u.id).collect();
            if let Some(u) = units::by_credit_code(state.store().conn(), &text.to_uppercase()).await?
                && scope.covers_unit(u.id, &u.agency_code)
            {
                ids.push(u.id);
            }
            Some(ids)
        }
        None => None,
    };
    let late_after = schedule.window(WindowKind::UnitInitialReview).map(|w| gongkao_storage::to_ms(w.ends_at));
    let f = AgencyFilter {
        agencies,
        unit_ids,
        level: q.level.as_deref().and_then(|l| l.parse().ok()),
        work_type: q.work_type.clone().map(|w| w.trim().to_owned()).filter(|w| !w.is_empty()),
        statuses,
        verdict: q.verdict.clone().filter(|v| matches!(v.as_str(), "eligible" | "not_eligible" | "needs_review")),
        unit_reviewed_after: if q.late.as_deref() == Some("1") { late_after.or(Some(i64::MAX)) } else { None },
    };
    Ok((f, status))
}

async fn list_page(
    state: &AppState,
    p: &Principal,
    scope: &Scope,
    q: &AgencyQuery,
    errors: FieldErrors,
    general_error: Option<String>,
) -> AppResult<String> {
    let (campaign, schedule) = services::campaigns::current(state).await?;
    let db = state.store().conn();
    let (filter, status) = filter_of(state, scope, q).await?;
    let result = applications::list_for_agency(db, campaign.id, &filter, Page::new(q.page, None)).await?;
    let late_after = schedule.window(WindowKind::UnitInitialReview).map(|w| gongkao_storage::to_ms(w.ends_at));
    let ids: Vec<i64> = result.items.iter().map(|a| a.id).collect();
    let dossiers = applications::dossier_states(db, &ids).await?;
    let mut rows = Vec::with_capacity(result.items.len());
    let mut unit_names: Vec<(i64, String)> = Vec::new();
    for a in &result.items {
        let person = units::applicant(db, a.applicant_id).await?;
        let unit = match a.unit_id {
            Some(uid) => match unit_names.iter().find(|(id, _)| *id == uid) {
                Some((_, n)) => n.clone(),
                None => {
                    let n = units::get(db, uid).await?.map(|u| u.name).unwrap_or_default();
                    unit_names.push((uid, n.clone()));
                    n
                }
            },
            None => String::new(),
        };
        let level = u8::try_from(a.target_level).ok().and_then(Level::from_number);
        rows.push(AgencyRow {
            id: a.id,
            name: person.as_ref().map(|x| x.name.clone()).unwrap_or_default(),
            id_number: person.and_then(|x| IdNumber::parse(&x.id_number).ok()).map(|i| i.masked()).unwrap_or_default(),
            unit,
            work_type: a.work_type.clone(),
            level: level.map_or("", Level::short_label),
            verdict: verdict_label(&a.verdict),
            verdict_changed: a.previous_verdict.is_some(),
            status: ApplicationStatus::parse(&a.status).map_or("", ApplicationStatus::label),
            late: matches!((a.unit_reviewed_at, late_after), (Some(t), Some(end)) if t > end),
            dossier: if level == Some(Level::L1) {
                gongkao_domain::dossier::DossierState::parse(dossiers.iter().find(|(id, _)| *id == a.id).map_or("", |(_, s)| s.as_str()))
                    .label()
            } else {
                ""
            },
        });
    }
    let base = query_string(&[
        ("status", status.as_str()),
        ("level", q.level.as_deref().unwrap_or("")),
        ("work_type", q.work_type.as_deref().unwrap_or("")),
        ("verdict", q.verdict.as_deref().unwrap_or("")),
        ("unit", q.unit.as_deref().unwrap_or("")),
        ("late", q.late.as_deref().unwrap_or("")),
    ]);
    let mut statuses = vec![("pending", "待审查（含需现场审查）"), ("all", "全部")];
    statuses.extend(ApplicationStatus::ALL.iter().filter(|s| **s != ApplicationStatus::Draft).map(|s| (s.as_str(), s.label())));
    let page = AgencyListPage {
        chrome: Chrome::for_principal(p, "/agency-applications"),
        can_bulk: status == "unit_approved",
        q: q.clone(),
        status,
        statuses,
        levels: Level::ALL.iter().map(|l| (l.number().to_string(), l.label())).collect(),
        deadline: schedule.window(WindowKind::Review).map(|w| gongkao_domain::campaign::format_shanghai_end(w.ends_at)).unwrap_or_default(),
        rows,
        total: result.total,
        errors,
        general_error,
        notice: q.msg.as_deref().and_then(|m| m.strip_prefix("done").map(|n| format!("已处理 {} 份申报。", n.trim_start_matches('-')))),
        prev_link: result.has_prev().then(|| page_link(&base, result.page.number - 1)),
        next_link: result.has_next().then(|| page_link(&base, result.page.number + 1)),
    };
    Ok(render(&page))
}

pub async fn agency_list(State(state): State<AppState>, p: Principal, scope: Scope, Query(q): Query<AgencyQuery>) -> AppResult<Response> {
    Ok(html(list_page(&state, &p, &scope, &q, FieldErrors::new(), None).await?))
}

/// One decision for every ticked application.
pub async fn bulk(State(state): State<AppState>, p: Principal, scope: Scope, info: RequestInfo, f: FormPairs) -> AppResult<Response> {
    let ids: Vec<i64> = f.0.iter().filter(|(k, _)| k == "ids").filter_map(|(_, v)| v.parse().ok()).collect();
    let (action, d) = match f.get("decision").as_str() {
        "approve" => (ApplicationAction::AgencyApprove, Decision::default()),
        "on_site" => (ApplicationAction::AgencyRequireOnSite, Decision { documents: f.get("documents"), ..Default::default() }),
        _ => return Err(AppError::field("decision", "审查意见：请选择网上资格审查通过或需现场审查")),
    };
    let back = AgencyQuery { status: Some("unit_approved".to_owned()), ..Default::default() };
    match act_many(&state, &p, &Actor::of(&p, &info), &scope, &ids, action, &Decision { reason: f.get("reason"), ..d }).await {
        Ok(n) => Ok(see_other(&format!("/agency-applications?msg=done-{n}"))),
        Err(AppError::Invalid(errors)) => {
            Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, list_page(&state, &p, &scope, &back, errors, None).await?))
        }
        Err(AppError::Conflict(m)) => {
            Ok(html_status(StatusCode::CONFLICT, list_page(&state, &p, &scope, &back, FieldErrors::new(), Some(m)).await?))
        }
        Err(e) => Err(e),
    }
}

/// The agency's decision on one application, from its detail page.
pub async fn decide(
    State(state): State<AppState>,
    p: Principal,
    _scope: Scope,
    info: RequestInfo,
    Path(id): Path<i64>,
    f: FormPairs,
) -> AppResult<Response> {
    let (action, d) = match f.get("decision").as_str() {
        "approve" => (ApplicationAction::AgencyApprove, Decision::default()),
        "on_site" => (ApplicationAction::AgencyRequireOnSite, Decision { documents: f.get("documents"), ..Default::default() }),
        "confirm_on_site" => (ApplicationAction::AgencyConfirmOnSite, Decision::default()),
        "reopen" => {
            let days = f.get("reopen_days");
            let days = if days.trim().is_empty() {
                None
            } else {
                Some(days.trim().parse::<i64>().map_err(|_| AppError::field("reopen_days", "修改期限：请填写 1 至 15 天"))?)
            };
            (ApplicationAction::AgencyReopen, Decision { reopen_days: days, ..Default::default() })
        }
        "void" => (ApplicationAction::Void, Decision::default()),
        _ => return Err(AppError::field("decision", "审查意见：请选择一项")),
    };
    match act_with(&state, &p, &Actor::of(&p, &info), id, action, &Decision { reason: f.get("reason"), ..d }).await {
        Ok(_) => Ok(see_other(&format!("/applications/{id}"))),
        Err(AppError::Invalid(errors)) => {
            Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, super::applications::detail_page(&state, &p, id, errors).await?))
        }
        Err(e) => Err(e),
    }
}

/// The agency ticks what arrived of a level-1 dossier.
pub async fn dossier(
    State(state): State<AppState>,
    p: Principal,
    _scope: Scope,
    info: RequestInfo,
    Path(id): Path<i64>,
    f: FormPairs,
) -> AppResult<Response> {
    let received: Vec<String> = f.0.iter().filter(|(k, _)| k == "received").map(|(_, v)| v.clone()).collect();
    let version = f.get("version").parse().unwrap_or(0);
    match services::dossiers::record(&state, &Actor::of(&p, &info), id, &received, &f.get("note"), version).await {
        Ok(()) => Ok(see_other(&format!("/applications/{id}"))),
        Err(AppError::Invalid(errors)) => {
            Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, super::applications::detail_page(&state, &p, id, errors).await?))
        }
        Err(e) => Err(e),
    }
}

#[derive(serde::Deserialize)]
pub struct RosterQuery {
    pub kind: Option<String>,
}

/// The unit's own rosters.
pub async fn unit_roster_pdf(
    State(state): State<AppState>,
    p: Principal,
    info: RequestInfo,
    Query(q): Query<RosterQuery>,
) -> AppResult<Response> {
    let unit_id = p.unit_id.ok_or(AppError::Forbidden)?;
    let kind = RosterKind::parse(q.kind.as_deref().unwrap_or(""))?;
    let bytes = rosters::pdf(&state, &Actor::of(&p, &info), unit_id, kind).await?;
    Ok(super::pdf(&format!("roster-{}.pdf", kind.as_str()), bytes))
}

pub async fn unit_roster_xlsx(
    State(state): State<AppState>,
    p: Principal,
    info: RequestInfo,
    Query(q): Query<RosterQuery>,
) -> AppResult<Response> {
    let unit_id = p.unit_id.ok_or(AppError::Forbidden)?;
    let kind = RosterKind::parse(q.kind.as_deref().unwrap_or(""))?;
    let bytes = rosters::xlsx(&state, &Actor::of(&p, &info), unit_id, kind).await?;
    Ok(super::xlsx(&format!("roster-{}.xlsx", kind.as_str()), bytes))
}

/// A unit's rosters as the agency sees them, to compare with the stamped paper.
pub async fn agency_roster_pdf(
    State(state): State<AppState>,
    p: Principal,
    info: RequestInfo,
    Path(id): Path<i64>,
    Query(q): Query<RosterQuery>,
) -> AppResult<Response> {
    let kind = RosterKind::parse(q.kind.as_deref().unwrap_or(""))?;
    let bytes = rosters::pdf(&state, &Actor::of(&p, &info), id, kind).await?;
    Ok(super::pdf(&format!("roster-{id}-{}.pdf", kind.as_str()), bytes))
}
