//! One error type for handlers, rendered as a Chinese HTML page or as JSON under `/api`.
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use gongkao_domain::validation::{FieldError, FieldErrors};
use gongkao_storage::StoreError;

#[derive(Debug)]
pub enum AppError {
    /// Not signed in (pages redirect to the login page; the API answers 401).
    Unauthenticated,
    /// An exam route without a live seat session (pages go to the exam login; scripts get 401).
    SeatSessionRequired,
    /// Outside the caller's role or jurisdiction. Deliberately says nothing about the target.
    Forbidden,
    NotFound,
    /// Bad input: each message names its field. Nothing was changed.
    Invalid(FieldErrors),
    /// A guarded transition lost a race, or the action is not allowed in the current state.
    Conflict(String),
    TooManyRequests(String),
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn field(field: &str, message: impl Into<String>) -> AppError {
        let mut e = FieldErrors::new();
        e.push(field, message);
        AppError::Invalid(e)
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthenticated | AppError::SeatSessionRequired => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn message(&self) -> String {
        match self {
            AppError::Unauthenticated => "请先登录".to_owned(),
            AppError::SeatSessionRequired => "登录已失效（可能已在其他座位登录或被监考员调换座位），请重新登录".to_owned(),
            AppError::Forbidden => "无权访问：该操作或数据不在您的职责和管辖范围内".to_owned(),
            AppError::NotFound => "未找到该页面或记录".to_owned(),
            AppError::Invalid(e) => e.to_string(),
            AppError::Conflict(m) | AppError::TooManyRequests(m) => m.clone(),
            AppError::Internal(_) => "系统内部错误，请稍后重试或联系系统管理员".to_owned(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated => "unauthenticated",
            AppError::SeatSessionRequired => "seat_session_required",
            AppError::Forbidden => "forbidden",
            AppError::NotFound => "not_found",
            AppError::Invalid(_) => "invalid",
            AppError::Conflict(_) => "conflict",
            AppError::TooManyRequests(_) => "too_many_requests",
            AppError::Internal(_) => "internal",
        }
    }

    pub fn json(&self) -> Response {
        let fields: Vec<FieldError> = match self {
            AppError::Invalid(e) => e.0.clone(),
            _ => Vec::new(),
        };
        let body = serde_json::json!({ "error": { "code": self.code(), "message": self.message(), "fields": fields } });
        (self.status(), axum::Json(body)).into_response()
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict => AppError::Conflict("记录已被他人修改或状态已变化，请刷新后重试".to_owned()),
            StoreError::Duplicate(m) => AppError::Conflict(format!("与已有记录重复：{m}")),
            StoreError::Db(e) => AppError::Internal(e.to_string()),
        }
    }
}

impl From<FieldErrors> for AppError {
    fn from(e: FieldErrors) -> Self {
        AppError::Invalid(e)
    }
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        AppError::Invalid(FieldErrors(vec![e]))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        if matches!(self, AppError::Unauthenticated) {
            return axum::response::Redirect::to("/login").into_response();
        }
        if matches!(self, AppError::SeatSessionRequired) {
            return axum::response::Redirect::to("/exam/login").into_response();
        }
        let page = crate::view::ErrorPage { title: self.status().canonical_reason().unwrap_or("错误"), message: self.message() };
        (self.status(), Html(crate::view::render(&page))).into_response()
    }
}
