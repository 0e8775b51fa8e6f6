//! Staff accounts, managed by the system admin.
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use gongkao_domain::campaign::format_shanghai;
use gongkao_domain::paging::Page;
use gongkao_domain::person::mask_mobile;
use gongkao_domain::role::Role;
use gongkao_domain::validation::FieldErrors;
use gongkao_storage::accounts::{self, AccountFilter};
use gongkao_storage::from_ms;

use super::{FormPairs, html, html_status, no_store, see_other};
use crate::AppState;
use crate::auth::RequestInfo;
use crate::error::{AppError, AppResult};
use crate::policy::Principal;
use crate::services::{self, Actor, accounts::StaffAccountInput, jurisdiction};
use crate::view::{Chrome, notice, page_link, query_string, render};

pub struct AccountRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: &'static str,
    pub scope: String,
    pub mobile: String,
    pub status: &'static str,
    pub active: bool,
    pub last_login: String,
}

#[derive(Template)]
#[template(path = "accounts.html")]
struct AccountsPage {
    chrome: Chrome,
    rows: Vec<AccountRow>,
    roles: Vec<(&'static str, &'static str)>,
    role: String,
    q: String,
    total: u64,
    page: u64,
    pages: u64,
    prev_link: Option<String>,
    next_link: Option<String>,
}

#[derive(serde::Deserialize)]
pub struct ListQuery {
    pub q: Option<String>,
    pub role: Option<String>,
    pub page: Option<u64>,
    pub msg: Option<String>,
}

fn staff_roles() -> Vec<(&'static str, &'static str)> {
    Role::ALL.iter().filter(|r| !matches!(r, Role::Applicant)).map(|r| (r.as_str(), r.label())).collect()
}

pub async fn list(State(state): State<AppState>, p: Principal, Query(q): Query<ListQuery>) -> AppResult<Response> {
    let agencies = jurisdiction::agencies(&state).await?;
    // Applicant accounts are personal data, outside the system admin's remit.
    let role = q.role.clone().filter(|r| !r.is_empty() && r != "applicant");
    let filter = AccountFilter {
        role: role.clone(),
        username_contains: q.q.clone().filter(|s| !s.trim().is_empty()),
        include_applicants: false,
        ..Default::default()
    };
    let result = accounts::list(state.store().conn(), &filter, Page::new(q.page, None)).await?;
    let base = query_string(&[("q", q.q.as_deref().unwrap_or("")), ("role", role.as_deref().unwrap_or(""))]);
    let rows = result
        .items
        .iter()
        .map(|a| AccountRow {
            id: a.id,
            username: a.username.clone(),
            display_name: a.display_name.clone(),
            role: Role::parse(&a.role).map_or("", Role::label),
            scope: match (&a.agency_code, a.unit_id) {
                (_, Some(u)) => format!("单位 {u}"),
                (Some(c), None) => jurisdiction::agency_name(&agencies, c),
                _ => String::new(),
            },
            mobile: a.mobile.as_deref().map(mask_mobile).unwrap_or_default(),
            status: if a.status == "active" { "正常" } else { "已停用" },
            active: a.status == "active",
            last_login: a.last_login_at.map(|t| format_shanghai(from_ms(t))).unwrap_or_else(|| "从未登录".to_owned()),
        })
        .collect();
    let page = AccountsPage {
        chrome: Chrome::for_principal(&p, "/accounts").with_notice(notice(q.msg.as_deref())),
        rows,
        roles: staff_roles(),
        role: role.unwrap_or_default(),
        q: q.q.clone().unwrap_or_default(),
        total: result.total,
        page: result.page.number,
        pages: result.pages(),
        prev_link: result.has_prev().then(|| page_link(&base, result.page.number - 1)),
        next_link: result.has_next().then(|| page_link(&base, result.page.number + 1)),
    };
    Ok(html(render(&page)))
}

