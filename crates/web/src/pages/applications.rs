//! The applicant's application page, the unit admin's list and the application detail with the
//! unit's initial review (初审).
use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gongkao_domain::application::{ApplicationAction, ApplicationStatus};
use gongkao_domain::campaign::{Level, WindowKind, format_shanghai, to_shanghai};
use gongkao_domain::eligibility::{PersonFacts, evaluate};
use gongkao_domain::id_number::IdNumber;
use gongkao_domain::paging::Page;
use gongkao_domain::role::Role;
use gongkao_domain::validation::FieldErrors;
use gongkao_storage::applications::{self, Application};
use gongkao_storage::{from_ms, units};

use super::eligibility::{CheckField, hint};
use super::{FormPairs, html, html_status, see_other};
use crate::AppState;
use crate::auth::RequestInfo;
use crate::error::{AppError, AppResult};
use crate::policy::{Principal, Scope};
use crate::services::applications::{act, save, verdict_label};
use crate::services::{self, Actor};
use crate::view::{Chrome, TraceView, notice, page_link, render};

type History = Vec<(String, String, &'static str, &'static str, String)>;

async fn history(state: &AppState, id: i64) -> AppResult<History> {
    Ok(applications::events(state.store().conn(), id)
        .await?
        .into_iter()
        .map(|e| {
            let action = match e.action.as_str() {
                "create" => "填写申报",
                "edit" => "修改申报信息",
                "photo_upload" => "上传照片",
                "attachment_upload" => "上传附件",
                "attachment_delete" => "删除附件",
                other => {
                    gongkao_domain::application::ApplicationAction::ALL.iter().find(|a| a.as_str() == other).map_or("其他", |a| a.label())
                }
            };
            let status = ApplicationStatus::parse(&e.to_status).map_or("", ApplicationStatus::label);
            (format_shanghai(from_ms(e.at)), e.actor, action, status, e.reason)
        })
        .collect())
}

/// The full trace, reproduced from the stored facts with the rule set the application used.
fn trace_of(a: &Application) -> Option<TraceView> {
    let rules = services::eligibility::rule_set_for(&a.rule_set_id).ok()?;
    let facts: PersonFacts = serde_json::from_str(&a.facts).ok()?;
    let level = u8::try_from(a.target_level).ok().and_then(Level::from_number)?;
    let on = to_shanghai(from_ms(a.submitted_at.unwrap_or(a.updated_at))).date();
    Some(TraceView::of(&evaluate(&facts, &rules, on, &[level])))
}

#[derive(Template)]
#[template(path = "application.html")]
struct MyApplicationPage {
    chrome: Chrome,
    campaign_title: String,
    window: String,
    status_label: &'static str,
    /// Admitted: the ticket can be printed once seating is done and the window opens.
    admitted: bool,
    has_application: bool,
    application_id: i64,
    verdict_label: &'static str,
    rule_set: String,
    editable: bool,
    can_submit: bool,
    can_withdraw: bool,
    version: i32,
    unit_credit_code: String,
    target_level: String,
    fields: Vec<CheckField>,
    errors: FieldErrors,
    general_error: Option<String>,
    trace: Option<TraceView>,
    history: History,
    /// What the applicant must know now: the on-site check and what to bring, a reopening's
    /// deadline, the level-1 dossier's state.
    notes: Vec<String>,
    files: Option<super::files::FilesView>,
    /// The training class the applicant is enrolled in, with their attendance.
    training: Option<services::training::OwnTraining>,
}

