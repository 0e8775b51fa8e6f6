//! Units: list (filtered, sorted and paginated on the server), create, edit, delete.
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use gongkao_domain::jurisdiction::{UnitCategory, UnitType, unit_name_locked};
use gongkao_domain::paging::Page;
use gongkao_domain::role::Role;
use gongkao_domain::validation::FieldErrors;
use gongkao_storage::units::{self, UnitFilter, UnitSort};
use gongkao_storage::{campaigns, from_ms};

use super::{FormPairs, html, html_status, see_other};
use crate::AppState;
use crate::auth::RequestInfo;
use crate::error::{AppError, AppResult};
use crate::policy::{Permission, Principal, Scope, role_allows};
use crate::services::{self, Actor, jurisdiction, units::UnitInput};
use crate::view::{Chrome, notice, page_link, query_string, render};

pub struct UnitRow {
    pub id: i64,
    pub name: String,
    pub credit_code: String,
    pub unit_type: &'static str,
    pub category: &'static str,
    pub supervising_department: String,
    pub agency: String,
}

#[derive(Template)]
#[template(path = "units.html")]
struct UnitsPage {
    chrome: Chrome,
    rows: Vec<UnitRow>,
    total: u64,
    page: u64,
    pages: u64,
    q: String,
    agency: String,
    category: String,
    agencies: Vec<(String, String)>,
    categories: Vec<(&'static str, &'static str)>,
    show_agency_filter: bool,
    can_manage: bool,
    name_locked: bool,
    sort_links: (String, String, String),
    prev_link: Option<String>,
    next_link: Option<String>,
}

#[derive(serde::Deserialize, Default)]
pub struct ListQuery {
    pub q: Option<String>,
    pub agency: Option<String>,
    pub category: Option<String>,
    pub sort: Option<String>,
    pub dir: Option<String>,
    pub page: Option<u64>,
    pub msg: Option<String>,
}

fn agency_options(state_agencies: &[campaigns::Agency], scope: &Scope) -> Vec<(String, String)> {
    state_agencies.iter().filter(|a| scope.covers_agency(&a.code)).map(|a| (a.code.clone(), a.name.clone())).collect()
}

async fn name_lock(state: &AppState) -> AppResult<bool> {
    let c = campaigns::current(state.store().conn()).await?;
    Ok(unit_name_locked(c.and_then(|c| c.unit_name_lock_at).map(from_ms), state.now()))
}

pub async fn list(State(state): State<AppState>, p: Principal, scope: Scope, Query(q): Query<ListQuery>) -> AppResult<Response> {
    // A unit admin's "units" page is their own unit.
    if let Scope::Unit(id) = scope {
        return Ok(see_other(&format!("/units/{id}")));
    }
    let agencies = jurisdiction::agencies(&state).await?;
    let sort = q.sort.as_deref().and_then(UnitSort::parse).unwrap_or_default();
    let descending = q.dir.as_deref() == Some("desc");
    let filter = UnitFilter {
        scope: scope.agency_filter(),
        ids: None,
        agency_code: q.agency.clone().filter(|s| !s.is_empty()),
        name_contains: q.q.clone().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()),
        category: q.category.clone().filter(|s| !s.is_empty()),
        unit_type: None,
        sort,
        descending,
    };
    let page = Page::new(q.page, None);
    let result = units::list(state.store().conn(), &filter, page).await?;
    let base = query_string(&[
        ("q", q.q.as_deref().unwrap_or("")),
        ("agency", q.agency.as_deref().unwrap_or("")),
        ("category", q.category.as_deref().unwrap_or("")),
        ("sort", sort.as_str()),
        ("dir", if descending { "desc" } else { "asc" }),
    ]);
    let sort_link = |s: UnitSort| {
        let dir = if s == sort && !descending { "desc" } else { "asc" };
        format!(
            "?{}",
            query_string(&[
                ("q", q.q.as_deref().unwrap_or("")),
                ("agency", q.agency.as_deref().unwrap_or("")),
                ("category", q.category.as_deref().unwrap_or("")),
                ("sort", s.as_str()),
                ("dir", dir)
            ])
        )
    };
    let rows = result
        .items
        .iter()
        .map(|u| UnitRow {
            id: u.id,
            name: u.name.clone(),
            credit_code: u.credit_code.clone(),
            unit_type: UnitType::parse(&u.unit_type).map_or("", UnitType::label),
            category: UnitCategory::parse(&u.category).map_or("", UnitCategory::label),
            supervising_department: u.supervising_department.clone(),
            agency: jurisdiction::agency_name(&agencies, &u.agency_code),
        })
        .collect();
    let page_struct = UnitsPage {
        chrome: Chrome::for_principal(&p, "/units").with_notice(notice(q.msg.as_deref())),
        rows,
        total: result.total,
        page: result.page.number,
        pages: result.pages(),
        q: q.q.clone().unwrap_or_default(),
        agency: q.agency.clone().unwrap_or_default(),
        category: q.category.clone().unwrap_or_default(),
        show_agency_filter: !matches!(scope, Scope::Agencies(ref c) if c.len() == 1),
        agencies: agency_options(&agencies, &scope),
        categories: UnitCategory::ALL.iter().map(|c| (c.as_str(), c.label())).collect(),
        can_manage: role_allows(p.role, Permission::ManageUnits),
        name_locked: name_lock(&state).await?,
        sort_links: (sort_link(UnitSort::Name), sort_link(UnitSort::CreditCode), sort_link(UnitSort::Agency)),
        prev_link: result.has_prev().then(|| page_link(&base, result.page.number - 1)),
        next_link: result.has_next().then(|| page_link(&base, result.page.number + 1)),
    };
    Ok(html(render(&page_struct)))
}

