//! Applicants recover their password with a code sent to the mobile on file. Staff passwords are
//! reset by the system admin instead. Answers never reveal whether an ID number is registered.
use gongkao_domain::id_number::IdNumber;
use gongkao_domain::password::check_password_policy;
use gongkao_domain::person::Mobile;
use gongkao_domain::validation::FieldErrors;
use gongkao_storage::{accounts, audit, misc};
use rand::Rng;
use time::Duration;

use super::Actor;
use crate::AppState;
use crate::auth::sm3_hex;
use crate::error::{AppError, AppResult};
use crate::passwords;
use crate::sender::OutboundMessage;

const PURPOSE: &str = "password_reset";
const MAX_CODES_PER_HOUR: u64 = 5;
const MAX_ATTEMPTS: i32 = 5;

fn parse(id_number: &str, mobile: &str) -> Result<(IdNumber, Mobile), FieldErrors> {
    let mut errors = FieldErrors::new();
    let id = match IdNumber::parse(id_number) {
        Ok(id) => Some(id),
        Err(e) => {
            errors.push_error(e.into_field_error("id_number"));
            None
        }
    };
    let mobile = errors.check(Mobile::parse(mobile));
    errors.into_result()?;
    match (id, mobile) {
        (Some(i), Some(m)) => Ok((i, m)),
        _ => Err(FieldErrors::new()),
    }
}

/// Step 1. Sends a code only if the ID number and mobile belong to one applicant account, but
/// answers the same either way.
pub async fn request_code(state: &AppState, client_ip: &str, id_number: &str, mobile: &str) -> AppResult<String> {
    let (id, mobile) = parse(id_number, mobile)?;
    let now = state.now();
    let db = state.store().conn();
    if misc::count_recent_codes(db, mobile.as_str(), now - Duration::hours(1)).await? >= MAX_CODES_PER_HOUR {
        return Err(AppError::TooManyRequests("验证码发送过于频繁，请一小时后再试".to_owned()));
    }
    let account = accounts::by_username(db, id.as_str()).await?;
    let matches =
        account.as_ref().is_some_and(|a| a.role == "applicant" && a.status == "active" && a.mobile.as_deref() == Some(mobile.as_str()));
    let tx = state.store().write().await?;
    if matches {
        let code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
        misc::store_verification_code(
            tx.conn(),
            PURPOSE,
            mobile.as_str(),
            &sm3_hex(&code),
            now,
            now + Duration::minutes(state.config().verification_code_minutes),
        )
        .await?;
        state.sender().send(OutboundMessage {
            at: now,
            channel: "sms",
            to: mobile.as_str().to_owned(),
            body: format!(
                "【河南工考】您正在找回登录密码，验证码 {code}，{} 分钟内有效。如非本人操作请忽略。",
                state.config().verification_code_minutes
            ),
        });
    }
    let summary = if matches { "验证码已发送" } else { "身份证号码与手机号码不匹配，未发送" };
    audit::append(&tx, now, Actor::anonymous(client_ip).record("password.recovery.code", format!("mobile:{}", mobile.masked()), summary))
        .await?;
    tx.commit().await?;
    Ok(mobile.masked())
}

/// Step 2. Checks the code and sets the new password; every session of the account ends.
pub async fn complete(
    state: &AppState,
    client_ip: &str,
    id_number: &str,
    mobile: &str,
    code: &str,
    password: &str,
    confirm: &str,
) -> AppResult<()> {
    let (id, mobile) = parse(id_number, mobile)?;
    let now = state.now();
    let db = state.store().conn();
    let mut errors = FieldErrors::new();
    if let Err(e) = check_password_policy(password, id.as_str(), Some(id.as_str())) {
        errors.push_error(e);
    }
    if password != confirm {
        errors.push("confirm_password", "确认密码：两次输入的密码不一致");
    }
    let account =
        accounts::by_username(db, id.as_str()).await?.filter(|a| a.role == "applicant" && a.mobile.as_deref() == Some(mobile.as_str()));
    let row = misc::live_verification_code(db, PURPOSE, mobile.as_str(), now).await?;
    let code_ok = match (&row, &account) {
        (Some(r), Some(_)) if r.attempts < MAX_ATTEMPTS => {
            let ok = r.code_hash == sm3_hex(code.trim());
            if !ok {
                let tx = state.store().write().await?;
                misc::bump_code_attempts(tx.conn(), r.id).await?;
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
    let (Some(account), Some(row)) = (account, row) else { return Err(AppError::Internal("validated".into())) };
    let hash = passwords::hash(password.to_owned(), state.config().argon2).await.map_err(AppError::Internal)?;
    let tx = state.store().write().await?;
    misc::use_code(tx.conn(), row.id, now).await?;
    accounts::set_password(tx.conn(), account.id, &hash, false, now).await?;
    accounts::delete_sessions_of(tx.conn(), account.id).await?;
    let actor = Actor {
        username: account.username.clone(),
        role: "applicant".to_owned(),
        jurisdiction: String::new(),
        client_ip: client_ip.to_owned(),
    };
    audit::append(&tx, now, actor.record("account.password.recover", format!("account:{}", account.id), "凭短信验证码重设密码")).await?;
    tx.commit().await?;
    Ok(())
}