async fn my_page(
    state: &AppState,
    p: &Principal,
    form: Option<&FormPairs>,
    errors: FieldErrors,
    general_error: Option<String>,
) -> AppResult<String> {
    let applicant_id = p.applicant_id.ok_or(AppError::Forbidden)?;
    let (campaign, schedule) = services::campaigns::current(state).await?;
    let db = state.store().conn();
    let app = applications::latest_for(db, campaign.id, applicant_id).await?;
    let live = app.as_ref().filter(|a| ApplicationStatus::parse(&a.status).is_some_and(ApplicationStatus::is_live));
    let status = app.as_ref().and_then(|a| ApplicationStatus::parse(&a.status));
    let editable = live.is_none() || status.is_some_and(ApplicationStatus::editable);
    // The form shows what was typed after a refused save, else what is stored.
    let stored: Vec<(String, String)> = match (form, live) {
        (Some(f), _) => f.0.clone(),
        (None, Some(a)) => stored_pairs(state, a).await?,
        (None, None) => registered_pairs(state, applicant_id).await?,
    };
    let pairs = FormPairs(stored);
    let fields = services::eligibility::ROSTER_COLUMNS
        .iter()
        .enumerate()
        .filter(|(_, (key, ..))| !matches!(*key, "name" | "id_number" | "sex" | "birth_date" | "levels"))
        .map(|(i, (key, label, _))| CheckField {
            key,
            label,
            input_type: if [6, 7, 14].contains(&i) { "date" } else { "text" },
            hint: hint(key),
            value: pairs.get(key),
        })
        .collect();
    let page = MyApplicationPage {
        chrome: Chrome::for_principal(p, "/application"),
        campaign_title: campaign.title.clone(),
        window: schedule.window(WindowKind::Registration).map(|w| w.label()).unwrap_or_default(),
        status_label: match (live, status) {
            (None, Some(s)) if !s.is_live() => s.label(),
            (None, _) => "尚未填写",
            (Some(_), Some(s)) => s.label(),
            _ => "",
        },
        has_application: live.is_some(),
        admitted: live.is_some_and(|a| a.status == "admitted"),
        application_id: live.map_or(0, |a| a.id),
        verdict_label: live.map_or("", |a| verdict_label(&a.verdict)),
        rule_set: live.map(|a| format!("{} 第 {} 版", a.rule_set_id, a.rule_set_version)).unwrap_or_default(),
        editable,
        can_submit: status.is_some_and(|s| matches!(s, ApplicationStatus::Draft | ApplicationStatus::Returned)),
        can_withdraw: status.is_some_and(|s| live.is_some() && s.editable()),
        version: live.map_or(0, |a| a.version),
        unit_credit_code: pairs.get("unit_credit_code"),
        target_level: pairs.get("target_level"),
        fields,
        errors,
        general_error,
        trace: live.and_then(trace_of),
        history: match live {
            Some(a) => history(state, a.id).await?,
            None => Vec::new(),
        },
        notes: match live {
            Some(a) => applicant_notes(state, a).await?,
            None => Vec::new(),
        },
        files: match live {
            Some(a) => Some(super::files::view(state, a, editable).await?),
            None => None,
        },
        training: match live {
            Some(a) => services::training::own_training(state, a.id).await?,
            None => None,
        },
    };
    Ok(render(&page))
}

async fn applicant_notes(state: &AppState, a: &Application) -> AppResult<Vec<String>> {
    let mut notes = Vec::new();
    if a.status == ApplicationStatus::OnSiteRequired.as_str()
        && let Some(n) = &a.on_site_note
    {
        notes.push(format!("请到工考管理机构进行现场审查确认。{n}"));
    }
    if a.status == ApplicationStatus::Returned.as_str()
        && let Some(t) = a.reopened_until
    {
        notes.push(format!("工考管理机构已重新开放您的申报，请于 {} 前修改并重新提交。", format_shanghai(from_ms(t))));
    }
    if let Some(d) = services::dossiers::view(state, a).await? {
        notes.push(format!(
            "一级档案材料：{}{}",
            d.state,
            if d.missing.is_empty() { String::new() } else { format!("（尚缺：{}）", d.missing) }
        ));
    }
    Ok(notes)
}

/// A first application starts from what the person registered: their unit and work type.
async fn registered_pairs(state: &AppState, applicant_id: i64) -> AppResult<Vec<(String, String)>> {
    let db = state.store().conn();
    let Some(person) = units::applicant(db, applicant_id).await? else { return Ok(Vec::new()) };
    let unit = match person.unit_id {
        Some(id) => units::get(db, id).await?.map(|u| u.credit_code).unwrap_or_default(),
        None => String::new(),
    };
    Ok(vec![("unit_credit_code".to_owned(), unit), ("current_work_type".to_owned(), person.work_type.unwrap_or_default())])
}

