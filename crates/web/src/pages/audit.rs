//! The audit log, for the audit admin only.
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use gongkao_domain::campaign::{format_shanghai, shanghai_datetime};
use gongkao_domain::paging::Page;
use gongkao_domain::validation::FieldErrors;
use gongkao_storage::audit::{self, AuditFilter};
use gongkao_storage::{from_ms, to_ms};

use super::{FormPairs, html, see_other};
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

/// Chinese names of the audited actions; an unknown code is shown as it is.
pub fn action_label(action: &str) -> &str {
    match action {
        "access.denied" => "越权访问被拒绝",
        "auth.login" => "登录",
        "auth.logout" => "退出",
        "account.create" => "创建账户",
        "account.disable" => "停用账户",
        "account.enable" => "启用账户",
        "account.password.change" => "修改密码",
        "account.password.reset" => "重置密码",
        "account.password.recover" => "找回密码",
        "password.recovery.code" => "发送找回密码验证码",
        "api_token.create" => "签发接口令牌",
        "api_token.revoke" => "吊销接口令牌",
        "audit.export" => "导出审计日志",
        "job.enqueue" => "提交后台任务",
        "job.cancel" => "取消后台任务",
        "job.cancelled" => "后台任务已停止",
        "job.succeed" => "后台任务完成",
        "job.fail" => "后台任务失败",
        "job.result.download" => "下载后台任务结果",
        "personal_data.export" => "导出个人信息",
        "campaign.create" => "创建考核年度",
        "campaign.copy" => "复制考核年度",
        "campaign.activate" => "启用考核年度",
        "agency.add" => "新增管理机构",
        "agency.rename" => "修改管理机构名称",
        "agency.remove" => "删除管理机构",
        "campaign.fees.update" => "修改收费标准",
        "campaign.local_date.set" => "设置本地区日程",
        "campaign.schedule.update" => "修改工作日程",
        "catalogue.import" => "导入工种目录",
        "demo.seed" => "载入演示数据",
        "application.create" => "填写申报",
        "application.edit" => "修改申报信息",
        "application.bulk_import" => "单位批量登记申报人员",
        "application.submit" => "提交申报",
        "application.withdraw" => "撤回申报",
        "application.photo.upload" => "上传申报照片",
        "application.attachment.upload" => "上传申报附件",
        "application.attachment.delete" => "删除申报附件",
        "application.unit_approve" => "单位初审通过",
        "application.unit_return" => "单位退回修改",
        "application.unit_reject" => "单位初审不通过",
        "application.agency_approve" => "网上资格审查通过",
        "application.agency_require_on_site" => "要求现场审查",
        "application.agency_confirm_on_site" => "现场审查确认",
        "application.agency_reopen" => "重新开放申报修改",
        "application.dossier" => "登记一级档案材料",
        "personal_data.roster" => "打印申报人员名册",
        "application.record_payment" => "登记缴费",
        "application.admit" => "准予参加考核",
        "application.void" => "取消申报资格",
        "eligibility.roster" => "名册预审",
        "exam.centre.create" => "新增考点",
        "exam.room.create" => "新增考场",
        "exam.sitting.create" => "新增考试场次",
        "exam.seating" => "编排考场",
        "training.class.create" => "新增培训班",
        "training.class.update" => "修改培训班",
        "training.class.delete" => "删除培训班",
        "training.enrol" => "报名参训",
        "training.remove" => "移出培训班",
        "training.attendance" => "登记培训考勤",
        "personal_data.training_sign_in" => "打印培训签到表",
        "ticket.print" => "打印准考证",
        "ticket.print_batch" => "批量打印准考证",
        "exam.seat.move" => "调整考生座位",
        "ticket.window.set" => "设置准考证打印时间",
        "exam.login" => "考生机考登录",
        "delivery.rules" => "设置机考规则",
        "sitting.seb" => "设置安全考试浏览器",
        "personal_data.room_record" => "打印考场记录单",
        "exam.submit" => "机考交卷",
        "practice.start" => "开始模拟练习",
        "practice.submit" => "模拟练习交卷",
        "paper.open" => "机考载入试卷",
        "proctor.start" => "考场开考",
        "proctor.pause" => "考场暂停",
        "proctor.resume" => "考场恢复",
        "proctor.extend" => "考生延长时间",
        "proctor.absent" => "记为缺考",
        "proctor.violation" => "记录违纪",
        "proctor.move" => "考生调换座位",
        "proctor.record" => "填写考场记录单",
        "ticket.window.clear" => "恢复默认准考证打印时间",
        "ticket.pledge.set" => "设置考生承诺书",
        "ticket.pledge.clear" => "取消考生承诺书",
        "ticket.pledge.accept" => "考生签署承诺书",
        "paper.blueprint.save" => "保存试卷蓝图",
        "paper.assemble" => "组卷",
        "item.create" => "新建试题",
        "item.edit" => "修改试题（新版本）",
        "item.submit" => "试题提交审核",
        "item.approve" => "试题审核通过",
        "item.reject" => "试题退回修改",
        "item.retire" => "停用试题",
        "item.reinstate" => "试题重新送审",
        "item.view" => "查看试题内容",
        "item.export" => "导出试题",
        "item.import" => "导入试题",
        "fee.batch.record" => "登记单位缴费",
        "fee.receipt.print" => "打印收费收据",
        "fee.refund" => "登记退款",
        "security.policy.update" => "修改安全策略",
        "signup.code.send" => "发送注册验证码",
        "signup.complete" => "申报人员注册",
        "unit.create" => "新增单位",
        "unit.update" => "修改单位",
        "unit.delete" => "删除单位",
        "unit_admin_request.submit" => "提交单位管理员登记表",
        "unit_admin_request.approve" => "审核通过单位管理员登记表",
        "unit_admin_request.reject" => "退回单位管理员登记表",
        other => other,
    }
}

