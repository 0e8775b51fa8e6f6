//! 附件2: the public registration form, its print view, and the agency's review.
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gongkao_domain::campaign::{WindowKind, format_shanghai};
use gongkao_domain::jurisdiction::{UnitCategory, UnitType};
use gongkao_domain::onboarding::RequestStatus;
use gongkao_domain::paging::Page;
use gongkao_domain::person::{Sex, mask_mobile};
use gongkao_domain::validation::FieldErrors;
use gongkao_storage::{from_ms, misc};

use super::session::{pre_csrf, with_cookie};
use super::{FormPairs, html, html_status, no_store};
use crate::AppState;
use crate::auth::RequestInfo;
use crate::error::{AppError, AppResult};
use crate::pages::accounts::SecretPage;
use crate::policy::{Principal, Scope};
use crate::services::{self, Actor, jurisdiction, unit_admin::RequestInput};
use crate::view::{Chrome, render};

pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub value: String,
    pub hint: &'static str,
    pub options: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "uar_form.html")]
struct FormPage {
    chrome: Chrome,
    deadline: String,
    unit_fields: Vec<Field>,
    person_fields: Vec<Field>,
    errors: FieldErrors,
    general_error: Option<String>,
}

fn f(name: &'static str, label: &'static str, value: &str, hint: &'static str, options: Vec<(String, String)>) -> Field {
    Field { name, label, value: value.to_owned(), hint, options }
}

async fn form_page(
    state: &AppState,
    csrf: &str,
    input: &RequestInput,
    errors: FieldErrors,
    general_error: Option<String>,
) -> AppResult<String> {
    let (_, schedule) = services::campaigns::current(state).await?;
    let agencies: Vec<(String, String)> =
        jurisdiction::agencies(state).await?.into_iter().filter(|a| a.parent_code.is_some()).map(|a| (a.code, a.name)).collect();
    let page = FormPage {
        chrome: Chrome::public(csrf),
        deadline: schedule
            .window(WindowKind::UnitAdminSetup)
            .map(|w| format!("填报截止：{}。", format_shanghai(w.ends_at)))
            .unwrap_or_default(),
        unit_fields: vec![
            f("unit_name", "单位名称", &input.unit_name, "", vec![]),
            f("credit_code", "统一社会信用代码", &input.credit_code, "18 位", vec![]),
            f(
                "unit_type",
                "单位类型",
                &input.unit_type,
                "",
                UnitType::ALL.iter().map(|t| (t.as_str().to_owned(), t.label().to_owned())).collect(),
            ),
            f(
                "category",
                "单位类别",
                &input.category,
                "省直单位、中央驻豫单位报省工考中心",
                UnitCategory::ALL.iter().map(|t| (t.as_str().to_owned(), t.label().to_owned())).collect(),
            ),
            f("supervising_department", "主管部门", &input.supervising_department, "", vec![]),
            f("agency_code", "同级工考管理机构", &input.agency_code, "属地单位选择所在省辖市、济源示范区或省直管县（市）", agencies),
        ],
        person_fields: vec![
            f("person_name", "姓名", &input.person_name, "", vec![]),
            f("sex", "性别", &input.sex, "", vec![("male".into(), "男".into()), ("female".into(), "女".into())]),
            f("department", "工作部门", &input.department, "", vec![]),
            f("post", "职务", &input.post, "", vec![]),
            f("office_phone", "办公电话", &input.office_phone, "", vec![]),
            f("mobile", "手机号码", &input.mobile, "", vec![]),
        ],
        errors,
        general_error,
    };
    Ok(render(&page))
}

pub async fn form(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    let (token, set) = pre_csrf(&state, &headers);
    Ok(with_cookie(html(form_page(&state, &token, &RequestInput::default(), FieldErrors::new(), None).await?), set))
}

fn input_of(f: &FormPairs) -> RequestInput {
    RequestInput {
        unit_name: f.get("unit_name"),
        credit_code: f.get("credit_code"),
        unit_type: f.get("unit_type"),
        category: f.get("category"),
        supervising_department: f.get("supervising_department"),
        agency_code: f.get("agency_code"),
        person_name: f.get("person_name"),
        sex: f.get("sex"),
        department: f.get("department"),
        post: f.get("post"),
        office_phone: f.get("office_phone"),
        mobile: f.get("mobile"),
    }
}

#[derive(Template)]
#[template(path = "uar_print.html")]
struct PrintPage {
    chrome: Chrome,
    r: misc::UnitAdminRequest,
    sex: &'static str,
    mobile: String,
    agency: String,
    submitted_on: String,
    submitted: bool,
}

async fn print_page(state: &AppState, r: misc::UnitAdminRequest, submitted: bool) -> AppResult<String> {
    let agencies = jurisdiction::agencies(state).await?;
    Ok(render(&PrintPage {
        chrome: Chrome::public(""),
        sex: Sex::parse(&r.sex).map_or("", Sex::label),
        mobile: r.mobile.clone(),
        agency: jurisdiction::agency_name(&agencies, &r.agency_code),
        submitted_on: format_shanghai(from_ms(r.submitted_at)).chars().take(10).collect(),
        submitted,
        r,
    }))
}