/// The stored application as form fields, so editing starts from what was saved.
async fn stored_pairs(state: &AppState, a: &Application) -> AppResult<Vec<(String, String)>> {
    let facts: PersonFacts = serde_json::from_str(&a.facts).unwrap_or_default();
    let unit = match a.unit_id {
        Some(id) => units::get(state.store().conn(), id).await?.map(|u| u.credit_code).unwrap_or_default(),
        None => String::new(),
    };
    let d = |x: Option<time::Date>| x.map(gongkao_domain::campaign::format_date).unwrap_or_default();
    let yn = |x: Option<bool>| x.map(|b| if b { "是" } else { "否" }.to_owned()).unwrap_or_default();
    let cert = facts.certificates.first();
    let v = vec![
        ("unit_credit_code", unit),
        ("target_level", a.target_level.to_string()),
        ("staff_type", facts.staff_type.map(|s| s.label().to_owned()).unwrap_or_default()),
        ("in_post", yn(facts.in_post)),
        ("work_start_date", d(facts.work_start_date)),
        ("regularised_on", d(facts.regularised_on)),
        ("education", facts.education.map(|e| e.label().to_owned()).unwrap_or_default()),
        ("current_work_type", facts.current_work_type.clone().unwrap_or_default()),
        ("applied_work_type", facts.applied_work_type.clone().unwrap_or_default()),
        ("held_level", cert.map(|c| c.level.to_string()).unwrap_or_default()),
        ("certificate_work_type", cert.and_then(|c| c.work_type.clone()).unwrap_or_default()),
        ("certificate_issued_on", d(cert.and_then(|c| c.issued_on))),
        ("certificate_source", cert.and_then(|c| c.source).map(|s| s.label().to_owned()).unwrap_or_default()),
        ("years_at_level_continuous", yn(facts.years_at_level_continuous)),
        ("appointed_post_level", facts.appointed_post_level.map(|l| l.to_string()).unwrap_or_default()),
        (
            "annual_appraisals",
            facts.annual_appraisals.iter().map(|a| format!("{}{}", a.year, a.grade.label())).collect::<Vec<_>>().join(","),
        ),
        ("unit_attests_high_skill", yn(facts.unit_attests_high_skill)),
        ("wage_approval_form_level2", yn(facts.wage_approval_form_level2)),
        ("cn_journal_paper", yn(facts.cn_journal_paper)),
        ("work_type_changed_by_car_reform", if facts.work_type_changed_by_car_reform { "是".to_owned() } else { String::new() }),
    ];
    Ok(v.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

pub async fn mine(State(state): State<AppState>, p: Principal, Query(q): Query<super::agencies::MsgQuery>) -> AppResult<Response> {
    let body = my_page(&state, &p, None, FieldErrors::new(), None).await?;
    let body = match notice(q.msg.as_deref()) {
        Some(n) => body.replacen("<h1>", &format!("<div class=\"notice\" role=\"status\">{n}</div><h1>"), 1),
        None => body,
    };
    Ok(html(body))
}

pub(crate) async fn refused(state: &AppState, p: &Principal, form: Option<&FormPairs>, e: AppError) -> AppResult<Response> {
    match e {
        AppError::Invalid(errors) => Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, my_page(state, p, form, errors, None).await?)),
        AppError::Conflict(m) => Ok(html_status(StatusCode::CONFLICT, my_page(state, p, form, FieldErrors::new(), Some(m)).await?)),
        other => Err(other),
    }
}

pub async fn save_mine(State(state): State<AppState>, p: Principal, info: RequestInfo, f: FormPairs) -> AppResult<Response> {
    let version = f.get("version").parse().ok().filter(|v| *v > 0);
    match save(&state, &p, &Actor::of(&p, &info), &f.0, version).await {
        Ok(_) => Ok(see_other("/application?msg=saved")),
        Err(e) => refused(&state, &p, Some(&f), e).await,
    }
}

