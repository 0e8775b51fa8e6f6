//! Applications (申报): the applicant fills, the eligibility trace is computed and kept, the
//! unit reviews. Every change goes through the domain state machine, a guarded update, an
//! event in the application's history and an audit entry, in one transaction.
use gongkao_domain::application::{ApplicationAction, ApplicationStatus, UNIT_CHECK_FIELDS, missing_unit_checks, next_by};
use gongkao_domain::campaign::{Level, WindowKind, to_shanghai};
use gongkao_domain::eligibility::{Outcome, PersonFacts, RuleSet, Verdict, evaluate};
use gongkao_domain::role::Role;
use gongkao_domain::validation::FieldErrors;
use gongkao_storage::applications::{self, Application, Content, NewEvent, TransitionData};
use gongkao_storage::{audit, to_ms, units};
use time::{Date, OffsetDateTime};

use super::Actor;
use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::policy::{Principal, Scope};
use crate::sender::OutboundMessage;

/// What is kept of an evaluation with the application: the verdict for the target level and
/// the rules that did not pass, each with its explanation and source. The full trace is
/// reproduced on display from the facts and the rule set; keeping only the reasons keeps a
/// 200,000-application campaign small.
pub fn reasons_json(facts: &PersonFacts, rules: &RuleSet, on: Date, level: Level) -> (Verdict, String) {
    let e = evaluate(facts, rules, on, &[level]);
    let Some(lv) = e.levels.first() else { return (Verdict::NeedsReview, "[]".to_owned()) };
    let reasons: Vec<serde_json::Value> = lv
        .results
        .iter()
        .filter(|r| r.outcome != Outcome::Passed && r.route.is_none())
        .map(|r| serde_json::json!({ "rule": r.rule_id, "outcome": r.outcome.label(), "text": r.explanation_text(), "source": format!("{} {}", r.source.document, r.source.clause) }))
        .chain(e.input_problems.iter().map(|p| serde_json::json!({ "rule": p.field, "outcome": "无法判断", "text": p.reason, "source": "" })))
        .collect();
    (lv.verdict, serde_json::Value::Array(reasons).to_string())
}

pub fn verdict_code(v: Verdict) -> &'static str {
    match v {
        Verdict::Eligible => "eligible",
        Verdict::NotEligible => "not_eligible",
        Verdict::NeedsReview => "needs_review",
    }
}

pub fn verdict_label(code: &str) -> &'static str {
    match code {
        "eligible" => "符合",
        "not_eligible" => "不符合",
        _ => "需人工审核",
    }
}

/// The campaign and its rule set when the applicant may change `existing` (or file a new
/// application): inside the registration window, or after it while the agency has reopened
/// this application for correction.
pub(crate) async fn applicant_may_change(
    state: &AppState,
    existing: Option<&Application>,
) -> AppResult<(gongkao_storage::campaigns::Campaign, std::sync::Arc<RuleSet>)> {
    let (campaign, schedule) = super::campaigns::current(state).await?;
    let now = state.now();
    let reopened =
        existing.is_some_and(|a| a.status == ApplicationStatus::Returned.as_str() && a.reopened_until.is_some_and(|t| t > to_ms(now)));
    match schedule.window(WindowKind::Registration) {
        Some(w) if w.contains(now) || reopened => {}
        Some(w) => {
            return Err(AppError::Conflict(format!("不在网上报名时间内：本年度网上报名时间为 {}，截止后停止受理填报和提交", w.label())));
        }
        None => return Err(AppError::Conflict("本考核年度未设置网上报名时间".to_owned())),
    }
    let rules = super::eligibility::rule_set_for(&campaign.rule_set_id)?;
    Ok((campaign, rules))
}

/// The application form's fields: the eligibility fields plus the unit and the target level.
pub struct Draft {
    pub facts: PersonFacts,
    pub level: Level,
    pub unit_id: i64,
    pub agency_code: String,
    pub work_type: String,
}

