//! The audit log, for the audit admin only.
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use gongkao_domain::campaign::{format_shanghai, shanghai_datetime};
use gongkao_domain::paging::Page;
use gongkao_domain::validation::FieldErrors;
use gongkao_storage::audit::{self, AuditFilter};
use gongkao_storage::{from_ms, to_ms};

use super::html;
use crate::AppState;
use crate::auth::RequestInfo;
use crate::error::AppResult;
use crate::policy::Principal;
use crate::services::Actor;
use crate::view::{Chrome, page_link, query_string, render};

pub struct AuditRow {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub role: String,
    pub jurisdiction: String,
    pub action: String,
    pub target: String,
    pub summary: String,
    pub client_ip: String,
    pub outcome: &'static str,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    chain_status: String,
    export_link: String,
    rows: Vec<AuditRow>,
    actor: String,
    action: String,
    outcome: String,
    from: String,
    to: String,
    outcomes: Vec<(&'static str, &'static str)>,
    errors: FieldErrors,
    total: u64,
    page: u64,
    pages: u64,
    prev_link: Option<String>,
    next_link: Option<String>,
}

#[derive(serde::Deserialize, Default)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub outcome: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub page: Option<u64>,
}

fn outcome_label(o: &str) -> &'static str {
    match o {
        "ok" => "成功",
        "denied" => "拒绝访问",
        _ => "失败",
    }
}

/// The filter from the query string; a bad date is a field error and leaves that bound open.
fn filter_of(q: &AuditQuery) -> (AuditFilter, FieldErrors) {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let mut errors = FieldErrors::new();
    let mut day = |v: &Option<String>, field: &str, label: &str, next: bool| -> Option<i64> {
        let s = v.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
        match time::Date::parse(s, fmt) {
            Ok(d) => {
                let d = if next { d.next_day().unwrap_or(d) } else { d };
                Some(to_ms(shanghai_datetime(d, 0, 0)))
            }
            Err(_) => {
                errors.push(field, format!("{label}：请按 年-月-日 填写"));
                None
            }
        }
    };
    let from_ms_v = day(&q.from, "from", "起始日期", false);
    let to_ms_v = day(&q.to, "to", "截止日期", true);
    let filter = AuditFilter {
        actor: q.actor.clone().filter(|s| !s.trim().is_empty()),
        action: q.action.clone().filter(|s| !s.trim().is_empty()),
        outcome: q.outcome.clone().filter(|s| !s.is_empty()),
        from_ms: from_ms_v,
        to_ms: to_ms_v,
    };
    (filter, errors)
}

fn base_query(q: &AuditQuery) -> String {
    query_string(&[
        ("actor", q.actor.as_deref().unwrap_or("")),
        ("action", q.action.as_deref().unwrap_or("")),
        ("outcome", q.outcome.as_deref().unwrap_or("")),
        ("from", q.from.as_deref().unwrap_or("")),
        ("to", q.to.as_deref().unwrap_or("")),
    ])
}

/// The filtered log as an Excel file; the export itself is audited.
pub async fn export(State(state): State<AppState>, p: Principal, info: RequestInfo, Query(q): Query<AuditQuery>) -> AppResult<Response> {
    let (filter, errors) = filter_of(&q);
    errors.into_result()?;
    let bytes = crate::services::exports::audit_log(&state, &Actor::of(&p, &info), &filter).await?;
    Ok(super::xlsx("audit-log.xlsx", bytes))
}

pub async fn list(State(state): State<AppState>, p: Principal, Query(q): Query<AuditQuery>) -> AppResult<Response> {
    let (filter, errors) = filter_of(&q);
    let db = state.store().conn();
    let result = audit::list(db, &filter, Page::new(q.page, Some(50))).await?;
    let chain_status = match audit::verify(state.store()).await? {
        Ok(n) => format!("哈希链校验通过：共 {n} 条记录，未发现修改、删除或顺序调换。"),
        Err(b) => format!("哈希链校验失败：{b}"),
    };
    let base = base_query(&q);
    let rows = result
        .items
        .iter()
        .map(|r| AuditRow {
            seq: r.seq,
            at: format_shanghai(from_ms(r.at_ms)),
            actor: r.actor.clone(),
            role: r.role.clone(),
            jurisdiction: r.jurisdiction.clone(),
            action: r.action.clone(),
            target: r.target.clone(),
            summary: r.summary.clone(),
            client_ip: r.client_ip.clone(),
            outcome: outcome_label(&r.outcome),
        })
        .collect();
    let page = AuditPage {
        chrome: Chrome::for_principal(&p, "/audit"),
        chain_status,
        export_link: format!("/audit/export.xlsx?{base}"),
        rows,
        actor: q.actor.clone().unwrap_or_default(),
        action: q.action.clone().unwrap_or_default(),
        outcome: q.outcome.clone().unwrap_or_default(),
        from: q.from.clone().unwrap_or_default(),
        to: q.to.clone().unwrap_or_default(),
        outcomes: vec![("ok", "成功"), ("failed", "失败"), ("denied", "拒绝访问")],
        errors,
        total: result.total,
        page: result.page.number,
        pages: result.pages(),
        prev_link: result.has_prev().then(|| page_link(&base, result.page.number - 1)),
        next_link: result.has_next().then(|| page_link(&base, result.page.number + 1)),
    };
    Ok(html(render(&page)))
}