#[derive(Template)]
#[template(path = "unit_form.html")]
struct UnitFormPage {
    chrome: Chrome,
    heading: String,
    action: String,
    input: UnitInput,
    errors: FieldErrors,
    agencies: Vec<(String, String)>,
    categories: Vec<(&'static str, &'static str)>,
    unit_types: Vec<(&'static str, &'static str)>,
    editable: bool,
    details_only: bool,
    name_editable: bool,
    can_delete: bool,
    unit_id: i64,
    version: i32,
}

#[allow(clippy::too_many_arguments)]
async fn form_page(
    state: &AppState,
    p: &Principal,
    scope: &Scope,
    heading: String,
    action: String,
    input: UnitInput,
    errors: FieldErrors,
    unit: Option<(i64, i32)>,
) -> AppResult<String> {
    let agencies = jurisdiction::agencies(state).await?;
    let manage = role_allows(p.role, Permission::ManageUnits);
    // A unit admin corrects only the name (until the lock) and the supervising department.
    let details_only = !manage && unit.is_some() && role_allows(p.role, Permission::EditUnitDetails);
    let name_locked = name_lock(state).await?;
    let action = if details_only { format!("/units/{}/details", unit.map_or(0, |u| u.0)) } else { action };
    let page = UnitFormPage {
        chrome: Chrome::for_principal(p, "/units"),
        heading,
        action,
        input,
        errors,
        agencies: agency_options(&agencies, scope),
        categories: UnitCategory::ALL.iter().map(|c| (c.as_str(), c.label())).collect(),
        unit_types: UnitType::ALL.iter().map(|c| (c.as_str(), c.label())).collect(),
        editable: manage,
        details_only,
        name_editable: manage || (details_only && !name_locked),
        can_delete: manage && unit.is_some() && !name_locked,
        unit_id: unit.map_or(0, |u| u.0),
        version: unit.map_or(0, |u| u.1),
    };
    Ok(render(&page))
}

fn input_of(form: &FormPairs) -> UnitInput {
    UnitInput {
        name: form.get("name"),
        credit_code: form.get("credit_code"),
        unit_type: form.get("unit_type"),
        category: form.get("category"),
        supervising_department: form.get("supervising_department"),
        agency_code: form.get("agency_code"),
    }
}

pub async fn new_form(State(state): State<AppState>, p: Principal, scope: Scope) -> AppResult<Response> {
    let mut input = UnitInput { category: "local".to_owned(), unit_type: "institution".to_owned(), ..Default::default() };
    if let Some(code) = p.agency_code.clone() {
        input.agency_code = code;
    }
    Ok(html(form_page(&state, &p, &scope, "新增单位".to_owned(), "/units".to_owned(), input, FieldErrors::new(), None).await?))
}