async fn act_on_mine(state: &AppState, p: &Principal, info: &RequestInfo, action: ApplicationAction, pledge: bool) -> AppResult<Response> {
    let (campaign, _) = services::campaigns::current(state).await?;
    let applicant_id = p.applicant_id.ok_or(AppError::Forbidden)?;
    let app = applications::live_for(state.store().conn(), campaign.id, applicant_id).await?.ok_or(AppError::NotFound)?;
    match act(state, p, &Actor::of(p, info), app.id, action, "", pledge).await {
        Ok(_) => Ok(see_other("/application?msg=saved")),
        Err(e) => refused(state, p, None, e).await,
    }
}

pub async fn submit_mine(State(state): State<AppState>, p: Principal, info: RequestInfo, f: FormPairs) -> AppResult<Response> {
    act_on_mine(&state, &p, &info, ApplicationAction::Submit, f.get("pledge") == "yes").await
}

pub async fn withdraw_mine(State(state): State<AppState>, p: Principal, info: RequestInfo) -> AppResult<Response> {
    act_on_mine(&state, &p, &info, ApplicationAction::Withdraw, false).await
}

pub struct UnitRow {
    pub id: i64,
    pub name: String,
    pub id_number: String,
    pub work_type: String,
    pub level: &'static str,
    pub verdict: &'static str,
    pub changed: bool,
    pub status: &'static str,
}

#[derive(Template)]
#[template(path = "unit_applications.html")]
struct UnitListPage {
    chrome: Chrome,
    deadline: String,
    rows: Vec<UnitRow>,
    total: u64,
    status: String,
    statuses: Vec<(&'static str, &'static str)>,
    prev_link: Option<String>,
    next_link: Option<String>,
    import: ImportView,
}

/// The bulk registration panel's outcome: every error of a refused file, or how many were
/// registered. Askama escapes the messages, which quote cells of the uploaded file.
#[derive(Default)]
pub struct ImportView {
    pub errors: Vec<String>,
    pub imported: Option<u32>,
}

#[derive(serde::Deserialize)]
pub struct ListQuery {
    pub status: Option<String>,
    pub page: Option<u64>,
    pub imported: Option<u32>,
}

pub async fn unit_list(State(state): State<AppState>, p: Principal, Query(q): Query<ListQuery>) -> AppResult<Response> {
    let import = ImportView { errors: Vec::new(), imported: q.imported };
    Ok(html(unit_page(&state, &p, &q, import).await?))
}

/// The unit admin's bulk registration: all rows or none; a refused file is shown with all its
/// errors on the same page.
pub async fn unit_import(
    State(state): State<AppState>,
    p: Principal,
    info: RequestInfo,
    multipart: Result<Multipart, MultipartRejection>,
) -> AppResult<Response> {
    let r = match read_upload(multipart).await {
        Ok(bytes) => services::bulk::import(&state, &p, &Actor::of(&p, &info), bytes).await,
        Err(e) => Err(e),
    };
    let q = ListQuery { status: None, page: None, imported: None };
    let (status, errors) = match r {
        Ok(n) => return Ok(see_other(&format!("/unit-applications?imported={n}"))),
        Err(AppError::Invalid(e)) => (StatusCode::UNPROCESSABLE_ENTITY, e.iter().map(|x| x.message.clone()).collect()),
        Err(AppError::Conflict(m)) => (StatusCode::CONFLICT, vec![m]),
        Err(other) => return Err(other),
    };
    Ok(html_status(status, unit_page(&state, &p, &q, ImportView { errors, imported: None }).await?))
}

async fn read_upload(multipart: Result<Multipart, MultipartRejection>) -> AppResult<Vec<u8>> {
    let unreadable = || AppError::field("file", "文件：请选择要导入的 Excel 文件（.xlsx）后上传");
    let mut multipart = multipart.map_err(|_| unreadable())?;
    while let Some(field) = multipart.next_field().await.map_err(|_| unreadable())? {
        if field.name() == Some("file") {
            let bytes = field.bytes().await.map_err(|_| AppError::field("file", "文件：上传中断，请重试"))?;
            if bytes.is_empty() {
                return Err(unreadable());
            }
            return Ok(bytes.to_vec());
        }
    }
    Err(unreadable())
}

/// The bulk registration template.
pub async fn unit_import_template() -> AppResult<Response> {
    let bytes = services::bulk::template()?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (axum::http::header::CONTENT_DISPOSITION, "attachment; filename=\"bulk-registration-template.xlsx\""),
        ],
        bytes,
    )
        .into_response())
}

