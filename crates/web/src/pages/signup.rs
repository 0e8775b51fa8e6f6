//! Applicant sign-up in two steps: personal data and a code to the mobile, then the password.
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gongkao_domain::campaign::WindowKind;
use gongkao_domain::person::mask_mobile;
use gongkao_domain::validation::FieldErrors;

use super::session::{pre_csrf, with_cookie};
use super::{FormPairs, html, html_status, see_other};
use crate::AppState;
use crate::auth::RequestInfo;
use crate::error::{AppError, AppResult};
use crate::services::{self, signup::SignupInput};
use crate::view::{Chrome, render};

#[derive(Template)]
#[template(path = "signup.html")]
struct SignupPage {
    chrome: Chrome,
    window: String,
    input: SignupInput,
    errors: FieldErrors,
    general_error: Option<String>,
    code_sent: bool,
    masked_mobile: String,
}

async fn page(
    state: &AppState,
    csrf: &str,
    input: SignupInput,
    errors: FieldErrors,
    general_error: Option<String>,
    code_sent: bool,
) -> AppResult<String> {
    let (_, schedule) = services::campaigns::current(state).await?;
    let window = schedule
        .window(WindowKind::Registration)
        .map(|w| format!("网上报名时间：{}（北京时间），截止后停止受理。", w.label()))
        .unwrap_or_default();
    let masked_mobile = mask_mobile(input.mobile.trim());
    Ok(render(&SignupPage { chrome: Chrome::public(csrf), window, input, errors, general_error, code_sent, masked_mobile }))
}

pub async fn form(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    let (token, set) = pre_csrf(&state, &headers);
    Ok(with_cookie(html(page(&state, &token, SignupInput::default(), FieldErrors::new(), None, false).await?), set))
}

pub async fn submit(State(state): State<AppState>, info: RequestInfo, headers: HeaderMap, f: FormPairs) -> AppResult<Response> {
    let input = SignupInput {
        id_number: f.get("id_number"),
        name: f.get("name"),
        birth_date: f.get("birth_date"),
        sex: f.get("sex"),
        mobile: f.get("mobile"),
        code: f.get("code"),
        password: f.get("password"),
        confirm_password: f.get("confirm_password"),
    };
    let completing = f.get("step") == "complete";
    let result = if completing {
        services::signup::complete(&state, &info.client_ip, &input).await.map(|_| true)
    } else {
        services::signup::request_code(&state, &info.client_ip, &input).await.map(|_| false)
    };
    let (token, set) = pre_csrf(&state, &headers);
    let mut shown = input.clone();
    shown.password.clear();
    shown.confirm_password.clear();
    shown.code.clear();
    match result {
        Ok(true) => Ok(see_other("/login?msg=signed_up")),
        Ok(false) => Ok(with_cookie(html(page(&state, &token, shown, FieldErrors::new(), None, true).await?), set)),
        Err(AppError::Invalid(errors)) => Ok(with_cookie(
            html_status(StatusCode::UNPROCESSABLE_ENTITY, page(&state, &token, shown, errors, None, completing).await?),
            set,
        )),
        Err(e @ (AppError::Conflict(_) | AppError::TooManyRequests(_))) => {
            Ok(with_cookie(html_status(e.status(), page(&state, &token, shown, FieldErrors::new(), Some(e.message()), false).await?), set))
        }
        Err(e) => Err(e),
    }
}