/// Reads the form. Identity facts come from the registered person, not from the form: the ID
/// number was checked at sign-up.
pub async fn read_form(state: &AppState, applicant_id: i64, pairs: &[(String, String)]) -> AppResult<Draft> {
    let get = |k: &str| super::form_value(pairs, k).to_owned();
    let mut errors = FieldErrors::new();
    let person = units::applicant(state.store().conn(), applicant_id).await?.ok_or(AppError::NotFound)?;
    let facts = match super::eligibility::facts_from_form(pairs) {
        Ok((facts, _)) => Some(facts),
        Err(e) => {
            errors.extend(e);
            None
        }
    };
    let level = match super::eligibility::parse_levels(&get("target_level")) {
        Ok(l) if l.len() == 1 => l.first().copied(),
        _ => {
            errors.push("target_level", "申报等级：请选择一个等级（一级至五级）");
            None
        }
    };
    let unit = match units::by_credit_code(state.store().conn(), &get("unit_credit_code").to_uppercase()).await? {
        Some(u) if u.status == "active" => Some(u),
        _ => {
            errors.push("unit_credit_code", "所在单位：请填写本单位的统一社会信用代码（可向单位管理员询问）");
            None
        }
    };
    let work_type = get("applied_work_type");
    let work_type = if work_type.is_empty() { get("current_work_type") } else { work_type };
    if work_type.is_empty() {
        errors.push("current_work_type", "现从事工种：必填，按实际从事的岗位工种申报");
    }
    errors.into_result()?;
    let (Some(facts), Some(level), Some(unit)) = (facts, level, unit) else { return Err(AppError::Internal("validated".into())) };
    let facts = identity_facts(facts, &person.id_number, &person.sex);
    Ok(Draft { facts, level, unit_id: unit.id, agency_code: unit.agency_code, work_type })
}

/// The identity facts of an application are the registered person's (the ID number checked at
/// registration), never what a form or a file says; the birth date is left to the engine, which
/// reads it from the ID number, so the two cannot disagree.
pub(crate) fn identity_facts(mut facts: PersonFacts, id_number: &str, sex: &str) -> PersonFacts {
    facts.id_number = Some(id_number.to_owned());
    facts.sex = gongkao_domain::person::Sex::parse(sex);
    facts.birth_date = None;
    facts
}

/// What is stored of a draft: the facts with the eligibility verdict and reasons for its level
/// on `on`. The applicant's form and the unit's bulk registration both go through here, so an
/// application reads the same whoever filed it.
pub(crate) fn content(d: &Draft, rules: &RuleSet, on: Date) -> Content {
    let (verdict, reasons) = reasons_json(&d.facts, rules, on, d.level);
    Content {
        unit_id: Some(d.unit_id),
        agency_code: Some(d.agency_code.clone()),
        work_type: d.work_type.clone(),
        target_level: i32::from(d.level.number()),
        facts: serde_json::to_string(&d.facts).unwrap_or_default(),
        verdict: verdict_code(verdict).to_owned(),
        rule_set_id: rules.id.clone(),
        rule_set_version: i32::try_from(rules.version).unwrap_or(i32::MAX),
        trace: reasons,
    }
}

fn applicant_of(p: &Principal) -> AppResult<i64> {
    match (p.role, p.applicant_id) {
        (Role::Applicant, Some(id)) => Ok(id),
        _ => Err(AppError::Forbidden),
    }
}

/// Creates the person's application for the current campaign, or changes it while it may
/// still be changed. `expected_version` guards against a stale page.
pub async fn save(
    state: &AppState,
    p: &Principal,
    actor: &Actor,
    pairs: &[(String, String)],
    expected_version: Option<i32>,
) -> AppResult<i64> {
    let applicant_id = applicant_of(p)?;
    let (campaign, _) = super::campaigns::current(state).await?;
    let existing = applications::live_for(state.store().conn(), campaign.id, applicant_id).await?;
    let (campaign, rules) = applicant_may_change(state, existing.as_ref()).await?;
    let draft = read_form(state, applicant_id, pairs).await?;
    let now = state.now();
    let c = content(&draft, &rules, to_shanghai(now).date());
    let tx = state.store().write().await?;
    let id = match existing {
        Some(app) => {
            let from = ApplicationStatus::parse(&app.status).ok_or_else(|| AppError::Internal("status".into()))?;
            next_by(from, ApplicationAction::Edit, p.role).map_err(AppError::Conflict)?;
            applications::update_content(tx.conn(), app.id, expected_version.unwrap_or(app.version), c, now).await?;
            applications::add_event(
                tx.conn(),
                NewEvent {
                    application_id: app.id,
                    actor: &actor.username,
                    action: "edit",
                    from_status: &app.status,
                    to_status: &app.status,
                    reason: "",
                    facts_before: Some(app.facts.clone()),
                },
                now,
            )
            .await?;
            audit::append(&tx, now, actor.record("application.edit", format!("application:{}", app.id), "")).await?;
            app.id
        }
        None => {
            let id = insert_draft(&tx, campaign.id, applicant_id, c, actor, "", now).await?;
            audit::append(
                &tx,
                now,
                actor.record("application.create", format!("application:{id}"), format!("申报{}", draft.level.label())),
            )
            .await?;
            id
        }
    };
    tx.commit().await?;
    Ok(id)
}

