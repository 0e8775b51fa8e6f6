//! The home page: what this role can do now, in the current phase of the campaign.
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use gongkao_domain::campaign::{WindowKind, format_shanghai};
use gongkao_domain::role::Role;

use super::html;
use crate::AppState;
use crate::error::AppResult;
use crate::policy::{Principal, Scope};
use crate::services::{campaigns, jurisdiction};
use crate::view::{Chrome, render};

pub struct Task {
    pub href: &'static str,
    pub title: &'static str,
    pub detail: String,
}

pub struct WindowRow {
    pub label: &'static str,
    pub range: String,
    pub state: &'static str,
    pub state_class: &'static str,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Chrome,
    campaign_title: String,
    now_label: String,
    scope_label: String,
    phases: Vec<&'static str>,
    tasks: Vec<Task>,
    windows: Vec<WindowRow>,
}

fn task(href: &'static str, title: &'static str, detail: impl Into<String>) -> Task {
    Task { href, title, detail: detail.into() }
}

/// Tasks by role and open windows. Only links to pages that exist are offered.
fn tasks_for(role: Role, open: &[WindowKind], window_label: impl Fn(WindowKind) -> String) -> Vec<Task> {
    let is_open = |k| open.contains(&k);
    let mut t = Vec::new();
    match role {
        Role::Applicant => {
            t.push(task("/eligibility/check", "申报资格自查", "填写本人信息，逐条查看是否符合所报等级的申报条件及依据"));
            if is_open(WindowKind::Registration) {
                t.push(task(
                    "/application",
                    "网上报名",
                    format!("填写申报信息、查看资格预审结论、签署诚信承诺并提交。报名时间：{}", window_label(WindowKind::Registration)),
                ));
            }
            t.push(task("/account/password", "修改密码", "定期修改密码，保护个人信息"));
        }
        Role::UnitAdmin => {
            if is_open(WindowKind::UnitAdminSetup) {
                t.push(task("/units", "核对单位名称、完善信息", window_label(WindowKind::UnitAdminSetup)));
            }
            if is_open(WindowKind::UnitInitialReview) {
                t.push(task(
                    "/unit-applications",
                    "网上报名资格初审",
                    format!("根据人事档案核对本单位申报信息，截止：{}", window_label(WindowKind::UnitInitialReview)),
                ));
            }
            t.push(task("/units", "本单位信息", "查看本单位登记信息"));
        }
        Role::AgencyReviewer => {
            if is_open(WindowKind::UnitAdminSetup) || is_open(WindowKind::Registration) {
                t.push(task("/unit-admin-requests", "审核单位管理员登记表", "审核通过后生成单位管理员账户及一次性密码"));
            }
            t.push(task("/units", "单位名称检查更新", "管辖范围内单位的新增、修改（锁定后只能新增）"));
            if is_open(WindowKind::Review) {
                t.push(task("/applicants", "申报人员", format!("网上资格审查、现场审查确认：{}", window_label(WindowKind::Review))));
            }
        }
        Role::AgencyCashier => {
            t.push(task("/campaign", "收费标准", "查看本年度各等级收费项目"));
            t.push(task("/units", "单位", "按单位办理报名缴费手续"));
        }
        Role::AgencyExamOfficer => {
            t.push(task("/agencies", "本地区日程", "在全省日程范围内确定数码照片采集和考试日期"));
            t.push(task("/campaign", "考核年度设置", "工作日程、收费标准、工种目录"));
        }
        Role::SystemAdmin => {
            t.push(task("/accounts", "账户管理", "创建工作人员账户、重置密码、停用账户"));
            t.push(task("/api-tokens", "接口令牌", "为政务服务网等对接系统签发令牌"));
            t.push(task("/outbox", "短信发送记录", "开发环境下查看验证码和通知短信"));
        }
        Role::SecurityAdmin => t.push(task("/security", "安全策略", "登录锁定、空闲超时、密码长度")),
        Role::AuditAdmin => t.push(task("/audit", "审计日志", "查询、筛选全部操作记录")),
        Role::CentreChief | Role::Proctor | Role::SiteTechnician => {
            if is_open(WindowKind::Exam) {
                t.push(task(
                    "/campaign",
                    "考试日程",
                    format!("人机对话考试：{}。考场管理功能将在后续版本开通。", window_label(WindowKind::Exam)),
                ));
            } else {
                t.push(task("/campaign", "考试日程", "查看本年度考试安排"));
            }
        }
        Role::ItemWriter => {
            t.push(task("/items/new", "编写试题", "单选、多选、判断及一级主观题，提交审题员审核"));
            t.push(task("/items", "题库", "查看、修改本人及他人编写的试题，导入导出 QTI 2.1"));
        }
        Role::ItemReviewer => {
            t.push(task("/items?status=in_review", "待审核试题", "审核通过后试题进入组卷题池；不能审核本人编写或修改的版本"));
            t.push(task("/items", "题库", "查看、停用试题，导入导出 QTI 2.1"));
        }
        Role::Examiner | Role::PanelExpert => {
            t.push(task("/campaign", "一级考评日程", format!("一级考评与评审：{}", window_label(WindowKind::Level1Review))))
        }
    }
    t
}

pub async fn home(State(state): State<AppState>, p: Principal, scope: Scope) -> AppResult<Response> {
    let (campaign, schedule) = campaigns::current(&state).await?;
    let now = state.now();
    let open = schedule.open_windows(now);
    let label = |k: WindowKind| schedule.window(k).map(|w| w.label()).unwrap_or_else(|| "未设置".to_owned());
    let agencies = jurisdiction::agencies(&state).await?;
    let scope_label = match &scope {
        Scope::Province => "全省".to_owned(),
        Scope::Agencies(_) => p.agency_code.as_deref().map(|c| jurisdiction::agency_name(&agencies, c)).unwrap_or_default(),
        Scope::Unit(_) => "本单位".to_owned(),
        Scope::Applicant(_) => "本人".to_owned(),
        Scope::Nothing => String::new(),
    };
    let windows = schedule
        .windows
        .iter()
        .map(|w| {
            let (state, class) = if w.contains(now) {
                ("进行中", "open")
            } else if now < w.starts_at {
                ("未开始", "pending")
            } else {
                ("已结束", "closed")
            };
            WindowRow { label: w.kind.label(), range: w.label(), state, state_class: class }
        })
        .collect();
    let page = HomePage {
        chrome: Chrome::for_principal(&p, "/"),
        campaign_title: campaign.title.clone(),
        now_label: format_shanghai(now),
        scope_label,
        phases: open.iter().map(|k| k.label()).collect(),
        tasks: tasks_for(p.role, &open, label),
        windows,
    };
    Ok(html(render(&page)))
}
