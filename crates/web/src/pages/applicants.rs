//! Applicants' person records, within the caller's jurisdiction, masked in the list.
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use gongkao_domain::campaign::Level;
use gongkao_domain::id_number::IdNumber;
use gongkao_domain::paging::Page;
use gongkao_domain::person::{Sex, mask_mobile};
use gongkao_storage::units::{self, ApplicantFilter};

use super::html;
use crate::AppState;
use crate::auth::RequestInfo;
use crate::error::AppResult;
use crate::policy::{Principal, Scope};
use crate::services::Actor;
use crate::view::{Chrome, page_link, query_string, render};

pub struct Row {
    pub name: String,
    pub id_number: String,
    pub sex: &'static str,
    pub mobile: String,
    pub unit: String,
    pub work_type: String,
    pub level: &'static str,
    pub work_start: String,
}

#[derive(Template)]
#[template(path = "applicants.html")]
struct ApplicantsPage {
    chrome: Chrome,
    rows: Vec<Row>,
    export_link: String,
    q: String,
    work_type: String,
    total: u64,
    page: u64,
    pages: u64,
    prev_link: Option<String>,
    next_link: Option<String>,
}

#[derive(serde::Deserialize)]
pub struct ListQuery {
    pub q: Option<String>,
    pub work_type: Option<String>,
    pub page: Option<u64>,
}

fn filter_of(scope: &Scope, q: &ListQuery) -> ApplicantFilter {
    let mut filter = ApplicantFilter {
        name_contains: q.q.clone().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()),
        work_type: q.work_type.clone().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()),
        ..Default::default()
    };
    match scope {
        Scope::Unit(id) => filter.unit_ids = Some(vec![*id]),
        other => filter.scope_agencies = other.agency_filter(),
    }
    filter
}

/// The full records (unmasked) within the caller's jurisdiction, as Excel; audited as an
/// export of personal data.
pub async fn export(
    State(state): State<AppState>,
    p: Principal,
    scope: Scope,
    info: RequestInfo,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let filter = filter_of(&scope, &q);
    let label = match &scope {
        Scope::Province => "全省".to_owned(),
        Scope::Agencies(c) => c.join(","),
        Scope::Unit(u) => format!("unit:{u}"),
        _ => String::new(),
    };
    let bytes = crate::services::exports::applicants(&state, &Actor::of(&p, &info), &filter, &label).await?;
    Ok(super::xlsx("applicants.xlsx", bytes))
}

pub async fn list(State(state): State<AppState>, p: Principal, scope: Scope, Query(q): Query<ListQuery>) -> AppResult<Response> {
    let filter = filter_of(&scope, &q);
    let db = state.store().conn();
    let result = units::list_applicants(db, &filter, Page::new(q.page, None)).await?;
    let mut rows = Vec::with_capacity(result.items.len());
    for a in &result.items {
        let unit = match a.unit_id {
            Some(id) => units::get(db, id).await?.map(|u| u.name).unwrap_or_default(),
            None => String::new(),
        };
        rows.push(Row {
            name: a.name.clone(),
            id_number: IdNumber::parse(&a.id_number).map(|i| i.masked()).unwrap_or_else(|_| "****".to_owned()),
            sex: Sex::parse(&a.sex).map_or("", Sex::label),
            mobile: mask_mobile(&a.mobile),
            unit,
            work_type: a.work_type.clone().unwrap_or_default(),
            level: a.current_level.and_then(|l| u8::try_from(l).ok()).and_then(Level::from_number).map_or("无", Level::short_label),
            work_start: a.work_start_date.clone().unwrap_or_default(),
        });
    }
    let base = query_string(&[("q", q.q.as_deref().unwrap_or("")), ("work_type", q.work_type.as_deref().unwrap_or(""))]);
    let page = ApplicantsPage {
        chrome: Chrome::for_principal(&p, "/applicants"),
        rows,
        export_link: format!("/applicants/export.xlsx?{base}"),
        q: q.q.clone().unwrap_or_default(),
        work_type: q.work_type.clone().unwrap_or_default(),
        total: result.total,
        page: result.page.number,
        pages: result.pages(),
        prev_link: result.has_prev().then(|| page_link(&base, result.page.number - 1)),
        next_link: result.has_next().then(|| page_link(&base, result.page.number + 1)),
    };
    Ok(html(render(&page)))
}