/// Creates a draft application and its "create" event inside the caller's transaction; the
/// caller appends the audit entry after its last business write (see ARCHITECTURE.md).
pub(crate) async fn insert_draft(
    tx: &gongkao_storage::WriteTx,
    campaign_id: i64,
    applicant_id: i64,
    c: Content,
    actor: &Actor,
    reason: &str,
    now: OffsetDateTime,
) -> AppResult<i64> {
    let id = applications::create(tx.conn(), campaign_id, applicant_id, c, now).await?;
    applications::add_event(
        tx.conn(),
        NewEvent {
            application_id: id,
            actor: &actor.username,
            action: "create",
            from_status: "",
            to_status: "draft",
            reason,
            facts_before: None,
        },
        now,
    )
    .await?;
    Ok(id)
}

/// What a decision carries besides its reason.
#[derive(Debug, Clone, Default)]
pub struct Decision {
    /// Why: required where the applicant must be told (return, reject, void, on-site, reopen).
    pub reason: String,
    /// The integrity pledge, for submission.
    pub pledge: bool,
    /// The unit's per-field check against the personnel file (codes of `UNIT_CHECK_FIELDS`).
    pub unit_checks: Vec<String>,
    /// The documents to bring to an on-site check.
    pub documents: String,
    /// For a reopening: how many days the applicant has to correct.
    pub reopen_days: Option<i64>,
}

/// A state change by whoever may take it; `reason` is required where the applicant must be
/// told why (return, reject, void, on-site check, reopening).
pub async fn act(
    state: &AppState,
    p: &Principal,
    actor: &Actor,
    id: i64,
    action: ApplicationAction,
    reason: &str,
    pledge: bool,
) -> AppResult<ApplicationStatus> {
    act_with(state, p, actor, id, action, &Decision { reason: reason.to_owned(), pledge, ..Default::default() }).await
}

pub async fn act_with(
    state: &AppState,
    p: &Principal,
    actor: &Actor,
    id: i64,
    action: ApplicationAction,
    d: &Decision,
) -> AppResult<ApplicationStatus> {
    let app = applications::get(state.store().conn(), id).await?.ok_or(AppError::NotFound)?;
    if p.role == Role::Applicant {
        if Some(app.applicant_id) != p.applicant_id {
            return Err(AppError::Forbidden);
        }
        if action != ApplicationAction::Withdraw {
            applicant_may_change(state, Some(&app)).await?;
        }
    }
    if action == ApplicationAction::Submit {
        super::files::require_for_submission(state, &app).await?;
    }
    let plan = plan(state, p, &app, action, d)?;
    let now = state.now();
    let tx = state.store().write().await?;
    apply(&tx, actor, &plan, now).await?;
    tx.commit().await?;
    notify(state, p, &[(app.applicant_id, plan.to)], &plan.reason, now).await?;
    Ok(plan.to)
}

/// The same decision on many applications at once, all or none: if any of them is out of the
/// caller's jurisdiction or no longer in the state the decision needs, nothing changes.
pub async fn act_many(
    state: &AppState,
    p: &Principal,
    actor: &Actor,
    scope: &Scope,
    ids: &[i64],
    action: ApplicationAction,
    d: &Decision,
) -> AppResult<usize> {
    const MAX: usize = 500;
    if ids.is_empty() {
        return Err(AppError::field("ids", "批量审查：请先勾选申报记录"));
    }
    if ids.len() > MAX {
        return Err(AppError::field("ids", "批量审查：一次最多处理 500 条，请缩小筛选范围"));
    }
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let db = state.store().conn();
    let apps = applications::by_ids(db, &ids).await?;
    if apps.len() != ids.len() {
        return Err(AppError::Forbidden);
    }
    for a in &apps {
        if !in_scope(state, scope, a).await? {
            // Audited like the middleware's refusals: a bulk request is one more way to probe.
            let mut rec = actor.record("access.denied", format!("application:{}", a.id), format!("批量{}：不在管辖范围内", action.label()));
            rec.outcome = "denied".to_owned();
            super::audit::record(state, rec).await?;
            return Err(AppError::Forbidden);
        }
    }
    let mut plans = Vec::with_capacity(apps.len());
    for a in &apps {
        let name = units::applicant(db, a.applicant_id).await?.map(|x| x.name).unwrap_or_default();
        plans.push(plan(state, p, a, action, d).map_err(|e| match e {
            AppError::Conflict(m) => AppError::Conflict(format!("{name}（申报编号 {}）：{m}；本次批量操作未执行", a.id)),
            other => other,
        })?);
    }
    let now = state.now();
    let tx = state.store().write().await?;
    for plan in &plans {
        apply(&tx, actor, plan, now).await?;
    }
    tx.commit().await?;
    let told: Vec<(i64, ApplicationStatus)> = apps.iter().zip(&plans).map(|(a, pl)| (a.applicant_id, pl.to)).collect();
    notify(state, p, &told, d.reason.trim(), now).await?;
    Ok(plans.len())
}

