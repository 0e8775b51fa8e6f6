//! Applications (申报): the applicant fills, the eligibility trace is computed and kept, the
//! unit reviews. Every change goes through the domain state machine, a guarded update, an
//! event in the application's history and an audit entry, in one transaction.
use gongkao_domain::application::{ApplicationAction, ApplicationStatus, next_by};
use gongkao_domain::campaign::{Level, WindowKind, to_shanghai};
use gongkao_domain::eligibility::{Outcome, PersonFacts, RuleSet, Verdict, evaluate};
use gongkao_domain::role::Role;
use gongkao_domain::validation::FieldErrors;
use gongkao_storage::applications::{self, Content, NewEvent};
use gongkao_storage::{audit, units};
use time::{Date, OffsetDateTime};

use super::Actor;
use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::policy::Principal;
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

pub(crate) async fn registration_open(state: &AppState) -> AppResult<(gongkao_storage::campaigns::Campaign, RuleSet)> {
    let (campaign, schedule) = super::campaigns::current(state).await?;
    match schedule.window(WindowKind::Registration) {
        Some(w) if w.contains(state.now()) => {}
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
    pub work_type: String,
}

/// Reads the form. Identity facts come from the registered person, not from the form: the ID
/// number was checked at sign-up.
pub async fn read_form(state: &AppState, applicant_id: i64, pairs: &[(String, String)]) -> AppResult<Draft> {
    let get = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.trim().to_owned()).unwrap_or_default();
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
    let (Some(mut facts), Some(level), Some(unit)) = (facts, level, unit) else { return Err(AppError::Internal("validated".into())) };
    facts.id_number = Some(person.id_number.clone());
    facts.sex = gongkao_domain::person::Sex::parse(&person.sex);
    facts.birth_date = None;
    Ok(Draft { facts, level, unit_id: unit.id, work_type })
}

fn content(d: &Draft, rules: &RuleSet, on: Date) -> Content {
    let (verdict, reasons) = reasons_json(&d.facts, rules, on, d.level);
    Content {
        unit_id: Some(d.unit_id),
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
    let (campaign, rules) = registration_open(state).await?;
    let draft = read_form(state, applicant_id, pairs).await?;
    let now = state.now();
    let c = content(&draft, &rules, to_shanghai(now).date());
    let existing = applications::live_for(state.store().conn(), campaign.id, applicant_id).await?;
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
            let id = applications::create(tx.conn(), campaign.id, applicant_id, c, now).await?;
            applications::add_event(
                tx.conn(),
                NewEvent {
                    application_id: id,
                    actor: &actor.username,
                    action: "create",
                    from_status: "",
                    to_status: "draft",
                    reason: "",
                    facts_before: None,
                },
                now,
            )
            .await?;
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

/// A state change by whoever may take it; `reason` is required where the applicant must be
/// told why (return, reject, void).
pub async fn act(
    state: &AppState,
    p: &Principal,
    actor: &Actor,
    id: i64,
    action: ApplicationAction,
    reason: &str,
    pledge: bool,
) -> AppResult<ApplicationStatus> {
    let app = applications::get(state.store().conn(), id).await?.ok_or(AppError::NotFound)?;
    if p.role == Role::Applicant {
        if Some(app.applicant_id) != p.applicant_id {
            return Err(AppError::Forbidden);
        }
        if action != ApplicationAction::Withdraw {
            registration_open(state).await?;
        }
    }
    if action == ApplicationAction::Submit && !pledge {
        return Err(AppError::field(
            "pledge",
            "诚信承诺：提交前须阅读并同意承诺书（填报虚假材料的，取消当年申报资格，两年内禁止再次申报）",
        ));
    }
    if action == ApplicationAction::Submit {
        super::files::require_for_submission(state, &app).await?;
    }
    let needs_reason = matches!(action, ApplicationAction::UnitReturn | ApplicationAction::UnitReject | ApplicationAction::Void);
    let reason = reason.trim();
    if needs_reason && !(2..=300).contains(&reason.chars().count()) {
        return Err(AppError::field("reason", "原因：请填写 2 至 300 字，申报人员将看到该原因"));
    }
    let from = ApplicationStatus::parse(&app.status).ok_or_else(|| AppError::Internal("status".into()))?;
    let to = next_by(from, action, p.role).map_err(AppError::Conflict)?;
    let now = state.now();
    let tx = state.store().write().await?;
    applications::transition(tx.conn(), id, from.as_str(), to.as_str(), now, action == ApplicationAction::Submit, pledge).await.map_err(
        |e| match e {
            gongkao_storage::StoreError::Conflict => AppError::Conflict("已被他人处理，请刷新".to_owned()),
            other => other.into(),
        },
    )?;
    applications::add_event(
        tx.conn(),
        NewEvent {
            application_id: id,
            actor: &actor.username,
            action: action.as_str(),
            from_status: from.as_str(),
            to_status: to.as_str(),
            reason,
            facts_before: None,
        },
        now,
    )
    .await?;
    audit::append(
        &tx,
        now,
        actor.record(
            &format!("application.{}", action.as_str()),
            format!("application:{id}"),
            format!("{} → {} {reason}", from.as_str(), to.as_str()),
        ),
    )
    .await?;
    tx.commit().await?;
    if p.role != Role::Applicant
        && let Some(person) = units::applicant(state.store().conn(), app.applicant_id).await?
    {
        let why = if reason.is_empty() { String::new() } else { format!("，原因：{reason}") };
        state.sender().send(OutboundMessage {
            at: now,
            channel: "sms",
            to: person.mobile,
            body: format!("【河南工考】{}：您的申报状态已变更为“{}”{why}。", person.name, to.label()),
        });
    }
    Ok(to)
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
