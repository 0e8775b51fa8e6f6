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

pub struct CheckField {
    pub key: &'static str,
    pub label: &'static str,
    pub input_type: &'static str,
    pub hint: &'static str,
    pub value: String,
}

#[derive(Template)]
#[template(path = "check.html")]
struct CheckPage {
    chrome: Chrome,
    fields: Vec<CheckField>,
    errors: FieldErrors,
    trace: Option<crate::view::TraceView>,
}

pub fn hint(key: &str) -> &'static str {
    match key {
        "sex" => "男 或 女",
        "staff_type" => "在岗正式工作人员 或 聘用工作人员",
        "in_post"
        | "years_at_level_continuous"
        | "unit_attests_high_skill"
        | "wage_approval_form_level2"
        | "cn_journal_paper"
        | "work_type_changed_by_car_reform" => "是 或 否",
        "education" => "小学、初中、高中、职高、技校、中专、大专、本科、研究生",
        "levels" => "如 3，或 2,3；不填则审核一级至五级",
        "held_level" | "appointed_post_level" => "1 至 5，没有填 无",
        "certificate_source" => "考核取得、技能竞赛晋升、原有证书 或 破格晋升",
        "annual_appraisals" => "如 2015优秀,2016合格,2017合格,2018合格,2019合格",
        _ => "",
    }
}

fn check_fields(f: &crate::pages::FormPairs) -> Vec<CheckField> {
    services::eligibility::ROSTER_COLUMNS
        .iter()
        .enumerate()
        .map(|(i, (key, label, _))| CheckField {
            key,
            label,
            input_type: if [3, 6, 7, 14].contains(&i) { "date" } else { "text" },
            hint: hint(key),
            value: f.get(key),
        })
        .collect()
}

pub async fn check_page(p: Principal) -> AppResult<Response> {
    let empty = crate::pages::FormPairs(Vec::new());
    Ok(html(render(&CheckPage {
        chrome: Chrome::for_principal(&p, "/eligibility/check"),
        fields: check_fields(&empty),
        errors: FieldErrors::new(),
        trace: None,
    })))
}

pub async fn check(State(state): State<AppState>, p: Principal, f: crate::pages::FormPairs) -> AppResult<Response> {
    let chrome = Chrome::for_principal(&p, "/eligibility/check");
    match services::eligibility::facts_from_form(&f.0) {
        Ok((facts, levels)) => {
            let (campaign, _) = services::campaigns::current(&state).await?;
            let rules = services::eligibility::rule_set_for(&campaign.rule_set_id)?;
            let on = gongkao_domain::campaign::to_shanghai(state.now()).date();
            let evaluation = gongkao_domain::eligibility::evaluate(&facts, &rules, on, &levels);
            let trace = Some(crate::view::TraceView::of(&evaluation));
            Ok(html(render(&CheckPage { chrome, fields: check_fields(&f), errors: FieldErrors::new(), trace })))
        }
        Err(errors) => {
            Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, render(&CheckPage { chrome, fields: check_fields(&f), errors, trace: None })))
        }
    }
}
