//! The JSON API under `/api/v1` for integrations, with its OpenAPI document. Authentication is a
//! bearer token (issued by the system admin, scoped like a role) or a signed-in session.
use axum::Json;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use gongkao_domain::paging::Page;
use gongkao_storage::units::{self, UnitFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::AppState;
use crate::error::AppError;
use crate::policy::Scope;
use crate::services;

/// API handlers answer errors as JSON.
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.json()
    }
}

#[derive(Serialize, ToSchema)]
pub struct WindowDto {
    /// Window code, e.g. `registration`.
    pub kind: String,
    pub label: String,
    /// RFC 3339, Asia/Shanghai offset.
    pub starts_at: String,
    pub ends_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct CampaignDto {
    pub year: i32,
    pub title: String,
    pub status: String,
    pub doc_numbers: Vec<String>,
    pub windows: Vec<WindowDto>,
    pub level1_work_types: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AgencyDto {
    pub code: String,
    pub name: String,
    pub region_name: String,
    pub kind: String,
    pub parent_code: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct UnitDto {
    pub id: i64,
    pub name: String,
    pub credit_code: String,
    pub unit_type: String,
    pub category: String,
    pub supervising_department: String,
    pub agency_code: String,
}

#[derive(Serialize, ToSchema)]
pub struct UnitPage {
    pub items: Vec<UnitDto>,
    pub total: u64,
    pub page: u64,
    pub page_size: u64,
}

#[derive(Deserialize, IntoParams)]
pub struct UnitQuery {
    /// Part of the unit name.
    pub q: Option<String>,
    /// Agency code, e.g. `410100`.
    pub agency: Option<String>,
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    gongkao_domain::campaign::to_shanghai(t).format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// The current campaign: schedule, documents, level-1 work types.
#[utoipa::path(get, path = "/api/v1/campaign", responses((status = 200, body = CampaignDto), (status = 401, description = "未认证")), security(("bearer" = [])))]
pub async fn campaign(State(state): State<AppState>) -> Result<Json<CampaignDto>, ApiError> {
    let (c, schedule) = services::campaigns::current(&state).await?;
    let level1 = gongkao_storage::campaigns::level1_work_types(state.store().conn(), c.id).await.map_err(AppError::from)?;
    Ok(Json(CampaignDto {
        year: c.year,
        title: c.title.clone(),
        status: c.status.clone(),
        doc_numbers: gongkao_storage::campaigns::doc_numbers(&c),
        windows: schedule
            .windows
            .iter()
            .map(|w| WindowDto {
                kind: w.kind.as_str().to_owned(),
                label: w.kind.label().to_owned(),
                starts_at: rfc3339(w.starts_at),
                ends_at: rfc3339(w.ends_at),
            })
            .collect(),
        level1_work_types: level1,
    }))
}

/// The agency tree of the current campaign.
#[utoipa::path(get, path = "/api/v1/agencies", responses((status = 200, body = [AgencyDto]), (status = 403, description = "无权访问")), security(("bearer" = [])))]
pub async fn agencies(State(state): State<AppState>) -> Result<Json<Vec<AgencyDto>>, ApiError> {
    let list = services::jurisdiction::agencies(&state).await?;
    Ok(Json(
        list.into_iter()
            .map(|a| AgencyDto { code: a.code, name: a.name, region_name: a.region_name, kind: a.kind, parent_code: a.parent_code })
            .collect(),
    ))
}

/// Units within the caller's jurisdiction.
#[utoipa::path(get, path = "/api/v1/units", params(UnitQuery), responses((status = 200, body = UnitPage), (status = 403, description = "无权访问")), security(("bearer" = [])))]
pub async fn units_list(State(state): State<AppState>, scope: Scope, Query(q): Query<UnitQuery>) -> Result<Json<UnitPage>, ApiError> {
    let mut filter = UnitFilter { scope: scope.agency_filter(), ..Default::default() };
    // A unit admin's list is their own unit.
    if let Scope::Unit(own) = scope {
        filter.ids = Some(vec![own]);
    }
    filter.name_contains = q.q.filter(|s| !s.trim().is_empty());
    filter.agency_code = q.agency.filter(|s| !s.trim().is_empty());
    let page = Page::new(q.page, q.page_size);
    let result = units::list(state.store().conn(), &filter, page).await.map_err(AppError::from)?;
    Ok(Json(UnitPage {
        total: result.total,
        page: result.page.number,
        page_size: result.page.size,
        items: result
            .items
            .into_iter()
            .map(|u| UnitDto {
                id: u.id,
                name: u.name,
                credit_code: u.credit_code,
                unit_type: u.unit_type,
                category: u.category,
                supervising_department: u.supervising_department,
                agency_code: u.agency_code,
            })
            .collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct EvaluateRequest {
    /// Campaign year whose rule set applies; default: the current campaign.
    pub campaign: Option<i32>,
    /// Evaluation date `YYYY-MM-DD` (Beijing); default: today.
    pub date: Option<String>,
    /// Levels to check (1–5); default: all five.
    #[serde(default)]
    pub levels: Vec<u8>,
    /// Person facts; the fields are listed in docs/eligibility.md.
    #[schema(value_type = Object)]
    pub facts: serde_json::Value,
}

/// Evaluates one person's eligibility with the full trace (the same function the application
/// form uses). Nothing is stored.
#[utoipa::path(post, path = "/api/v1/eligibility/evaluate", request_body = EvaluateRequest, responses((status = 200, description = "每个等级的审核结论和完整依据"), (status = 422, description = "字段有误")), security(("bearer" = [])))]
pub async fn evaluate_eligibility(State(state): State<AppState>, body: axum::body::Bytes) -> Result<Response, ApiError> {
    use gongkao_domain::campaign::Level;
    use gongkao_domain::eligibility::PersonFacts;
    use services::eligibility::{evaluate_json, rule_set_for};
    let req: EvaluateRequest =
        serde_json::from_slice(&body).map_err(|e| AppError::field("body", format!("请求内容：不是有效的 JSON 请求（{e}）")))?;
    let facts: PersonFacts = serde_json::from_value(req.facts).map_err(|e| AppError::field("facts", format!("人员信息：{e}")))?;
    let year = match req.campaign {
        Some(y) => y,
        None => services::campaigns::current(&state).await?.0.year,
    };
    let rules = rule_set_for(&format!("HN-GK-{year}"))?;
    let on = match req.date.as_deref() {
        Some(d) => time::Date::parse(d.trim(), time::macros::format_description!("[year]-[month]-[day]"))
            .map_err(|_| AppError::field("date", "评估日期：应为真实的 年-月-日，例如 2020-04-13"))?,
        None => gongkao_domain::campaign::to_shanghai(state.now()).date(),
    };
    let levels = if req.levels.is_empty() {
        Level::ALL.to_vec()
    } else {
        req.levels
            .iter()
            .map(|n| Level::from_number(*n).ok_or_else(|| AppError::field("levels", format!("等级：{n} 无效，应为 1 至 5"))))
            .collect::<Result<Vec<_>, _>>()?
    };
    Ok(Json(evaluate_json(&facts, &rules, on, &levels)).into_response())
}

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "河南工考接口", description = "河南省机关事业单位工勤技能岗位等级考核管理系统对接接口。令牌由系统管理员签发，权限与所授角色和管理机构相同。", version = "1"),
    paths(campaign, agencies, units_list, evaluate_eligibility),
    components(schemas(CampaignDto, WindowDto, AgencyDto, UnitDto, UnitPage, EvaluateRequest)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

pub async fn openapi_json() -> Response {
    Json(ApiDoc::openapi()).into_response()
}

/// A browsable page rendered on the server from the same document (no external scripts, so it
/// works on a closed network and under the strict CSP).
pub async fn docs() -> Response {
    let doc = ApiDoc::openapi();
    let mut out = String::from(
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>接口文档 - 河南工考</title><link rel=\"stylesheet\" href=\"/static/app.css\"></head><body><main id=\"content\">",
    );
    out.push_str(&format!(
        "<h1>{}</h1><p>{}</p><p><a href=\"/api/openapi.json\">OpenAPI 文档（JSON）</a></p>",
        esc(&doc.info.title),
        esc(doc.info.description.as_deref().unwrap_or(""))
    ));
    for (path, item) in &doc.paths.paths {
        let ops = [("GET", &item.get), ("POST", &item.post), ("PUT", &item.put), ("DELETE", &item.delete)];
        for (method, op) in ops {
            let Some(op) = op else { continue };
            out.push_str(&format!(
                "<div class=\"panel\"><h2>{method} {}</h2><p>{}</p>",
                esc(path),
                esc(op.description.as_deref().or(op.summary.as_deref()).unwrap_or(""))
            ));
            if let Some(params) = &op.parameters {
                out.push_str("<table><thead><tr><th>参数</th><th>必填</th><th>说明</th></tr></thead><tbody>");
                for p in params {
                    out.push_str(&format!(
                        "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                        esc(&p.name),
                        if matches!(p.required, utoipa::openapi::Required::True) { "是" } else { "否" },
                        esc(p.description.as_deref().unwrap_or(""))
                    ));
                }
                out.push_str("</tbody></table>");
            }
            out.push_str("<p class=\"muted\">响应：");
            for code in op.responses.responses.keys() {
                out.push_str(&format!("{} ", esc(code)));
            }
            out.push_str("</p></div>");
        }
    }
    out.push_str("</main></body></html>");
    Html(out).into_response()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