fn role_label(code: &str) -> String {
    match code {
        "system" => "系统".to_owned(),
        "" => String::new(),
        other => gongkao_domain::role::Role::parse(other).map_or_else(|| other.to_owned(), |r| r.label().to_owned()),
    }
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

/// The filtered log exported by a background job, for logs too large to wait for; the owner
/// follows it on /jobs.
pub async fn export_job(State(state): State<AppState>, p: Principal, info: RequestInfo, form: FormPairs) -> AppResult<Response> {
    let opt = |k: &str| Some(form.get(k));
    let q =
        AuditQuery { actor: opt("actor"), action: opt("action"), outcome: opt("outcome"), from: opt("from"), to: opt("to"), page: None };
    let (filter, errors) = filter_of(&q);
    errors.into_result()?;
    crate::services::exports::queue_audit_log(&state, &Actor::of(&p, &info), &filter).await?;
    Ok(see_other("/jobs?msg=job_queued"))
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
            role: role_label(&r.role),
            jurisdiction: r.jurisdiction.clone(),
            action: format!("{}（{}）", action_label(&r.action), r.action),
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    /// Every action the code records has a Chinese name for the audit admin.
    #[test]
    fn every_recorded_action_has_a_label() {
        fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push(std::fs::read_to_string(path).unwrap());
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut sources = Vec::new();
        walk(&root.join("src"), &mut sources);
        walk(&root.join("../server/src"), &mut sources);
        let mut codes = Vec::new();
        for text in &sources {
            // rustfmt may break the call after the parenthesis, so whitespace is skipped.
            for marker in ["record(", "action: "] {
                for part in text.split(marker).skip(1) {
                    let Some(rest) = part.trim_start().strip_prefix('"') else { continue };
                    let code = rest.split('"').next().unwrap();
                    if code.contains('.') && !code.contains(' ') {
                        codes.push(code.to_owned());
                    }
                }
            }
        }
        assert!(codes.len() > 20, "found only {codes:?}");
        for code in codes {
            assert_ne!(super::action_label(&code), code, "action {code} has no Chinese label in pages/audit.rs");
        }
    }
}

#[cfg(test)]
mod application_action_tests {
    /// Application actions are recorded as `application.<action>` with a computed name, which
    /// the source scan cannot see; every action of the machine needs its label.
    #[test]
    fn every_application_action_has_a_label() {
        use gongkao_domain::application::ApplicationAction as A;
        for a in A::ALL {
            let code = format!("application.{}", a.as_str());
            assert_ne!(super::action_label(&code), code);
        }
    }
}
