//! Page chrome and template helpers shared by every page.
use askama::Template;
use gongkao_domain::role::Role;

use crate::policy::Principal;

pub const SYSTEM_NAME: &str = "河南省机关事业单位工勤技能岗位等级考核管理系统";

#[derive(Debug, Clone)]
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
}

/// What every page shows around its content: the signed-in user, the role's menu, the CSRF
/// token for the forms on the page, and a one-line notice after a redirect.
#[derive(Debug, Clone, Default)]
pub struct Chrome {
    pub signed_in: bool,
    pub display_name: String,
    pub role_label: String,
    pub role_code: String,
    pub nav: Vec<NavItem>,
    pub active: String,
    pub csrf: String,
    pub notice: Option<String>,
}

impl Chrome {
    pub fn for_principal(p: &Principal, active: &str) -> Chrome {
        Chrome {
            signed_in: true,
            display_name: p.display_name.clone(),
            role_label: p.role.label().to_owned(),
            role_code: p.role.as_str().to_owned(),
            nav: nav_for(p.role),
            active: active.to_owned(),
            csrf: p.csrf_token.clone(),
            notice: None,
        }
    }

    pub fn public(csrf: &str) -> Chrome {
        Chrome { csrf: csrf.to_owned(), ..Default::default() }
    }

    pub fn with_notice(mut self, notice: Option<String>) -> Chrome {
        self.notice = notice;
        self
    }

    pub fn is_active(&self, href: &str) -> bool {
        self.active == href
    }
}

/// The menu lists only what the role may open; the policy still checks every request.
pub fn nav_for(role: Role) -> Vec<NavItem> {
    let item = |href, label| NavItem { href, label };
    let mut nav = vec![item("/", "首页")];
    match role {
        Role::AgencyReviewer => nav.extend([
            item("/campaign", "考核年度"),
            item("/agencies", "工考管理机构"),
            item("/units", "单位"),
            item("/unit-admin-requests", "单位管理员登记"),
            item("/agency-applications", "资格审查"),
            item("/applicants", "申报人员"),
            item("/eligibility/roster", "名册预审"),
        ]),
        Role::AgencyCashier => nav.extend([
            item("/fees", "收费"),
            item("/campaign", "考核年度"),
            item("/agencies", "工考管理机构"),
            item("/units", "单位"),
            item("/applicants", "申报人员"),
            item("/eligibility/roster", "名册预审"),
        ]),
        Role::AgencyExamOfficer => nav.extend([
            item("/campaign", "考核年度"),
            item("/agencies", "工考管理机构"),
            item("/units", "单位"),
            item("/applicants", "申报人员"),
            item("/eligibility/roster", "名册预审"),
            item("/exam-sites", "考点考场"),
            item("/sittings", "考试场次"),
            item("/seating", "编排考场"),
            item("/training", "培训"),
            item("/proctor", "监考"),
        ]),
        Role::UnitAdmin => nav.extend([
            item("/campaign", "考核年度"),
            item("/units", "本单位"),
            item("/unit-applications", "本单位申报"),
            item("/applicants", "本单位人员"),
            item("/eligibility/roster", "名册预审"),
        ]),
        Role::Applicant => nav.extend([
            item("/application", "我的申报"),
            item("/application/ticket", "准考证"),
            item("/practice", "模拟练习"),
            item("/eligibility/check", "资格自查"),
            item("/campaign", "考核年度"),
        ]),
        Role::SystemAdmin => nav.extend([
            item("/accounts", "账户管理"),
            item("/agencies", "工考管理机构"),
            item("/api-tokens", "接口令牌"),
            item("/outbox", "短信发送记录"),
            item("/campaign", "考核年度"),
        ]),
        Role::SecurityAdmin => nav.push(item("/security", "安全策略")),
        Role::AuditAdmin => nav.push(item("/audit", "审计日志")),
        Role::CentreChief | Role::Proctor => nav.extend([item("/proctor", "监考"), item("/campaign", "考核年度")]),
        Role::SiteTechnician | Role::Examiner | Role::PanelExpert => nav.push(item("/campaign", "考核年度")),
        Role::ItemWriter => nav.extend([item("/items", "题库"), item("/items/new", "新建试题")]),
        Role::ItemReviewer => nav.extend([item("/items", "题库"), item("/items/new", "新建试题"), item("/blueprints", "组卷")]),
    }
    // Staff start long work (exports, batch PDFs) that runs in the background.
    if role.is_staff() {
        nav.push(item("/jobs", "后台任务"));
    }
    nav.push(item("/account/password", "修改密码"));
    nav
}

/// Renders a template; a template error is a bug, reported as a plain message.
pub fn render<T: Template>(t: &T) -> String {
    t.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "template error");
        "页面生成失败，请联系系统管理员".to_owned()
    })
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub title: &'static str,
    pub message: String,
}

