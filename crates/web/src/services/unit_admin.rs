//! Unit-admin onboarding as in 附件2 of the notice: a unit files the 网上报名管理人员信息登记表
//! online; the agency of its jurisdiction approves it, which creates the unit-admin account with a
//! one-time password. A change of admin is a new form; approving it disables the old account.
use gongkao_domain::campaign::WindowKind;
use gongkao_domain::credit_code::CreditCode;
use gongkao_domain::jurisdiction::{UnitCategory, UnitType};
use gongkao_domain::onboarding::{Decision, RequestStatus};
use gongkao_domain::person::{Mobile, Sex, validate_person_name};
use gongkao_domain::validation::FieldErrors;
use gongkao_storage::accounts::{self, NewAccount};
use gongkao_storage::misc::{self, NewUnitAdminRequest, UnitAdminRequest};
use gongkao_storage::{audit, units};

use super::Actor;
use super::accounts::{CreatedAccount, one_time_password};
use super::units::UnitInput;
use crate::AppState;
use crate::auth::random_token;
use crate::error::{AppError, AppResult};
use crate::passwords;
use crate::policy::Scope;
use crate::sender::OutboundMessage;

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct RequestInput {
    #[serde(default)]
    pub unit_name: String,
    #[serde(default)]
    pub credit_code: String,
    #[serde(default)]
    pub unit_type: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub supervising_department: String,
    #[serde(default)]
    pub agency_code: String,
    #[serde(default)]
    pub person_name: String,
    #[serde(default)]
    pub sex: String,
    #[serde(default)]
    pub department: String,
    #[serde(default)]
    pub post: String,
    #[serde(default)]
    pub office_phone: String,
    #[serde(default)]
    pub mobile: String,
}

fn text(errors: &mut FieldErrors, value: &str, field: &str, label: &str, max: usize) -> String {
    let v = value.trim().to_owned();
    if v.is_empty() || v.chars().count() > max {
        errors.push(field, format!("{label}：必填，不超过 {max} 个字"));
    }
    v
}

fn valid_office_phone(p: &str) -> bool {
    let digits = p.chars().filter(char::is_ascii_digit).count();
    (7..=20).contains(&digits) && p.chars().all(|c| c.is_ascii_digit() || c == '-' || c == ' ' || c == '—')
}

/// The domain decides whether the form can still be decided; the store's guarded update then
/// makes sure two reviewers at once cannot both succeed.
fn decided(status: &str, d: Decision) -> AppResult<RequestStatus> {
    let from = RequestStatus::parse(status).ok_or_else(|| AppError::Internal(format!("unknown status {status}")))?;
    from.decide(d).map_err(|m| AppError::Conflict(m.to_owned()))
}