pub async fn create(State(state): State<AppState>, p: Principal, scope: Scope, info: RequestInfo, form: FormPairs) -> AppResult<Response> {
    let input = input_of(&form);
    match services::units::create(&state, &Actor::of(&p, &info), &scope, &input).await {
        Ok(id) => Ok(see_other(&format!("/units/{id}?msg=created"))),
        Err(AppError::Invalid(errors)) => {
            let body = form_page(&state, &p, &scope, "新增单位".to_owned(), "/units".to_owned(), input, errors, None).await?;
            Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, body))
        }
        Err(e) => Err(e),
    }
}

pub async fn show(
    State(state): State<AppState>,
    p: Principal,
    scope: Scope,
    Path(id): Path<i64>,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let u = units::get(state.store().conn(), id).await?.ok_or(AppError::NotFound)?;
    let input = UnitInput {
        name: u.name.clone(),
        credit_code: u.credit_code.clone(),
        unit_type: u.unit_type.clone(),
        category: u.category.clone(),
        supervising_department: u.supervising_department.clone(),
        agency_code: u.agency_code.clone(),
    };
    let heading = if p.role == Role::UnitAdmin { format!("本单位：{}", u.name) } else { u.name.clone() };
    let body = form_page(&state, &p, &scope, heading, format!("/units/{id}"), input, FieldErrors::new(), Some((u.id, u.version))).await?;
    let body = match notice(q.msg.as_deref()) {
        Some(n) => body.replacen("<h1>", &format!("<div class=\"notice\" role=\"status\">{n}</div><h1>"), 1),
        None => body,
    };
    Ok(html(body))
}

pub async fn update(
    State(state): State<AppState>,
    p: Principal,
    scope: Scope,
    info: RequestInfo,
    Path(id): Path<i64>,
    form: FormPairs,
) -> AppResult<Response> {
    let input = input_of(&form);
    let expected: i32 = form.get("version").parse().map_err(|_| AppError::field("version", "页面数据：缺少版本信息，请刷新后重试"))?;
    match services::units::update(&state, &Actor::of(&p, &info), &scope, id, expected, &input).await {
        Ok(()) => Ok(see_other(&format!("/units/{id}?msg=saved"))),
        Err(AppError::Invalid(errors)) => {
            let body =
                form_page(&state, &p, &scope, "修改单位".to_owned(), format!("/units/{id}"), input, errors, Some((id, expected))).await?;
            Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, body))
        }
        Err(e) => Err(e),
    }
}

pub async fn update_details(
    State(state): State<AppState>,
    p: Principal,
    scope: Scope,
    info: RequestInfo,
    Path(id): Path<i64>,
    form: FormPairs,
) -> AppResult<Response> {
    let expected: i32 = form.get("version").parse().map_err(|_| AppError::field("version", "页面数据：缺少版本信息，请刷新后重试"))?;
    match services::units::update_details(
        &state,
        &Actor::of(&p, &info),
        &scope,
        id,
        expected,
        &form.get("name"),
        &form.get("supervising_department"),
    )
    .await
    {
        Ok(()) => Ok(see_other(&format!("/units/{id}?msg=saved"))),
        Err(AppError::Invalid(errors)) => {
            let u = units::get(state.store().conn(), id).await?.ok_or(AppError::NotFound)?;
            let mut input = input_of(&form);
            input.credit_code = u.credit_code;
            input.unit_type = u.unit_type;
            input.category = u.category;
            input.agency_code = u.agency_code;
            let body = form_page(
                &state,
                &p,
                &scope,
                "修改单位信息".to_owned(),
                format!("/units/{id}/details"),
                input,
                errors,
                Some((id, expected)),
            )
            .await?;
            Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, body))
        }
        Err(e) => Err(e),
    }
}

pub async fn delete(State(state): State<AppState>, p: Principal, info: RequestInfo, Path(id): Path<i64>) -> AppResult<Response> {
    services::units::delete(&state, &Actor::of(&p, &info), id).await?;
    Ok(see_other("/units?msg=deleted"))
}