#[derive(Template)]
#[template(path = "account_form.html")]
struct AccountForm {
    chrome: Chrome,
    input: StaffAccountInput,
    errors: FieldErrors,
    roles: Vec<(&'static str, &'static str)>,
    agencies: Vec<(String, String)>,
}

async fn form(state: &AppState, p: &Principal, input: StaffAccountInput, errors: FieldErrors) -> AppResult<String> {
    let agencies = jurisdiction::agencies(state).await?.into_iter().map(|a| (a.code, a.name)).collect();
    let roles = Role::ALL.iter().filter(|r| !matches!(r, Role::Applicant | Role::UnitAdmin)).map(|r| (r.as_str(), r.label())).collect();
    Ok(render(&AccountForm { chrome: Chrome::for_principal(p, "/accounts"), input, errors, roles, agencies }))
}

pub async fn new_form(State(state): State<AppState>, p: Principal) -> AppResult<Response> {
    Ok(html(form(&state, &p, StaffAccountInput::default(), FieldErrors::new()).await?))
}

#[derive(Template)]
#[template(path = "secret.html")]
pub struct SecretPage {
    pub chrome: Chrome,
    pub heading: String,
    pub explanation: String,
    pub facts: Vec<(String, String)>,
    pub secret_label: String,
    pub secret: String,
    pub back_href: String,
}

pub async fn create(State(state): State<AppState>, p: Principal, info: RequestInfo, f: FormPairs) -> AppResult<Response> {
    let input = StaffAccountInput {
        username: f.get("username"),
        display_name: f.get("display_name"),
        role: f.get("role"),
        agency_code: f.get("agency_code"),
        holder_id_number: f.get("holder_id_number"),
        mobile: f.get("mobile"),
    };
    match services::accounts::create_staff_account(&state, &Actor::of(&p, &info), input.clone()).await {
        Ok(created) => Ok(no_store(render(&SecretPage {
            chrome: Chrome::for_principal(&p, "/accounts"),
            heading: "账户已创建".to_owned(),
            explanation: "请将用户名和一次性密码交给账户持有人。".to_owned(),
            facts: vec![("用户名".to_owned(), created.username)],
            secret_label: "一次性密码".to_owned(),
            secret: created.one_time_password,
            back_href: "/accounts".to_owned(),
        }))),
        Err(AppError::Invalid(errors)) => Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, form(&state, &p, input, errors).await?)),
        Err(e) => Err(e),
    }
}

pub async fn reset_password(State(state): State<AppState>, p: Principal, info: RequestInfo, Path(id): Path<i64>) -> AppResult<Response> {
    let created = services::accounts::reset_password(&state, &Actor::of(&p, &info), id).await?;
    Ok(no_store(render(&SecretPage {
        chrome: Chrome::for_principal(&p, "/accounts"),
        heading: "密码已重置".to_owned(),
        explanation: "原密码和该账户的所有登录会话已失效。".to_owned(),
        facts: vec![("用户名".to_owned(), created.username)],
        secret_label: "一次性密码".to_owned(),
        secret: created.one_time_password,
        back_href: "/accounts".to_owned(),
    })))
}

pub async fn disable(
    State(state): State<AppState>,
    p: Principal,
    info: RequestInfo,
    Path(id): Path<i64>,
    f: FormPairs,
) -> AppResult<Response> {
    if Some(id) == p.account_id {
        return Err(AppError::field("reason", "停用账户：不能停用自己的账户"));
    }
    services::accounts::set_enabled(&state, &Actor::of(&p, &info), id, false, &f.get("reason")).await?;
    Ok(see_other("/accounts?msg=disabled"))
}

pub async fn enable(
    State(state): State<AppState>,
    p: Principal,
    info: RequestInfo,
    Path(id): Path<i64>,
    f: FormPairs,
) -> AppResult<Response> {
    services::accounts::set_enabled(&state, &Actor::of(&p, &info), id, true, &f.get("reason")).await?;
    Ok(see_other("/accounts?msg=enabled"))
}