async fn unit_page(state: &AppState, p: &Principal, q: &ListQuery, import: ImportView) -> AppResult<String> {
    let unit_id = p.unit_id.ok_or(AppError::Forbidden)?;
    let (campaign, schedule) = services::campaigns::current(state).await?;
    let db = state.store().conn();
    let status = q.status.clone().unwrap_or_else(|| "submitted".to_owned());
    let filter = (status != "all").then_some(status.as_str());
    let result = applications::list_for_unit(db, campaign.id, unit_id, filter, Page::new(q.page, None)).await?;
    let mut rows = Vec::new();
    for a in &result.items {
        let person = units::applicant(db, a.applicant_id).await?;
        rows.push(UnitRow {
            id: a.id,
            name: person.as_ref().map(|x| x.name.clone()).unwrap_or_default(),
            id_number: person.and_then(|x| IdNumber::parse(&x.id_number).ok()).map(|i| i.masked()).unwrap_or_default(),
            work_type: a.work_type.clone(),
            level: u8::try_from(a.target_level).ok().and_then(Level::from_number).map_or("", Level::short_label),
            verdict: verdict_label(&a.verdict),
            changed: a.previous_verdict.is_some(),
            status: ApplicationStatus::parse(&a.status).map_or("", ApplicationStatus::label),
        });
    }
    let base = crate::view::query_string(&[("status", status.as_str())]);
    let mut statuses = vec![("all", "全部")];
    // Drafts are listed last: the ones the unit registered in bulk wait for the applicant.
    statuses.extend(ApplicationStatus::ALL.iter().filter(|s| **s != ApplicationStatus::Draft).map(|s| (s.as_str(), s.label())));
    statuses.push((ApplicationStatus::Draft.as_str(), "草稿（本人尚未提交）"));
    let page = UnitListPage {
        chrome: Chrome::for_principal(p, "/unit-applications"),
        deadline: schedule
            .window(WindowKind::UnitInitialReview)
            .map(|w| gongkao_domain::campaign::format_shanghai_end(w.ends_at))
            .unwrap_or_default(),
        rows,
        total: result.total,
        status,
        statuses,
        prev_link: result.has_prev().then(|| page_link(&base, result.page.number - 1)),
        next_link: result.has_next().then(|| page_link(&base, result.page.number + 1)),
        import,
    };
    Ok(render(&page))
}

#[derive(Template)]
#[template(path = "application_detail.html")]
struct DetailPage {
    chrome: Chrome,
    id: i64,
    name: String,
    id_number: String,
    unit: String,
    work_type: String,
    level: &'static str,
    status: &'static str,
    verdict: &'static str,
    previous_verdict: Option<&'static str>,
    rule_set: String,
    can_decide: bool,
    check_fields: Vec<(&'static str, &'static str)>,
    unit_checks: Vec<(String, String, String)>,
    unit_reviewed: Option<String>,
    unit_review_late: bool,
    can_agency_review: bool,
    can_confirm_on_site: bool,
    can_reopen: bool,
    can_void: bool,
    on_site_note: Option<String>,
    reopened_until: Option<String>,
    dossier: Option<services::dossiers::DossierView>,
    dossier_editable: bool,
    errors: FieldErrors,
    trace: Option<TraceView>,
    history: History,
    files: super::files::FilesView,
}

/// The unit's recorded per-field check: (label, who, when).
fn unit_checks_of(a: &Application) -> Vec<(String, String, String)> {
    let Some(json) = &a.unit_checks else { return Vec::new() };
    let rows: Vec<serde_json::Value> = serde_json::from_str(json).unwrap_or_default();
    rows.iter()
        .map(|r| {
            let at = r.get("at").and_then(serde_json::Value::as_i64).map(|t| format_shanghai(from_ms(t))).unwrap_or_default();
            let text = |k: &str| r.get(k).and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
            (text("label"), text("by"), at)
        })
        .collect()
}