/// Short notices after a redirect, by code, so no user text travels in URLs.
pub fn notice(code: Option<&str>) -> Option<String> {
    let text = match code? {
        "saved" => "已保存。",
        "created" => "已创建。",
        "deleted" => "已删除。",
        "enrolled" => "已报名参训，并已短信通知本人。",
        "removed" => "已移出培训班。",
        "attendance" => "考勤已保存。",
        "password" => "密码已修改，请使用新密码重新登录。",
        "signed_up" => "注册成功，请使用身份证号码和密码登录。",
        "logged_out" => "您已安全退出。",
        "enabled" => "账户已启用。",
        "disabled" => "账户已停用。",
        "rejected" => "已退回。",
        "revoked" => "令牌已吊销。",
        "imported" => "导入完成。",
        "fee_recorded" => "已登记缴费，所选人员已准予参加考核。",
        "refunded" => "已登记退款。",
        "assembled" => "组卷完成。",
        "job_queued" => "已提交后台任务，完成后可在本页下载结果。",
        "job_cancelled" => "任务尚未开始，已取消。",
        "job_cancel_requested" => "已请求取消，任务将在下一步停止。",
        "seat_moved" => "座位已调整。",
        "seat_moved_notified" => "座位已调整；该考生已打印准考证，系统已短信通知其重新打印。",
        "pledge_accepted" => "已签署承诺书，现在可以下载准考证。",
        "window_saved" => "准考证打印时间已保存。",
        "room_started" => "本考场已开考。",
        "room_paused" => "本考场已暂停，所有考生计时停止。",
        "room_resumed" => "本考场已恢复，暂停时间已补回每名考生。",
        "seat_done" => "已处理并记入考场记录。",
        "window_cleared" => "已恢复默认打印时间：每名考生首场考试前 7 天起可打印。",
        _ => return None,
    };
    Some(text.to_owned())
}

/// Pagination links keep the list's filters.
pub fn page_link(base_query: &str, page: u64) -> String {
    if base_query.is_empty() { format!("?page={page}") } else { format!("?{base_query}&page={page}") }
}

pub fn query_string(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs.iter().filter(|(_, v)| !v.is_empty())).finish()
}

/// An eligibility evaluation ready for a template (`trace.html`), the same for applicants,
/// unit admins and reviewers.
pub struct TraceView {
    pub rule_set: String,
    pub evaluated_on: String,
    pub problems: Vec<String>,
    pub levels: Vec<TraceLevel>,
}

pub struct TraceLevel {
    pub label: &'static str,
    pub verdict: &'static str,
    pub verdict_class: &'static str,
    pub warnings: Vec<String>,
    pub rows: Vec<TraceRow>,
}

pub struct TraceRow {
    pub rule_id: String,
    pub route: String,
    pub outcome: &'static str,
    pub outcome_class: &'static str,
    pub explanation: String,
    pub facts: String,
    pub threshold: String,
    pub source: String,
}

impl TraceView {
    pub fn of(e: &gongkao_domain::eligibility::Evaluation<'_>) -> TraceView {
        use gongkao_domain::eligibility::{Outcome, Verdict};
        let levels = e
            .levels
            .iter()
            .map(|lv| TraceLevel {
                label: lv.level.label(),
                verdict: lv.verdict.label(),
                verdict_class: match lv.verdict {
                    Verdict::Eligible => "open",
                    Verdict::NeedsReview => "pending",
                    Verdict::NotEligible => "refused",
                },
                warnings: lv.warnings.iter().map(ToString::to_string).collect(),
                rows: lv
                    .results
                    .iter()
                    .map(|r| TraceRow {
                        rule_id: r.rule_id.to_owned(),
                        route: r.route.map(|x| format!("（途径 {x}）")).unwrap_or_default(),
                        outcome: r.outcome.label(),
                        outcome_class: match r.outcome {
                            Outcome::Passed => "open",
                            Outcome::NotDecidable => "pending",
                            Outcome::Failed => "refused",
                        },
                        explanation: r.explanation_text(),
                        facts: r.facts_used.iter().map(|(name, value)| format!("{}：{value}", name.label())).collect::<Vec<_>>().join("；"),
                        threshold: r.threshold.as_ref().map(ToString::to_string).unwrap_or_default(),
                        source: format!("{} {}（{}）", r.source.document, r.source.clause, r.source.confidence.label()),
                    })
                    .collect(),
            })
            .collect();
        TraceView {
            rule_set: format!("{} 第 {} 版", e.rule_set_id, e.rule_set_version),
            evaluated_on: gongkao_domain::campaign::format_date(e.evaluated_on),
            problems: e.input_problems.iter().map(|p| format!("{}：{}", p.field, p.reason)).collect(),
            levels,
        }
    }
}