pub async fn submit(state: &AppState, client_ip: &str, input: &RequestInput) -> AppResult<UnitAdminRequest> {
    let (campaign, schedule) = super::campaigns::current(state).await?;
    let now = state.now();
    if let Some(w) = schedule.window(WindowKind::UnitAdminSetup)
        && now >= w.ends_at
    {
        return Err(AppError::Conflict(format!("单位管理员信息登记已截止（{}），请联系同级工考管理机构", w.label())));
    }
    let mut errors = FieldErrors::new();
    let unit_name = text(&mut errors, &input.unit_name, "unit_name", "单位名称", 60);
    let code = errors.check(CreditCode::parse(&input.credit_code));
    if UnitType::parse(&input.unit_type).is_none() {
        errors.push("unit_type", "单位类型：请选择机关或事业单位");
    }
    let category = UnitCategory::parse(&input.category);
    if category.is_none() {
        errors.push("category", "单位类别：请选择属地单位、省直单位或中央驻豫单位");
    }
    let dept = text(&mut errors, &input.supervising_department, "supervising_department", "主管部门", 60);
    let person = errors.check(validate_person_name(&input.person_name, "person_name"));
    let sex = Sex::parse(&input.sex);
    if sex.is_none() {
        errors.push("sex", "性别：请选择男或女");
    }
    let department = text(&mut errors, &input.department, "department", "工作部门", 40);
    let post = text(&mut errors, &input.post, "post", "职务", 40);
    let office_phone = input.office_phone.trim().to_owned();
    if !valid_office_phone(&office_phone) {
        errors.push("office_phone", "办公电话：请填写含区号的固定电话，例如 0371-61612570");
    }
    let mobile = errors.check(Mobile::parse(&input.mobile));
    let agencies = super::jurisdiction::agencies(state).await?;
    let root = agencies.iter().find(|a| a.parent_code.is_none()).map(|a| a.code.clone()).unwrap_or_default();
    let agency_code = match category {
        Some(UnitCategory::Provincial | UnitCategory::Central) => root.clone(),
        _ => input.agency_code.trim().to_owned(),
    };
    if !agencies.iter().any(|a| a.code == agency_code) || (category == Some(UnitCategory::Local) && agency_code == root) {
        errors.push("agency_code", "同级工考管理机构：请选择本单位所属的省辖市、济源示范区或省直管县（市）");
    }
    let existing = match &code {
        Some(c) => units::by_credit_code(state.store().conn(), c.as_str()).await?.filter(|u| u.status == "active"),
        None => None,
    };
    if let Some(u) = &existing
        && u.agency_code != agency_code
    {
        errors.push("agency_code", "同级工考管理机构：与该单位已登记的管理机构不一致");
    }
    errors.into_result()?;
    let (Some(code), Some(person), Some(sex), Some(mobile)) = (code, person, sex, mobile) else {
        return Err(AppError::Internal("validated".into()));
    };
    let reference_no = format!("DJ{}{}", campaign.year, random_token(6).to_uppercase().replace(['-', '_'], "X"));
    let tx = state.store().write().await?;
    let id = misc::create_unit_admin_request(
        tx.conn(),
        NewUnitAdminRequest {
            reference_no: reference_no.clone(),
            campaign_id: campaign.id,
            existing_unit_id: existing.as_ref().map(|u| u.id),
            unit_name,
            credit_code: code.as_str().to_owned(),
            unit_type: input.unit_type.trim().to_owned(),
            category: input.category.trim().to_owned(),
            supervising_department: dept,
            agency_code,
            person_name: person,
            sex: sex.as_str().to_owned(),
            department,
            post,
            office_phone,
            mobile: mobile.as_str().to_owned(),
        },
        now,
    )
    .await?;
    audit::append(
        &tx,
        now,
        Actor::anonymous(client_ip).record("unit_admin_request.submit", format!("unit_admin_request:{id}"), reference_no.clone()),
    )
    .await?;
    tx.commit().await?;
    misc::unit_admin_request(state.store().conn(), id).await?.ok_or(AppError::NotFound)
}