/// Whether an application lies in the caller's jurisdiction (as its applicant, its unit or an
/// agency over the unit).
pub async fn in_scope(state: &AppState, scope: &Scope, a: &Application) -> AppResult<bool> {
    let unit = match a.unit_id {
        Some(uid) => units::get(state.store().conn(), uid).await?.map(|u| (u.id, u.agency_code)),
        None => None,
    };
    Ok(scope.covers_applicant(a.applicant_id, unit.as_ref().map(|(id, code)| (*id, code.as_str()))))
}

/// A checked decision, ready to write.
struct Plan {
    id: i64,
    action: ApplicationAction,
    from: ApplicationStatus,
    to: ApplicationStatus,
    reason: String,
    data: TransitionData,
}

fn plan(state: &AppState, p: &Principal, app: &Application, action: ApplicationAction, d: &Decision) -> AppResult<Plan> {
    use ApplicationAction as A;
    if action == A::Submit && !d.pledge {
        return Err(AppError::field(
            "pledge",
            "诚信承诺：提交前须阅读并同意承诺书（填报虚假材料的，取消当年申报资格，两年内禁止再次申报）",
        ));
    }
    let needs_reason = matches!(action, A::UnitReturn | A::UnitReject | A::Void | A::AgencyRequireOnSite | A::AgencyReopen);
    let reason = d.reason.trim();
    if needs_reason && !(2..=300).contains(&reason.chars().count()) {
        return Err(AppError::field("reason", "原因：请填写 2 至 300 字，申报人员将看到该原因"));
    }
    let from = ApplicationStatus::parse(&app.status).ok_or_else(|| AppError::Internal("status".into()))?;
    let to = next_by(from, action, p.role).map_err(AppError::Conflict)?;
    let now = state.now();
    let mut data = TransitionData { submitted: action == A::Submit, pledged: action == A::Submit && d.pledge, ..Default::default() };
    let mut reason = reason.to_owned();
    match action {
        A::UnitApprove | A::UnitReturn | A::UnitReject => {
            let confirmed: Vec<&str> = d.unit_checks.iter().map(String::as_str).collect();
            let missing = missing_unit_checks(&confirmed);
            if action == A::UnitApprove && !missing.is_empty() {
                return Err(AppError::field(
                    "unit_checks",
                    format!("与人事档案核对：初审通过前须逐项核对并确认，尚未确认：{}", missing.join("、")),
                ));
            }
            let checks: Vec<serde_json::Value> = UNIT_CHECK_FIELDS
                .iter()
                .filter(|(code, _)| confirmed.contains(code))
                .map(|(code, label)| serde_json::json!({ "field": code, "label": label, "by": p.display_name, "username": p.username, "at": to_ms(now) }))
                .collect();
            data.unit_checks = Some(serde_json::Value::Array(checks).to_string());
            data.unit_reviewed = true;
        }
        A::AgencyRequireOnSite => {
            let documents = d.documents.trim();
            if !(2..=300).contains(&documents.chars().count()) {
                return Err(AppError::field("documents", "需携带的材料：请填写 2 至 300 字，申报人员据此准备现场审查材料"));
            }
            data.on_site_note = Some(format!("原因：{reason}；需携带：{documents}"));
            reason = format!("{reason}（需携带：{documents}）");
        }
        A::AgencyReopen => {
            let days = d.reopen_days.unwrap_or(3);
            if !(1..=15).contains(&days) {
                return Err(AppError::field("reopen_days", "修改期限：请填写 1 至 15 天"));
            }
            let until = now + time::Duration::days(days);
            data.reopened_until = Some(to_ms(until));
            reason = format!("{reason}（请于 {} 前修改并重新提交）", gongkao_domain::campaign::format_shanghai(until));
        }
        _ => {}
    }
    Ok(Plan { id: app.id, action, from, to, reason, data })
}

