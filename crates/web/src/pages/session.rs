//! Sign-in, sign-out and the own-password page.
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gongkao_domain::validation::FieldErrors;

use super::{FormPairs, html, html_status, see_other};
use crate::AppState;
use crate::auth::{MaybePrincipal, PRE_CSRF_COOKIE, RequestInfo, SESSION_COOKIE, cookie, random_token, set_cookie};
use crate::error::{AppError, AppResult};
use crate::policy::Principal;
use crate::services::{Actor, accounts, security};
use crate::view::{Chrome, notice, render};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    error: Option<String>,
    username: String,
}

/// Public forms carry a double-submit token: a cookie plus the same value in the form.
pub fn pre_csrf(state: &AppState, headers: &HeaderMap) -> (String, Option<String>) {
    match cookie(headers, PRE_CSRF_COOKIE) {
        Some(v) if v.len() >= 16 => (v.to_owned(), None),
        _ => {
            let t = random_token(24);
            let c = set_cookie(state, PRE_CSRF_COOKIE, &t, None);
            (t, Some(c))
        }
    }
}

pub fn with_cookie(resp: Response, set: Option<String>) -> Response {
    match set {
        Some(c) => ([(header::SET_COOKIE, c)], resp).into_response(),
        None => resp,
    }
}

#[derive(serde::Deserialize)]
pub struct MsgQuery {
    pub msg: Option<String>,
}

pub async fn login_page(
    State(state): State<AppState>,
    MaybePrincipal(p): MaybePrincipal,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<MsgQuery>,
) -> Response {
    if p.is_some() {
        return see_other("/");
    }
    let (token, set) = pre_csrf(&state, &headers);
    let page = LoginPage { chrome: Chrome::public(&token).with_notice(notice(q.msg.as_deref())), error: None, username: String::new() };
    with_cookie(html(render(&page)), set)
}

pub async fn login(State(state): State<AppState>, info: RequestInfo, headers: HeaderMap, form: FormPairs) -> Response {
    let username = form.get("username");
    let password = form.get("password");
    match accounts::login(&state, &username, &password, &info.client_ip).await {
        Ok(ok) => {
            let c = set_cookie(&state, SESSION_COOKIE, &ok.cookie_value, Some(state.config().session_hours * 3600));
            let to = if ok.account.must_change_password { "/account/password" } else { "/" };
            ([(header::SET_COOKIE, c)], see_other(to)).into_response()
        }
        Err(e) => {
            let status = e.status();
            let message = match &e {
                AppError::Invalid(_) => accounts::LOGIN_FAILED.to_owned(),
                other => other.message(),
            };
            let (token, set) = pre_csrf(&state, &headers);
            let page = LoginPage { chrome: Chrome::public(&token), error: Some(message), username };
            with_cookie(html_status(status, render(&page)), set)
        }
    }
}

pub async fn logout(State(state): State<AppState>, p: Principal, info: RequestInfo, headers: HeaderMap) -> AppResult<Response> {
    if let Some(raw) = cookie(&headers, SESSION_COOKIE) {
        accounts::logout(&state, raw, &Actor::of(&p, &info)).await?;
    }
    let clear = set_cookie(&state, SESSION_COOKIE, "", Some(0));
    Ok(([(header::SET_COOKIE, clear)], see_other("/login?msg=logged_out")).into_response())
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    chrome: Chrome,
    forced: bool,
    errors: FieldErrors,
    min_length: i64,
}

pub async fn password_page(State(state): State<AppState>, p: Principal) -> AppResult<Response> {
    let policy = security::load(&state).await?;
    let page = PasswordPage {
        chrome: Chrome::for_principal(&p, "/account/password"),
        forced: p.must_change_password,
        errors: FieldErrors::new(),
        min_length: policy.password_min_length,
    };
    Ok(html(render(&page)))
}

pub async fn change_password(State(state): State<AppState>, p: Principal, info: RequestInfo, form: FormPairs) -> AppResult<Response> {
    let account_id = p.account_id.ok_or(AppError::Forbidden)?;
    let result = accounts::change_own_password(
        &state,
        &Actor::of(&p, &info),
        account_id,
        &form.get("current_password"),
        &form.get("new_password"),
        &form.get("confirm_password"),
    )
    .await;
    match result {
        Ok(()) => {
            let clear = set_cookie(&state, SESSION_COOKIE, "", Some(0));
            Ok(([(header::SET_COOKIE, clear)], see_other("/login?msg=password")).into_response())
        }
        Err(AppError::Invalid(errors)) => {
            let policy = security::load(&state).await?;
            let page = PasswordPage {
                chrome: Chrome::for_principal(&p, "/account/password"),
                forced: p.must_change_password,
                errors,
                min_length: policy.password_min_length,
            };
            Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, render(&page)))
        }
        Err(e) => Err(e),
    }
}
