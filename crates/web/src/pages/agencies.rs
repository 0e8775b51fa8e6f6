//! The agency tree of the current campaign and each agency's own dates.
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use gongkao_domain::jurisdiction::AgencyKind;
use gongkao_domain::validation::FieldErrors;
use gongkao_storage::campaigns;

use super::{FormPairs, html, html_status, see_other};
use crate::AppState;
use crate::auth::RequestInfo;
use crate::error::{AppError, AppResult};
use crate::policy::{Permission, Principal, Scope, role_allows};
use crate::services::{self, Actor};
use crate::view::{Chrome, notice, render};

pub struct AgencyRow {
    pub code: String,
    pub name: String,
    pub region: String,
    pub kind: &'static str,
    pub photo: String,
    pub exam: String,
    pub editable: bool,
}

#[derive(Template)]
#[template(path = "agencies.html")]
struct AgenciesPage {
    chrome: Chrome,
    campaign_title: String,
    rows: Vec<AgencyRow>,
    can_set_dates: bool,
    can_manage: bool,
    kinds: Vec<(&'static str, &'static str)>,
    errors: FieldErrors,
}

async fn page(state: &AppState, p: &Principal, scope: &Scope, errors: FieldErrors, msg: Option<&str>) -> AppResult<String> {
    let (campaign, _) = services::campaigns::current(state).await?;
    let db = state.store().conn();
    let agencies = campaigns::agencies(db, campaign.id).await?;
    let dates = campaigns::local_dates(db, campaign.id).await?;
    let date_of = |code: &str, kind: &str| {
        dates
            .iter()
            .find(|d| d.agency_code == code && d.kind == kind)
            .map(|d| format!("{} 至 {}", d.starts_on, d.ends_on))
            .unwrap_or_else(|| "未设置".to_owned())
    };
    let can_set_dates = role_allows(p.role, Permission::SetLocalDates);
    let rows = agencies
        .iter()
        .map(|a| AgencyRow {
            code: a.code.clone(),
            name: a.name.clone(),
            region: a.region_name.clone(),
            kind: AgencyKind::parse(&a.kind).map_or("", AgencyKind::label),
            photo: date_of(&a.code, "photo_collection"),
            exam: date_of(&a.code, "exam"),
            editable: can_set_dates && scope.covers_agency(&a.code),
        })
        .collect();
    let can_manage = p.role == gongkao_domain::role::Role::AgencyExamOfficer && matches!(scope, Scope::Province);
    let kinds = [AgencyKind::City, AgencyKind::Jiyuan, AgencyKind::DirectCounty].iter().map(|k| (k.as_str(), k.label())).collect();
    let page = AgenciesPage {
        can_manage,
        kinds,
        chrome: Chrome::for_principal(p, "/agencies").with_notice(notice(msg)),
        campaign_title: campaign.title,
        rows,
        can_set_dates,
        errors,
    };
    Ok(render(&page))
}

#[derive(serde::Deserialize)]
pub struct MsgQuery {
    pub msg: Option<String>,
}

pub async fn list(State(state): State<AppState>, p: Principal, scope: Scope, Query(q): Query<MsgQuery>) -> AppResult<Response> {
    Ok(html(page(&state, &p, &scope, FieldErrors::new(), q.msg.as_deref()).await?))
}

async fn or_errors(state: &AppState, p: &Principal, scope: &Scope, r: AppResult<()>) -> AppResult<Response> {
    match r {
        Ok(()) => Ok(see_other("/agencies?msg=saved")),
        Err(AppError::Invalid(errors)) => Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, page(state, p, scope, errors, None).await?)),
        Err(e) => Err(e),
    }
}

pub async fn add(State(state): State<AppState>, p: Principal, scope: Scope, info: RequestInfo, form: FormPairs) -> AppResult<Response> {
    let r = services::campaigns::add_agency(
        &state,
        &Actor::of(&p, &info),
        &form.get("code"),
        &form.get("name"),
        &form.get("region_name"),
        &form.get("kind"),
    )
    .await;
    or_errors(&state, &p, &scope, r).await
}

pub async fn rename(
    State(state): State<AppState>,
    p: Principal,
    scope: Scope,
    info: RequestInfo,
    Path(code): Path<String>,
    form: FormPairs,
) -> AppResult<Response> {
    let r = services::campaigns::rename_agency(&state, &Actor::of(&p, &info), &code, &form.get("name"), &form.get("region_name")).await;
    or_errors(&state, &p, &scope, r).await
}

pub async fn remove(
    State(state): State<AppState>,
    p: Principal,
    scope: Scope,
    info: RequestInfo,
    Path(code): Path<String>,
) -> AppResult<Response> {
    let r = services::campaigns::remove_agency(&state, &Actor::of(&p, &info), &code).await;
    or_errors(&state, &p, &scope, r).await
}

pub async fn set_dates(
    State(state): State<AppState>,
    p: Principal,
    scope: Scope,
    info: RequestInfo,
    Path(code): Path<String>,
    form: FormPairs,
) -> AppResult<Response> {
    let result = services::campaigns::set_local_dates(
        &state,
        &Actor::of(&p, &info),
        &scope,
        &code,
        &form.get("kind"),
        &form.get("starts_on"),
        &form.get("ends_on"),
    )
    .await;
    match result {
        Ok(()) => Ok(see_other("/agencies?msg=saved")),
        Err(AppError::Invalid(errors)) => Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, page(&state, &p, &scope, errors, None).await?)),
        Err(e) => Err(e),
    }
}
