//! Server-rendered pages, one module per area. Handlers parse, call a service, render.
pub mod accounts;
pub mod admin;
pub mod agencies;
pub mod applicants;
pub mod applications;
pub mod audit;
pub mod campaign;
pub mod eligibility;
pub mod exam;
pub mod exam_sites;
pub mod fees;
pub mod files;
pub mod home;
pub mod items;
pub mod jobs;
pub mod papers;
pub mod practice;
pub mod proctor;
pub mod recover;
pub mod review;
pub mod session;
pub mod signup;
pub mod tickets;
pub mod training;
pub mod unit_admin;
pub mod units;

use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};

/// Form bodies as ordered pairs; never fails, so every field error is reported in Chinese by
/// the service that validates it.
pub struct FormPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> axum::extract::FromRequest<S> for FormPairs {
    type Rejection = crate::error::AppError;
    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes =
            axum::body::Bytes::from_request(req, state).await.map_err(|_| crate::error::AppError::field("body", "请求内容：无法读取"))?;
        Ok(FormPairs(form_urlencoded::parse(&bytes).into_owned().collect()))
    }
}

impl FormPairs {
    pub fn get(&self, key: &str) -> String {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or_default()
    }
}

pub fn html(body: String) -> Response {
    Html(body).into_response()
}

pub fn html_status(status: axum::http::StatusCode, body: String) -> Response {
    (status, Html(body)).into_response()
}

pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Pages that show a secret once (one-time passwords, new tokens) must not be cached.
pub fn no_store(body: String) -> Response {
    ([(header::CACHE_CONTROL, "no-store")], Html(body)).into_response()
}

/// A PDF shown in the browser's viewer (printing is the usual next step); never cached, since
/// rosters, receipts and tickets carry personal data.
pub fn pdf(filename: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (header::CONTENT_DISPOSITION, format!("inline; filename=\"{filename}\"")),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response()
}

/// An Excel download; never cached, since exports carry personal data.
pub fn xlsx(filename: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response()
}