pub(crate) async fn detail_page(state: &AppState, p: &Principal, id: i64, errors: FieldErrors) -> AppResult<String> {
    let db = state.store().conn();
    let a = applications::get(db, id).await?.ok_or(AppError::NotFound)?;
    let person = units::applicant(db, a.applicant_id).await?;
    let unit = match a.unit_id {
        Some(u) => units::get(db, u).await?.map(|u| u.name).unwrap_or_default(),
        None => String::new(),
    };
    let status = ApplicationStatus::parse(&a.status);
    let (_, schedule) = services::campaigns::current(state).await?;
    let late_after = schedule.window(WindowKind::UnitInitialReview).map(|w| gongkao_storage::to_ms(w.ends_at));
    let agency = p.role == Role::AgencyReviewer;
    let can = |action| agency && status.is_some_and(|s| gongkao_domain::application::next(s, action).is_ok());
    let page = DetailPage {
        chrome: Chrome::for_principal(
            p,
            match p.role {
                Role::UnitAdmin => "/unit-applications",
                Role::AgencyReviewer => "/agency-applications",
                _ => "/applicants",
            },
        ),
        id,
        name: person.as_ref().map(|x| x.name.clone()).unwrap_or_default(),
        id_number: person.and_then(|x| IdNumber::parse(&x.id_number).ok()).map(|i| i.masked()).unwrap_or_default(),
        unit,
        work_type: a.work_type.clone(),
        level: u8::try_from(a.target_level).ok().and_then(Level::from_number).map_or("", Level::label),
        status: status.map_or("", ApplicationStatus::label),
        verdict: verdict_label(&a.verdict),
        previous_verdict: a.previous_verdict.as_deref().map(verdict_label),
        rule_set: format!("{} 第 {} 版", a.rule_set_id, a.rule_set_version),
        can_decide: p.role == Role::UnitAdmin && status == Some(ApplicationStatus::Submitted),
        check_fields: gongkao_domain::application::UNIT_CHECK_FIELDS.to_vec(),
        unit_checks: unit_checks_of(&a),
        unit_reviewed: a.unit_reviewed_at.map(|t| format_shanghai(from_ms(t))),
        unit_review_late: matches!((a.unit_reviewed_at, late_after), (Some(t), Some(end)) if t > end),
        can_agency_review: can(ApplicationAction::AgencyApprove),
        can_confirm_on_site: can(ApplicationAction::AgencyConfirmOnSite),
        can_reopen: can(ApplicationAction::AgencyReopen),
        can_void: can(ApplicationAction::Void),
        on_site_note: a.on_site_note.clone(),
        reopened_until: a.reopened_until.map(|t| format_shanghai(from_ms(t))),
        dossier: services::dossiers::view(state, &a).await?,
        dossier_editable: agency,
        errors,
        trace: trace_of(&a),
        history: history(state, id).await?,
        files: super::files::view(state, &a, false).await?,
    };
    Ok(render(&page))
}

pub async fn show(State(state): State<AppState>, p: Principal, Path(id): Path<i64>) -> AppResult<Response> {
    Ok(html(detail_page(&state, &p, id, FieldErrors::new()).await?))
}

pub async fn unit_decision(
    State(state): State<AppState>,
    p: Principal,
    _scope: Scope,
    info: RequestInfo,
    Path(id): Path<i64>,
    f: FormPairs,
) -> AppResult<Response> {
    let action = match f.get("decision").as_str() {
        "approve" => ApplicationAction::UnitApprove,
        "return" => ApplicationAction::UnitReturn,
        "reject" => ApplicationAction::UnitReject,
        _ => return Err(AppError::field("decision", "初审意见：请选择初审通过、退回修改或初审不通过")),
    };
    let d = services::applications::Decision {
        unit_checks: f.0.iter().filter(|(k, _)| k == "checked").map(|(_, v)| v.clone()).collect(),
        ..Default::default()
    };
    match services::applications::act_with(
        &state,
        &p,
        &Actor::of(&p, &info),
        id,
        action,
        &services::applications::Decision { reason: f.get("reason"), ..d },
    )
    .await
    {
        Ok(_) => Ok(see_other(&format!("/applications/{id}"))),
        Err(AppError::Invalid(errors)) => Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, detail_page(&state, &p, id, errors).await?)),
        Err(e) => Err(e),
    }
}
