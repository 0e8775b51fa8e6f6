//! 找回密码 for applicants: a code to the registered mobile, then a new password.
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gongkao_domain::validation::FieldErrors;

use super::session::{pre_csrf, with_cookie};
use super::{FormPairs, html, html_status, see_other};
use crate::AppState;
use crate::auth::RequestInfo;
use crate::error::{AppError, AppResult};
use crate::services::recovery;
use crate::view::{Chrome, render};

#[derive(Template)]
#[template(path = "recover.html")]
struct RecoverPage {
    chrome: Chrome,
    id_number: String,
    mobile: String,
    masked_mobile: String,
    code_sent: bool,
    errors: FieldErrors,
    general_error: Option<String>,
}

fn page(csrf: &str, f: &FormPairs, code_sent: bool, masked: String, errors: FieldErrors, general_error: Option<String>) -> String {
    render(&RecoverPage {
        chrome: Chrome::public(csrf),
        id_number: f.get("id_number"),
        mobile: f.get("mobile"),
        masked_mobile: masked,
        code_sent,
        errors,
        general_error,
    })
}

pub async fn form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (token, set) = pre_csrf(&state, &headers);
    with_cookie(html(page(&token, &FormPairs(Vec::new()), false, String::new(), FieldErrors::new(), None)), set)
}

pub async fn submit(State(state): State<AppState>, info: RequestInfo, headers: HeaderMap, f: FormPairs) -> AppResult<Response> {
    let (token, set) = pre_csrf(&state, &headers);
    let completing = f.get("step") == "complete";
    if completing {
        return match recovery::complete(
            &state,
            &info.client_ip,
            &f.get("id_number"),
            &f.get("mobile"),
            &f.get("code"),
            &f.get("password"),
            &f.get("confirm_password"),
        )
        .await
        {
            Ok(()) => Ok(see_other("/login?msg=password")),
            Err(AppError::Invalid(e)) => {
                Ok(with_cookie(html_status(StatusCode::UNPROCESSABLE_ENTITY, page(&token, &f, true, String::new(), e, None)), set))
            }
            Err(e) => Err(e),
        };
    }
    match recovery::request_code(&state, &info.client_ip, &f.get("id_number"), &f.get("mobile")).await {
        Ok(masked) => Ok(with_cookie(html(page(&token, &f, true, masked, FieldErrors::new(), None)), set)),
        Err(AppError::Invalid(e)) => {
            Ok(with_cookie(html_status(StatusCode::UNPROCESSABLE_ENTITY, page(&token, &f, false, String::new(), e, None)), set))
        }
        Err(e @ AppError::TooManyRequests(_)) => {
            Ok(with_cookie(html_status(e.status(), page(&token, &f, false, String::new(), FieldErrors::new(), Some(e.message()))), set))
        }
        Err(e) => Err(e),
    }
}