async fn apply(tx: &gongkao_storage::WriteTx, actor: &Actor, plan: &Plan, now: OffsetDateTime) -> AppResult<()> {
    let db = tx.conn();
    let id = plan.id;
    applications::transition_with(db, id, plan.from.as_str(), plan.to.as_str(), now, &plan.data).await.map_err(|e| match e {
        gongkao_storage::StoreError::Conflict => AppError::Conflict("已被他人处理，请刷新".to_owned()),
        other => other.into(),
    })?;
    applications::add_event(
        db,
        NewEvent {
            application_id: id,
            actor: &actor.username,
            action: plan.action.as_str(),
            from_status: plan.from.as_str(),
            to_status: plan.to.as_str(),
            reason: &plan.reason,
            facts_before: None,
        },
        now,
    )
    .await?;
    audit::append(
        tx,
        now,
        actor.record(
            &format!("application.{}", plan.action.as_str()),
            format!("application:{id}"),
            format!("{} → {} {}", plan.from.as_str(), plan.to.as_str(), plan.reason),
        ),
    )
    .await?;
    Ok(())
}

/// Tells each applicant of a decision someone else took, through the pluggable sender.
async fn notify(state: &AppState, p: &Principal, told: &[(i64, ApplicationStatus)], reason: &str, now: OffsetDateTime) -> AppResult<()> {
    if p.role == Role::Applicant {
        return Ok(());
    }
    let why = if reason.is_empty() { String::new() } else { format!("，原因：{reason}") };
    for (applicant_id, to) in told {
        if let Some(person) = units::applicant(state.store().conn(), *applicant_id).await? {
            state.sender().send(OutboundMessage {
                at: now,
                channel: "sms",
                to: person.mobile,
                body: format!("【河南工考】{}：您的申报状态已变更为“{}”{why}。", person.name, to.label()),
            });
        }
    }
    Ok(())
}

pub struct RecheckReport {
    pub checked: u64,
    pub changed: Vec<(i64, String, String)>,
}

/// Re-evaluates every application of a campaign with the rule set as it is now; writes only the
/// applications whose verdict changed (keeping the previous one for the reviewers), then stamps
/// the rule-set version on all. Each application is judged on the date it was submitted (or
/// created), as it was the first time. `progress(done, total)` is called after each batch.
pub async fn recheck(
    store: &gongkao_storage::Store,
    campaign_id: i64,
    rules: &RuleSet,
    now: OffsetDateTime,
    mut progress: impl FnMut(u64, u64),
) -> AppResult<RecheckReport> {
    const BATCH: u64 = 5_000;
    let db = store.conn();
    let total = applications::count(db, campaign_id).await?;
    let mut after = 0;
    let mut checked = 0;
    let mut changed = Vec::new();
    loop {
        let rows = applications::scan(db, campaign_id, after, BATCH).await?;
        let Some((last, ..)) = rows.last() else { break };
        after = *last;
        let mut updates = Vec::new();
        for (id, facts, level, verdict, created_at, submitted_at) in &rows {
            checked += 1;
            let on = to_shanghai(gongkao_storage::from_ms(submitted_at.unwrap_or(*created_at))).date();
            let Some(level) = u8::try_from(*level).ok().and_then(Level::from_number) else { continue };
            let facts: PersonFacts = serde_json::from_str(facts).unwrap_or_default();
            let (new, reasons) = reasons_json(&facts, rules, on, level);
            let new = verdict_code(new);
            if new != verdict {
                updates.push((*id, new, verdict.clone(), reasons));
            }
        }
        if !updates.is_empty() {
            let tx = store.write().await?;
            for (id, new, old, reasons) in &updates {
                applications::set_verdict(tx.conn(), *id, new, Some(old), i32::try_from(rules.version).unwrap_or(i32::MAX), reasons, now)
                    .await?;
            }
            tx.commit().await?;
            changed.extend(updates.into_iter().map(|(id, new, old, _)| (id, old, new.to_owned())));
        }
        progress(checked, total);
    }
    let tx = store.write().await?;
    applications::stamp_rule_set_version(tx.conn(), campaign_id, i32::try_from(rules.version).unwrap_or(i32::MAX)).await?;
    tx.commit().await?;
    Ok(RecheckReport { checked, changed })
}