/// Approves a pending form: creates the unit if it is new, disables the unit's previous admin
/// accounts, and creates the new account with a one-time password.
pub async fn approve(state: &AppState, actor: &Actor, scope: &Scope, id: i64) -> AppResult<CreatedAccount> {
    let db = state.store().conn();
    let req = misc::unit_admin_request(db, id).await?.ok_or(AppError::NotFound)?;
    let to = decided(&req.status, Decision::Approve)?;
    // A new unit is validated again: it may have been registered since the form was filed.
    let new_unit = match req.existing_unit_id {
        Some(_) => None,
        None => {
            let input = UnitInput {
                name: req.unit_name.clone(),
                credit_code: req.credit_code.clone(),
                unit_type: req.unit_type.clone(),
                category: req.category.clone(),
                supervising_department: req.supervising_department.clone(),
                agency_code: req.agency_code.clone(),
            };
            Some(super::units::validate(state, scope, &input, None).await?)
        }
    };
    let otp = one_time_password();
    let hash = passwords::hash(otp.clone(), state.config().argon2).await.map_err(AppError::Internal)?;
    let now = state.now();
    let tx = state.store().write().await?;
    // Audit entries are appended last: every transaction then takes the audit head's row lock
    // after its business rows, so two transactions never wait on each other in a cycle.
    let mut records = Vec::new();
    let unit_id = match (req.existing_unit_id, new_unit) {
        (Some(existing), _) => existing,
        (None, Some(unit)) => {
            let unit_id = units::create(tx.conn(), unit, now).await?;
            records.push(actor.record("unit.create", format!("unit:{unit_id}"), format!("经单位管理员登记表 {} 新增", req.reference_no)));
            unit_id
        }
        (None, None) => return Err(AppError::Internal("new unit not validated".into())),
    };
    for old in accounts::active_unit_admins(tx.conn(), unit_id).await? {
        accounts::set_status(tx.conn(), old.id, "active", "disabled").await?;
        accounts::delete_sessions_of(tx.conn(), old.id).await?;
        records.push(actor.record(
            "account.disable",
            format!("account:{}", old.id),
            format!("单位管理员变更（登记表 {}）", req.reference_no),
        ));
    }
    let base = req.credit_code.to_lowercase();
    let mut username = base.clone();
    let mut n = 1;
    while accounts::by_username(tx.conn(), &username).await?.is_some() {
        n += 1;
        username = format!("{base}-{n}");
    }
    let account_id = accounts::create(
        tx.conn(),
        NewAccount {
            username: username.clone(),
            display_name: req.person_name.clone(),
            role: "unit_admin".to_owned(),
            agency_code: Some(req.agency_code.clone()),
            unit_id: Some(unit_id),
            mobile: Some(req.mobile.clone()),
            password_hash: Some(hash),
            must_change_password: true,
            ..Default::default()
        },
        now,
    )
    .await?;
    misc::decide_unit_admin_request(tx.conn(), id, to.as_str(), &actor.username, None, Some(account_id), Some(unit_id), now).await?;
    records.push(actor.record(
        "unit_admin_request.approve",
        format!("unit_admin_request:{id}"),
        format!("开通账户 {username}（account:{account_id}）"),
    ));
    for rec in records {
        audit::append(&tx, now, rec).await?;
    }
    tx.commit().await?;
    state.sender().send(OutboundMessage {
        at: now,
        channel: "sms",
        to: req.mobile.clone(),
        body: format!(
            "【河南工考】{}：您单位的网上报名管理账户已开通，用户名 {username}，初始密码 {otp}，首次登录须修改密码。",
            req.person_name
        ),
    });
    Ok(CreatedAccount { id: account_id, username, one_time_password: otp })
}

pub async fn reject(state: &AppState, actor: &Actor, id: i64, reason: &str) -> AppResult<()> {
    let reason = reason.trim();
    if !(2..=200).contains(&reason.chars().count()) {
        return Err(AppError::field("reason", "退回原因：请填写 2 至 200 字的原因"));
    }
    let db = state.store().conn();
    let req = misc::unit_admin_request(db, id).await?.ok_or(AppError::NotFound)?;
    let to = decided(&req.status, Decision::Reject)?;
    let now = state.now();
    let tx = state.store().write().await?;
    misc::decide_unit_admin_request(tx.conn(), id, to.as_str(), &actor.username, Some(reason), None, req.existing_unit_id, now).await?;
    audit::append(&tx, now, actor.record("unit_admin_request.reject", format!("unit_admin_request:{id}"), reason.to_owned())).await?;
    tx.commit().await?;
    state.sender().send(OutboundMessage {
        at: now,
        channel: "sms",
        to: req.mobile,
        body: format!("【河南工考】您提交的单位管理员信息登记表（{}）未通过审核：{reason}", req.reference_no),
    });
    Ok(())
}
