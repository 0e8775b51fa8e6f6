//! The system admin's outbox and API tokens; the security admin's policy page.
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use gongkao_domain::campaign::format_shanghai;
use gongkao_domain::role::Role;
use gongkao_domain::validation::FieldErrors;
use gongkao_storage::{from_ms, misc};

use super::{FormPairs, html, html_status, no_store, see_other};
use crate::AppState;
use crate::auth::RequestInfo;
use crate::error::{AppError, AppResult};
use crate::pages::accounts::SecretPage;
use crate::policy::Principal;
use crate::services::{self, Actor, jurisdiction, security};
use crate::view::{Chrome, render};

#[derive(Template)]
#[template(path = "outbox.html")]
struct OutboxPage {
    chrome: Chrome,
    rows: Vec<(String, &'static str, String, String)>,
}

pub async fn outbox(State(state): State<AppState>, p: Principal) -> AppResult<Response> {
    let rows = state.sender().recent().into_iter().map(|m| (format_shanghai(m.at), m.channel, m.to, m.body)).collect();
    Ok(no_store(render(&OutboxPage { chrome: Chrome::for_principal(&p, "/outbox"), rows })))
}

pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub role: &'static str,
    pub agency: String,
    pub created_by: String,
    pub created: String,
    pub last_used: String,
    pub status: &'static str,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    chrome: Chrome,
    rows: Vec<TokenRow>,
    roles: Vec<(&'static str, &'static str)>,
    agencies: Vec<(String, String)>,
    errors: FieldErrors,
}

async fn tokens_page(state: &AppState, p: &Principal, errors: FieldErrors) -> AppResult<String> {
    let agencies = jurisdiction::agencies(state).await?;
    let rows = misc::api_tokens(state.store().conn())
        .await?
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            name: t.name,
            role: Role::parse(&t.role).map_or("", Role::label),
            agency: t.agency_code.as_deref().map(|c| jurisdiction::agency_name(&agencies, c)).unwrap_or_default(),
            created_by: t.created_by,
            created: format_shanghai(from_ms(t.created_at)),
            last_used: t.last_used_at.map(|x| format_shanghai(from_ms(x))).unwrap_or_else(|| "未使用".to_owned()),
            status: if t.revoked_at.is_some() { "已吊销" } else { "有效" },
            active: t.revoked_at.is_none(),
        })
        .collect();
    Ok(render(&TokensPage {
        chrome: Chrome::for_principal(p, "/api-tokens"),
        rows,
        roles: [Role::AgencyReviewer, Role::AgencyCashier, Role::AgencyExamOfficer].iter().map(|r| (r.as_str(), r.label())).collect(),
        agencies: agencies.into_iter().map(|a| (a.code, a.name)).collect(),
        errors,
    }))
}

pub async fn tokens(State(state): State<AppState>, p: Principal) -> AppResult<Response> {
    Ok(html(tokens_page(&state, &p, FieldErrors::new()).await?))
}

pub async fn create_token(State(state): State<AppState>, p: Principal, info: RequestInfo, f: FormPairs) -> AppResult<Response> {
    match services::tokens::create(&state, &Actor::of(&p, &info), &f.get("name"), &f.get("role"), &f.get("agency_code")).await {
        Ok((_, token)) => Ok(no_store(render(&SecretPage {
            chrome: Chrome::for_principal(&p, "/api-tokens"),
            heading: "接口令牌已签发".to_owned(),
            explanation: "对接系统在请求头中携带 Authorization: Bearer <令牌> 调用 /api/v1 接口。".to_owned(),
            facts: vec![("令牌名称".to_owned(), f.get("name"))],
            secret_label: "令牌".to_owned(),
            secret: token,
            back_href: "/api-tokens".to_owned(),
        }))),
        Err(AppError::Invalid(errors)) => Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, tokens_page(&state, &p, errors).await?)),
        Err(e) => Err(e),
    }
}

pub async fn revoke_token(State(state): State<AppState>, p: Principal, info: RequestInfo, Path(id): Path<i64>) -> AppResult<Response> {
    services::tokens::revoke(&state, &Actor::of(&p, &info), id).await?;
    Ok(see_other("/api-tokens"))
}

#[derive(Template)]
#[template(path = "security.html")]
struct SecurityPage {
    chrome: Chrome,
    fields: Vec<(&'static str, &'static str, String, i64, i64)>,
    errors: FieldErrors,
}

fn security_page(p: &Principal, values: &dyn Fn(&str) -> String, errors: FieldErrors, notice: Option<String>) -> String {
    let fields = security::FIELDS.iter().map(|(k, l, min, max)| (*k, *l, values(k), *min, *max)).collect();
    render(&SecurityPage { chrome: Chrome::for_principal(p, "/security").with_notice(notice), fields, errors })
}

pub async fn security_show(State(state): State<AppState>, p: Principal) -> AppResult<Response> {
    let policy = security::load(&state).await?;
    Ok(html(security_page(&p, &|k| policy.get(k).to_string(), FieldErrors::new(), None)))
}

pub async fn security_save(State(state): State<AppState>, p: Principal, info: RequestInfo, f: FormPairs) -> AppResult<Response> {
    match security::save(&state, &Actor::of(&p, &info), &f.0).await {
        Ok(policy) => Ok(html(security_page(&p, &|k| policy.get(k).to_string(), FieldErrors::new(), Some("已保存。".to_owned())))),
        Err(AppError::Invalid(errors)) => Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, security_page(&p, &|k| f.get(k), errors, None))),
        Err(e) => Err(e),
    }
}