pub async fn submit(State(state): State<AppState>, info: RequestInfo, headers: HeaderMap, form: FormPairs) -> AppResult<Response> {
    let input = input_of(&form);
    match services::unit_admin::submit(&state, &info.client_ip, &input).await {
        Ok(r) => Ok(no_store(print_page(&state, r, true).await?)),
        Err(AppError::Invalid(errors)) => {
            let (token, set) = pre_csrf(&state, &headers);
            Ok(with_cookie(html_status(StatusCode::UNPROCESSABLE_ENTITY, form_page(&state, &token, &input, errors, None).await?), set))
        }
        Err(AppError::Conflict(m)) => {
            let (token, set) = pre_csrf(&state, &headers);
            Ok(with_cookie(html_status(StatusCode::CONFLICT, form_page(&state, &token, &input, FieldErrors::new(), Some(m)).await?), set))
        }
        Err(e) => Err(e),
    }
}

pub struct Row {
    pub id: i64,
    pub reference_no: String,
    pub unit: String,
    pub person: String,
    pub mobile: String,
    pub agency: String,
    pub submitted: String,
    pub status: &'static str,
}

fn status_label(s: &str) -> &'static str {
    RequestStatus::parse(s).map_or("", RequestStatus::label)
}

#[derive(Template)]
#[template(path = "uar_list.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    total: u64,
    status: String,
    statuses: Vec<(&'static str, &'static str)>,
}

#[derive(serde::Deserialize)]
pub struct ListQuery {
    pub status: Option<String>,
    pub page: Option<u64>,
    pub msg: Option<String>,
}

pub async fn list(State(state): State<AppState>, p: Principal, scope: Scope, Query(q): Query<ListQuery>) -> AppResult<Response> {
    let status = q.status.clone().unwrap_or_else(|| "pending".to_owned());
    let filter_status = (status != "all").then_some(status.as_str());
    let agencies = jurisdiction::agencies(&state).await?;
    let scope_codes = scope.agency_filter();
    let result =
        misc::list_unit_admin_requests(state.store().conn(), scope_codes.as_deref(), filter_status, Page::new(q.page, Some(100))).await?;
    let rows = result
        .items
        .iter()
        .map(|r| Row {
            id: r.id,
            reference_no: r.reference_no.clone(),
            unit: r.unit_name.clone(),
            person: r.person_name.clone(),
            mobile: mask_mobile(&r.mobile),
            agency: jurisdiction::agency_name(&agencies, &r.agency_code),
            submitted: format_shanghai(from_ms(r.submitted_at)),
            status: status_label(&r.status),
        })
        .collect();
    let page = ListPage {
        chrome: Chrome::for_principal(&p, "/unit-admin-requests").with_notice(crate::view::notice(q.msg.as_deref())),
        rows,
        total: result.total,
        status,
        statuses: vec![("pending", "待审核"), ("approved", "已通过"), ("rejected", "已退回"), ("all", "全部")],
    };
    Ok(html(render(&page)))
}

#[derive(Template)]
#[template(path = "uar_detail.html")]
struct DetailPage {
    chrome: Chrome,
    r: misc::UnitAdminRequest,
    sex: &'static str,
    mobile: String,
    agency: String,
    status: &'static str,
    errors: FieldErrors,
}

async fn detail_page(state: &AppState, p: &Principal, id: i64, errors: FieldErrors) -> AppResult<String> {
    let r = misc::unit_admin_request(state.store().conn(), id).await?.ok_or(AppError::NotFound)?;
    let agencies = jurisdiction::agencies(state).await?;
    Ok(render(&DetailPage {
        chrome: Chrome::for_principal(p, "/unit-admin-requests"),
        sex: Sex::parse(&r.sex).map_or("", Sex::label),
        mobile: r.mobile.clone(),
        agency: jurisdiction::agency_name(&agencies, &r.agency_code),
        status: status_label(&r.status),
        errors,
        r,
    }))
}

pub async fn show(State(state): State<AppState>, p: Principal, Path(id): Path<i64>) -> AppResult<Response> {
    Ok(html(detail_page(&state, &p, id, FieldErrors::new()).await?))
}

pub async fn approve(
    State(state): State<AppState>,
    p: Principal,
    scope: Scope,
    info: RequestInfo,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    match services::unit_admin::approve(&state, &Actor::of(&p, &info), &scope, id).await {
        Ok(created) => Ok(no_store(render(&SecretPage {
            chrome: Chrome::for_principal(&p, "/unit-admin-requests"),
            heading: "已开通单位管理员账户".to_owned(),
            explanation: "账户信息已通过短信发送至登记的手机号码；也可当面交付。".to_owned(),
            facts: vec![("用户名".to_owned(), created.username)],
            secret_label: "一次性密码".to_owned(),
            secret: created.one_time_password,
            back_href: "/unit-admin-requests".to_owned(),
        }))),
        Err(AppError::Invalid(errors)) => Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, detail_page(&state, &p, id, errors).await?)),
        Err(e) => Err(e),
    }
}

pub async fn reject(
    State(state): State<AppState>,
    p: Principal,
    info: RequestInfo,
    Path(id): Path<i64>,
    form: FormPairs,
) -> AppResult<Response> {
    match services::unit_admin::reject(&state, &Actor::of(&p, &info), id, &form.get("reason")).await {
        Ok(()) => Ok(super::see_other("/unit-admin-requests?msg=rejected")),
        Err(AppError::Invalid(errors)) => Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, detail_page(&state, &p, id, errors).await?)),
        Err(e) => Err(e),
    }
}
