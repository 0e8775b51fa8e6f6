//! 名册预审: a unit's Excel roster checked against the campaign's rule set and sent back with
//! a verdict and the reasons on every row.
use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use gongkao_domain::validation::FieldErrors;

use super::{html, html_status, xlsx};
use crate::AppState;
use crate::auth::RequestInfo;
use crate::error::{AppError, AppResult};
use crate::policy::Principal;
use crate::services::{self, Actor};
use crate::view::{Chrome, render};

#[derive(Template)]
#[template(path = "roster.html")]
struct RosterPage {
    chrome: Chrome,
    rule_set: String,
    errors: FieldErrors,
}

async fn page(state: &AppState, p: &Principal, errors: FieldErrors) -> AppResult<String> {
    let (campaign, _) = services::campaigns::current(state).await?;
    let rules = services::eligibility::rule_set_for(&campaign.rule_set_id)?;
    Ok(render(&RosterPage {
        chrome: Chrome::for_principal(p, "/eligibility/roster"),
        rule_set: format!("{} 第 {} 版", rules.id, rules.version),
        errors,
    }))
}

pub async fn roster_page(State(state): State<AppState>, p: Principal) -> AppResult<Response> {
    Ok(html(page(&state, &p, FieldErrors::new()).await?))
}

pub async fn roster_template() -> AppResult<Response> {
    Ok(xlsx("roster-template.xlsx", services::eligibility::roster_template()?))
}

pub async fn check_roster(State(state): State<AppState>, p: Principal, info: RequestInfo, mut multipart: Multipart) -> AppResult<Response> {
    let mut bytes = None;
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some("file") {
            bytes = Some(field.bytes().await.map_err(|_| AppError::field("file", "文件：上传中断，请重试"))?.to_vec());
        }
    }
    let Some(bytes) = bytes.filter(|b| !b.is_empty()) else {
        return Ok(html_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            page(&state, &p, FieldErrors(vec![gongkao_domain::validation::FieldError::new("file", "文件：请选择要预审的名册")])).await?,
        ));
    };
    let (campaign, _) = services::campaigns::current(&state).await?;
    let rules = services::eligibility::rule_set_for(&campaign.rule_set_id)?;
    let on = gongkao_domain::campaign::to_shanghai(state.now()).date();
    match services::eligibility::annotate_roster(&bytes, &rules, on) {
        Ok(report) => {
            let summary = format!(
                "名册 {} 行，至少一个等级符合 {} 行，资料有误 {} 行；规则集 {} v{}",
                report.rows, report.eligible_rows, report.rows_with_errors, rules.id, rules.version
            );
            services::audit::record(&state, Actor::of(&p, &info).record("eligibility.roster", "roster", summary)).await?;
            Ok(xlsx("roster-checked.xlsx", report.bytes))
        }
        Err(AppError::Invalid(errors)) => Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, page(&state, &p, errors).await?)),
        Err(e) => Err(e),
    }
}
