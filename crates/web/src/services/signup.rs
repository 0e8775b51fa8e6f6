//! Applicant sign-up with the resident ID number, cross-checked against what the person types,
//! and a verification code sent to the mobile through the pluggable sender.
use gongkao_domain::campaign::WindowKind;
use gongkao_domain::id_number::{IdNumber, cross_check};
use gongkao_domain::password::check_password_policy;
use gongkao_domain::person::{Mobile, Sex, validate_person_name};
use gongkao_domain::validation::FieldErrors;
use gongkao_storage::accounts::{self, NewAccount};
use gongkao_storage::units::{self, NewApplicant};
use gongkao_storage::{audit, misc};
use rand::Rng;
use time::Duration;

use super::Actor;
use crate::AppState;
use crate::auth::sm3_hex;
use crate::error::{AppError, AppResult};
use crate::passwords;
use crate::sender::OutboundMessage;

const PURPOSE: &str = "signup";
const MAX_CODES_PER_HOUR: u64 = 5;
const MAX_CODE_ATTEMPTS: i32 = 5;

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct SignupInput {
    #[serde(default)]
    pub id_number: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub birth_date: String,
    #[serde(default)]
    pub sex: String,
    #[serde(default)]
    pub mobile: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub confirm_password: String,
}

pub struct Checked {
    pub id: IdNumber,
    pub name: String,
    pub sex: Sex,
    pub mobile: Mobile,
}

async fn ensure_window(state: &AppState) -> AppResult<()> {
    let (_, schedule) = super::campaigns::current(state).await?;
    match schedule.window(WindowKind::Registration) {
        Some(w) if w.contains(state.now()) => Ok(()),
        Some(w) => Err(AppError::Conflict(format!("不在网上报名时间内：本年度网上报名时间为 {}", w.label()))),
        None => Err(AppError::Conflict("本考核年度未设置网上报名时间".to_owned())),
    }
}

pub async fn check(state: &AppState, input: &SignupInput) -> AppResult<Checked> {
    ensure_window(state).await?;
    let mut errors = FieldErrors::new();
    let id = match IdNumber::parse(&input.id_number) {
        Ok(id) => Some(id),
        Err(e) => {
            errors.push_error(e.into_field_error("id_number"));
            None
        }
    };
    let name = errors.check(validate_person_name(&input.name, "name"));
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let birth = time::Date::parse(input.birth_date.trim(), fmt).ok();
    if birth.is_none() {
        errors.push("birth_date", "出生日期：请按 年-月-日 填写，例如 1980-01-01");
    }
    let sex = Sex::parse(input.sex.trim());
    if sex.is_none() {
        errors.push("sex", "性别：请选择男或女");
    }
    let mobile = errors.check(Mobile::parse(&input.mobile));
    if let Some(id) = &id {
        errors.extend(cross_check(id, birth, sex, state.now().date()));
        if units::applicant_by_id_number(state.store().conn(), id.as_str()).await?.is_some()
            || accounts::by_username(state.store().conn(), id.as_str()).await?.is_some()
        {
            errors.push("id_number", "身份证号码：该号码已注册，请直接登录或找回密码");
        }
    }
    errors.into_result()?;
    match (id, name, sex, mobile) {
        (Some(id), Some(name), Some(sex), Some(mobile)) => Ok(Checked { id, name, sex, mobile }),
        _ => Err(AppError::Internal("validated".into())),
    }
}

/// Step 1: checks the personal data and sends a six-digit code to the mobile.
pub async fn request_code(state: &AppState, client_ip: &str, input: &SignupInput) -> AppResult<Checked> {
    let checked = check(state, input).await?;
    let now = state.now();
    let db = state.store().conn();
    if misc::count_recent_codes(db, checked.mobile.as_str(), now - Duration::hours(1)).await? >= MAX_CODES_PER_HOUR {
        return Err(AppError::TooManyRequests("验证码发送过于频繁，请一小时后再试".to_owned()));
    }
    let code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
    let expires = now + Duration::minutes(state.config().verification_code_minutes);
    let tx = state.store().write().await?;
    misc::store_verification_code(tx.conn(), PURPOSE, checked.mobile.as_str(), &sm3_hex(&code), now, expires).await?;
    audit::append(&tx, now, Actor::anonymous(client_ip).record("signup.code.send", format!("mobile:{}", checked.mobile.masked()), ""))
        .await?;
    tx.commit().await?;
    state.sender().send(OutboundMessage {
        at: now,
        channel: "sms",
        to: checked.mobile.as_str().to_owned(),
        body: format!("【河南工考】您的注册验证码为 {code}，{} 分钟内有效。如非本人操作请忽略。", state.config().verification_code_minutes),
    });
    Ok(checked)
}

/// Step 2: verifies the code and creates the applicant and the account (user name = ID number).
pub async fn complete(state: &AppState, client_ip: &str, input: &SignupInput) -> AppResult<String> {
    let checked = check(state, input).await?;
    let mut errors = FieldErrors::new();
    if let Err(e) = check_password_policy(&input.password, checked.id.as_str(), Some(checked.id.as_str())) {
        errors.push_error(e);
    }
    if input.password != input.confirm_password {
        errors.push("confirm_password", "确认密码：两次输入的密码不一致");
    }
    let now = state.now();
    let db = state.store().conn();
    let code_row = misc::live_verification_code(db, PURPOSE, checked.mobile.as_str(), now).await?;
    let code_ok = match &code_row {
        Some(row) if row.attempts < MAX_CODE_ATTEMPTS => {
            let ok = row.code_hash == sm3_hex(input.code.trim());
            if !ok {
                let tx = state.store().write().await?;
                misc::bump_code_attempts(tx.conn(), row.id).await?;
                tx.commit().await?;
            }
            ok
        }
        _ => false,
    };
    if !code_ok {
        errors.push("code", "短信验证码：不正确或已过期，请重新获取");
    }
    errors.into_result()?;
    let hash = passwords::hash(input.password.clone(), state.config().argon2).await.map_err(AppError::Internal)?;
    let tx = state.store().write().await?;
    if let Some(row) = code_row {
        misc::use_code(tx.conn(), row.id, now).await?;
    }
    let applicant_id = units::create_applicant(
        tx.conn(),
        NewApplicant {
            id_number: checked.id.as_str().to_owned(),
            name: checked.name.clone(),
            sex: checked.sex.as_str().to_owned(),
            birth_date: checked.id.birth_date().to_string(),
            mobile: checked.mobile.as_str().to_owned(),
            unit_id: None,
            work_type: None,
            current_level: None,
            work_start_date: None,
            education: None,
        },
        now,
    )
    .await?;
    let account_id = accounts::create(
        tx.conn(),
        NewAccount {
            username: checked.id.as_str().to_owned(),
            display_name: checked.name.clone(),
            role: "applicant".to_owned(),
            applicant_id: Some(applicant_id),
            mobile: Some(checked.mobile.as_str().to_owned()),
            password_hash: Some(hash),
            ..Default::default()
        },
        now,
    )
    .await?;
    let actor = Actor {
        username: checked.id.as_str().to_lowercase(),
        role: "applicant".to_owned(),
        jurisdiction: String::new(),
        client_ip: client_ip.to_owned(),
    };
    audit::append(
        &tx,
        now,
        actor.record("signup.complete", format!("account:{account_id}"), format!("applicant:{applicant_id} {}", checked.id.masked())),
    )
    .await?;
    tx.commit().await?;
    Ok(checked.id.as_str().to_owned())
}
