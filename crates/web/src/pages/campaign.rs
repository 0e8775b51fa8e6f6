//! Campaign settings: schedule, fee table, level-1 work types, catalogue import, copying.
use askama::Template;
use axum::extract::{Multipart, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use gongkao_domain::campaign::{FeeItem, Level, format_fen, format_shanghai};
use gongkao_domain::validation::FieldErrors;
use gongkao_storage::{campaigns, from_ms};

use super::{FormPairs, html, html_status, see_other};
use crate::AppState;
use crate::auth::RequestInfo;
use crate::error::{AppError, AppResult};
use crate::policy::{Principal, Scope};
use crate::services::{self, Actor};
use crate::view::{Chrome, notice, render};

pub struct WindowRow {
    pub label: &'static str,
    pub range: String,
    pub starts_field: String,
    pub starts_value: String,
    pub ends_field: String,
    pub ends_value: String,
}

/// (field name, amount in yuan, item label)
type FeeCell = (String, String, &'static str);
/// (level label, one cell per fee item)
type FeeRow = (&'static str, Vec<FeeCell>);

#[derive(Template)]
#[template(path = "campaign.html")]
struct CampaignPage {
    chrome: Chrome,
    campaign: campaigns::Campaign,
    status: &'static str,
    docs: Vec<String>,
    catalogue: String,
    work_type_count: usize,
    lock_label: String,
    /// (label, range, starts field, starts value, ends field, ends value)
    windows: Vec<WindowRow>,
    fee_items: Vec<(&'static str, &'static str)>,
    fees: Vec<FeeRow>,
    level1: Vec<String>,
    /// (year, title, status label, can be activated)
    all_campaigns: Vec<(i32, String, &'static str, bool)>,
    can_manage: bool,
    next_year: i32,
    /// The computer-based exam's rules (机考规则).
    delivery: gongkao_domain::exam::delivery::DeliveryRules,
    errors: FieldErrors,
}

async fn page(state: &AppState, p: &Principal, scope: &Scope, errors: FieldErrors, msg: Option<&str>) -> AppResult<String> {
    let (campaign, schedule) = services::campaigns::current(state).await?;
    let db = state.store().conn();
    let fees = campaigns::fees(db, campaign.id).await?;
    let catalogue = campaigns::catalogue_by_id(db, campaign.catalogue_id).await?;
    let work_type_count = campaigns::work_types(db, campaign.catalogue_id).await?.len();
    let fee_rows = Level::ALL
        .iter()
        .map(|l| {
            let cells = FeeItem::ALL
                .iter()
                .map(|f| {
                    let amount = fees.iter().find(|x| x.level == i32::from(l.number()) && x.item == f.as_str()).map_or(0, |x| x.amount_fen);
                    (format!("fee_{}_{}", l.number(), f.as_str()), format_fen(amount), f.label())
                })
                .collect();
            (l.label(), cells)
        })
        .collect();
    let page = CampaignPage {
        chrome: Chrome::for_principal(p, "/campaign").with_notice(notice(msg)),
        status: match campaign.status.as_str() {
            "active" => "进行中",
            "draft" => "草稿",
            _ => "已归档",
        },
        docs: campaigns::doc_numbers(&campaign),
        catalogue: catalogue.map(|c| format!("{}（{}）", c.title, c.doc_number)).unwrap_or_default(),
        work_type_count,
        lock_label: campaign.unit_name_lock_at.map(|ms| format_shanghai(from_ms(ms))).unwrap_or_else(|| "未设置".to_owned()),
        windows: schedule
            .windows
            .iter()
            .map(|w| WindowRow {
                label: w.kind.label(),
                range: w.label(),
                starts_field: format!("{}_starts_at", w.kind.as_str()),
                starts_value: format_shanghai(w.starts_at),
                ends_field: format!("{}_ends_at", w.kind.as_str()),
                ends_value: gongkao_domain::campaign::format_shanghai_end(w.ends_at),
            })
            .collect(),
        fee_items: FeeItem::ALL.iter().map(|f| (f.as_str(), f.label())).collect(),
        fees: fee_rows,
        level1: campaigns::level1_work_types(db, campaign.id).await?,
        all_campaigns: campaigns::list(db)
            .await?
            .into_iter()
            .map(|c| {
                let label = match c.status.as_str() {
                    "active" => "进行中",
                    "draft" => "草稿",
                    _ => "已归档",
                };
                (c.year, c.title, label, c.status == "draft")
            })
            .collect(),
        can_manage: p.role == gongkao_domain::role::Role::AgencyExamOfficer && matches!(scope, Scope::Province),
        next_year: campaign.year + 1,
        delivery: services::delivery::delivery_rules(state).await?,
        campaign,
        errors,
    };
    Ok(render(&page))
}

#[derive(serde::Deserialize)]
pub struct MsgQuery {
    pub msg: Option<String>,
}

pub async fn show(State(state): State<AppState>, p: Principal, scope: Scope, Query(q): Query<MsgQuery>) -> AppResult<Response> {
    Ok(html(page(&state, &p, &scope, FieldErrors::new(), q.msg.as_deref()).await?))
}

async fn or_errors(state: &AppState, p: &Principal, scope: &Scope, r: AppResult<()>, ok: &str) -> AppResult<Response> {
    match r {
        Ok(()) => Ok(see_other(ok)),
        Err(AppError::Invalid(errors)) => Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, page(state, p, scope, errors, None).await?)),
        Err(e) => Err(e),
    }
}

fn year_of(form: &FormPairs) -> AppResult<i32> {
    form.get("year").trim().parse::<i32>().map_err(|_| AppError::field("year", "考核年度：请填写四位数字年份"))
}

pub async fn save_fees(
    State(state): State<AppState>,
    p: Principal,
    scope: Scope,
    info: RequestInfo,
    form: FormPairs,
) -> AppResult<Response> {
    let r = services::campaigns::set_fees(&state, &Actor::of(&p, &info), &form.0).await;
    or_errors(&state, &p, &scope, r, "/campaign?msg=saved").await
}

pub async fn save_delivery(
    State(state): State<AppState>,
    p: Principal,
    scope: Scope,
    info: RequestInfo,
    form: FormPairs,
) -> AppResult<Response> {
    let r = services::delivery::set_rules(&state, &Actor::of(&p, &info), &form.0).await.map(|_| ());
    or_errors(&state, &p, &scope, r, "/campaign?msg=saved").await
}

pub async fn save_schedule(
    State(state): State<AppState>,
    p: Principal,
    scope: Scope,
    info: RequestInfo,
    form: FormPairs,
) -> AppResult<Response> {
    let r = services::campaigns::set_windows(&state, &Actor::of(&p, &info), &form.0).await;
    or_errors(&state, &p, &scope, r, "/campaign?msg=saved").await
}

pub async fn activate(
    State(state): State<AppState>,
    p: Principal,
    scope: Scope,
    info: RequestInfo,
    form: FormPairs,
) -> AppResult<Response> {
    let r = match year_of(&form) {
        Ok(y) => services::campaigns::activate(&state, &Actor::of(&p, &info), y).await,
        Err(e) => Err(e),
    };
    or_errors(&state, &p, &scope, r, "/campaign?msg=saved").await
}

pub async fn copy(State(state): State<AppState>, p: Principal, scope: Scope, info: RequestInfo, form: FormPairs) -> AppResult<Response> {
    let r = match year_of(&form) {
        Ok(y) => services::campaigns::copy_to_year(&state, &Actor::of(&p, &info), y).await.map(|_| ()),
        Err(e) => Err(e),
    };
    or_errors(&state, &p, &scope, r, "/campaign?msg=created").await
}

pub async fn import_work_types(
    State(state): State<AppState>,
    p: Principal,
    scope: Scope,
    info: RequestInfo,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let mut bytes = None;
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some("file") {
            bytes = Some(field.bytes().await.map_err(|_| AppError::field("file", "文件：上传中断，请重试"))?.to_vec());
        }
    }
    let r = match bytes {
        Some(b) if !b.is_empty() => services::campaigns::import_work_types(&state, &Actor::of(&p, &info), b).await.map(|_| ()),
        _ => Err(AppError::field("file", "文件：请选择要导入的 Excel 文件")),
    };
    or_errors(&state, &p, &scope, r, "/campaign?msg=imported").await
}

/// The import template: one header cell and two example rows.
pub async fn work_type_template() -> AppResult<Response> {
    let bytes = crate::services::campaigns::work_type_template().map_err(AppError::Internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"work-types-template.xlsx\""),
        ],
        bytes,
    )
        .into_response())
}
