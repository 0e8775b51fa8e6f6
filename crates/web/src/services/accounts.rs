//! Sign-in, sign-out, passwords and staff accounts.
use gongkao_domain::id_number::IdNumber;
use gongkao_domain::password::check_password_policy;
use gongkao_domain::role::{Role, check_separation_of_duties};
use gongkao_domain::validation::{FieldError, FieldErrors};
use gongkao_storage::accounts::Session;
use gongkao_storage::accounts::{self, Account, NewAccount};
use gongkao_storage::audit::{self, AuditRecord};
use gongkao_storage::entity::ip_throttle;
use gongkao_storage::to_ms;
use time::Duration;

use super::Actor;
use super::security::{self, SecurityPolicy};
use crate::AppState;
use crate::auth::{random_token, sm3_hex};
use crate::error::{AppError, AppResult};
use crate::passwords;

pub const LOGIN_FAILED: &str = "用户名或密码错误";

pub struct LoginOk {
    pub cookie_value: String,
    pub account: Account,
}

fn locked_message(minutes: i64) -> String {
    format!("登录失败次数过多，账户或来源地址已被临时锁定，请 {minutes} 分钟后再试")
}

/// Checks the password, applies lockout per account and per client address, creates a session.
/// Every outcome is audited; failures say nothing about whether the user name exists.
pub async fn login(state: &AppState, username: &str, password: &str, client_ip: &str) -> AppResult<LoginOk> {
    let policy = security::load(state).await?;
    let db = state.store().conn();
    let now = state.now();
    let now_ms = to_ms(now);
    let username = username.trim().to_lowercase();
    let audit_fail = |summary: &str| AuditRecord {
        actor: username.chars().take(64).collect(),
        role: String::new(),
        jurisdiction: String::new(),
        action: "auth.login".to_owned(),
        target: "session".to_owned(),
        summary: summary.to_owned(),
        client_ip: client_ip.to_owned(),
        outcome: "failed".to_owned(),
    };
    if let Some(t) = accounts::ip_throttle(db, client_ip).await?
        && t.locked_until.is_some_and(|u| u > now_ms)
    {
        super::audit::record(state, audit_fail("来源地址已锁定")).await?;
        return Err(AppError::TooManyRequests(locked_message(policy.lockout_minutes)));
    }
    let account = accounts::by_username(db, &username).await?;
    let stored = account.as_ref().and_then(|a| a.password_hash.clone());
    let hash = stored.clone().unwrap_or_else(|| passwords::dummy_hash(state.config().argon2).to_owned());
    let password_ok = passwords::verify(password.to_owned(), hash).await && stored.is_some();

    let account = match account {
        Some(a) if a.status == "active" => a,
        _ => {
            note_ip_failure(state, client_ip, &policy).await?;
            super::audit::record(state, audit_fail("用户名不存在或账户已停用")).await?;
            return Err(AppError::field("username", LOGIN_FAILED));
        }
    };
    if account.locked_until.is_some_and(|u| u > now_ms) {
        super::audit::record(state, audit_fail("账户已锁定")).await?;
        return Err(AppError::TooManyRequests(locked_message(policy.lockout_minutes)));
    }
    if !password_ok {
        let failures = account.failed_logins + 1;
        let lock = (i64::from(failures) >= policy.lockout_threshold).then(|| now + Duration::minutes(policy.lockout_minutes));
        let tx = state.store().write().await?;
        accounts::record_failed_login(tx.conn(), account.id, if lock.is_some() { 0 } else { failures }, lock).await?;
        tx.commit().await?;
        note_ip_failure(state, client_ip, &policy).await?;
        let summary = if lock.is_some() {
            format!("密码错误，第 {failures} 次，账户锁定")
        } else {
            format!("密码错误，第 {failures} 次")
        };
        super::audit::record(state, audit_fail(&summary)).await?;
        if lock.is_some() {
            return Err(AppError::TooManyRequests(locked_message(policy.lockout_minutes)));
        }
        return Err(AppError::field("username", LOGIN_FAILED));
    }

    let cookie_value = random_token(32);
    let tx = state.store().write().await?;
    accounts::record_login(tx.conn(), account.id, now).await?;
    accounts::create_session(
        tx.conn(),
        Session {
            id_hash: sm3_hex(&cookie_value),
            account_id: account.id,
            csrf_token: random_token(24),
            created_at: now_ms,
            last_seen_at: now_ms,
            expires_at: now_ms + state.config().session_hours * 3_600_000,
            client_ip: client_ip.to_owned(),
        },
    )
    .await?;
    let actor = Actor {
        username: account.username.clone(),
        role: account.role.clone(),
        jurisdiction: account.agency_code.clone().unwrap_or_default(),
        client_ip: client_ip.to_owned(),
    };
    audit::append(&tx, now, actor.record("auth.login", "session", "登录成功")).await?;
    tx.commit().await?;
    Ok(LoginOk { cookie_value, account })
}

async fn note_ip_failure(state: &AppState, ip: &str, policy: &SecurityPolicy) -> AppResult<()> {
    let db = state.store().conn();
    let now_ms = to_ms(state.now());
    let window_ms = policy.lockout_minutes * 60_000;
    let mut row = accounts::ip_throttle(db, ip).await?.unwrap_or(ip_throttle::Model {
        ip: ip.to_owned(),
        failures: 0,
        window_started_at: now_ms,
        locked_until: None,
    });
    if now_ms - row.window_started_at > window_ms {
        row.failures = 0;
        row.window_started_at = now_ms;
        row.locked_until = None;
    }
    row.failures += 1;
    if i64::from(row.failures) >= policy.ip_lockout_threshold {
        row.locked_until = Some(now_ms + window_ms);
    }
    let tx = state.store().write().await?;
    accounts::set_ip_throttle(tx.conn(), row).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn logout(state: &AppState, cookie_value: &str, actor: &Actor) -> AppResult<()> {
    let tx = state.store().write().await?;
    accounts::delete_session(tx.conn(), &sm3_hex(cookie_value)).await?;
    audit::append(&tx, state.now(), actor.record("auth.logout", "session", "")).await?;
    tx.commit().await?;
    Ok(())
}

/// The caller changes their own password; every other session of the account ends.
pub async fn change_own_password(
    state: &AppState,
    actor: &Actor,
    account_id: i64,
    current: &str,
    new: &str,
    confirm: &str,
) -> AppResult<()> {
    let db = state.store().conn();
    let account = accounts::get(db, account_id).await?.ok_or(AppError::NotFound)?;
    let mut errors = FieldErrors::new();
    let ok = match &account.password_hash {
        Some(h) => passwords::verify(current.to_owned(), h.clone()).await,
        None => false,
    };
    if !ok {
        errors.push("current_password", "当前密码：不正确");
    }
    validate_new_password(state, &mut errors, new, confirm, &account).await?;
    if current == new {
        errors.push("new_password", "新密码：不能与当前密码相同");
    }
    errors.into_result()?;
    let hash = passwords::hash(new.to_owned(), state.config().argon2).await.map_err(AppError::Internal)?;
    let now = state.now();
    let tx = state.store().write().await?;
    accounts::set_password(tx.conn(), account.id, &hash, false, now).await?;
    accounts::delete_sessions_of(tx.conn(), account.id).await?;
    audit::append(&tx, now, actor.record("account.password.change", format!("account:{}", account.id), "本人修改密码")).await?;
    tx.commit().await?;
    Ok(())
}

async fn validate_new_password(state: &AppState, errors: &mut FieldErrors, new: &str, confirm: &str, account: &Account) -> AppResult<()> {
    let policy = security::load(state).await?;
    let id_number = account.holder_id_number.clone().or_else(|| {
        // Applicants sign in with their ID number as user name.
        IdNumber::parse(&account.username).ok().map(|i| i.as_str().to_owned())
    });
    if let Err(e) = check_password_policy(new, &account.username, id_number.as_deref()) {
        errors.push("new_password", e.message.replace("密码：", "新密码："));
    } else if i64::try_from(new.chars().count()).unwrap_or(0) < policy.password_min_length {
        errors.push("new_password", format!("新密码：长度至少 {} 位", policy.password_min_length));
    }
    if new != confirm {
        errors.push("confirm_password", "确认密码：两次输入的新密码不一致");
    }
    Ok(())
}

/// A one-time password: random, meets the policy, must be changed at first sign-in.
pub fn one_time_password() -> String {
    // Alphabet without look-alikes (0/O, 1/l/I) so it can be read out over the phone.
    const UPPER: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ";
    const LOWER: &[u8] = b"abcdefghijkmnpqrstuvwxyz";
    const DIGIT: &[u8] = b"23456789";
    let raw = random_token(16);
    let bytes = raw.as_bytes();
    let mut out = String::new();
    for (i, b) in bytes.iter().take(12).enumerate() {
        let set = match i % 3 {
            0 => UPPER,
            1 => LOWER,
            _ => DIGIT,
        };
        out.push(char::from(set[usize::from(*b) % set.len()]));
    }
    out
}

#[derive(Debug, Clone, Default)]
pub struct StaffAccountInput {
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub agency_code: String,
    pub holder_id_number: String,
    pub mobile: String,
}

pub struct CreatedAccount {
    pub id: i64,
    pub username: String,
    pub one_time_password: String,
}

fn validate_username(u: &str) -> Result<String, FieldError> {
    let u = u.trim().to_lowercase();
    let ok_chars = u.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-');
    if !(3..=32).contains(&u.chars().count()) || !ok_chars {
        return Err(FieldError::new("username", "用户名：应为 3 至 32 位字母、数字或 . _ -"));
    }
    Ok(u)
}

/// The system admin creates a staff account (any role but applicant and unit admin, which come
/// from sign-up and the 附件2 form). Returns the one-time password to hand over.
pub async fn create_staff_account(state: &AppState, actor: &Actor, input: StaffAccountInput) -> AppResult<CreatedAccount> {
    let db = state.store().conn();
    let mut errors = FieldErrors::new();
    let username = errors.check(validate_username(&input.username));
    let display_name = input.display_name.trim().to_owned();
    if !(2..=30).contains(&display_name.chars().count()) {
        errors.push("display_name", "姓名：应为 2 至 30 个字");
    }
    let role = match Role::parse(&input.role) {
        Some(r) if !matches!(r, Role::Applicant | Role::UnitAdmin) => Some(r),
        _ => {
            errors.push("role", "角色：请选择一个工作人员角色（申报人员和单位管理员不在此处创建）");
            None
        }
    };
    let agency_code = input.agency_code.trim().to_owned();
    if let Some(r) = role
        && r.is_agency_staff()
    {
        let agencies = super::jurisdiction::agencies(state).await?;
        if !agencies.iter().any(|a| a.code == agency_code) {
            errors.push("agency_code", "所属管理机构：请选择当前考核年度的一个工考管理机构");
        }
    }
    let holder = input.holder_id_number.trim();
    let holder = if holder.is_empty() {
        if role.is_some_and(Role::is_separated_admin) {
            errors.push("holder_id_number", "持有人身份证号码：三员账户必须实名登记持有人");
        }
        None
    } else {
        match IdNumber::parse(holder) {
            Ok(id) => Some(id.as_str().to_owned()),
            Err(e) => {
                errors.push("holder_id_number", format!("持有人{e}"));
                None
            }
        }
    };
    if let (Some(r), Some(h)) = (role, &holder)
        && r.is_separated_admin()
    {
        let existing: Vec<Role> = accounts::by_holder(db, h).await?.iter().filter_map(|a| Role::parse(&a.role)).collect();
        if let Err(e) = check_separation_of_duties(r, &existing) {
            errors.push_error(e);
        }
    }
    if let Some(u) = &username
        && accounts::by_username(db, u).await?.is_some()
    {
        errors.push("username", "用户名：已被使用");
    }
    errors.into_result()?;
    let (Some(username), Some(role)) = (username, role) else { return Err(AppError::Internal("validated".into())) };
    let otp = one_time_password();
    let hash = passwords::hash(otp.clone(), state.config().argon2).await.map_err(AppError::Internal)?;
    let now = state.now();
    let tx = state.store().write().await?;
    let id = accounts::create(
        tx.conn(),
        NewAccount {
            username: username.clone(),
            display_name,
            role: role.as_str().to_owned(),
            agency_code: role.is_agency_staff().then_some(agency_code.clone()),
            holder_id_number: holder,
            mobile: Some(input.mobile.trim().to_owned()).filter(|m| !m.is_empty()),
            password_hash: Some(hash),
            must_change_password: true,
            ..Default::default()
        },
        now,
    )
    .await?;
    audit::append(
        &tx,
        now,
        actor.record("account.create", format!("account:{id}"), format!("{username} 角色 {} 机构 {agency_code}", role.as_str())),
    )
    .await?;
    tx.commit().await?;
    Ok(CreatedAccount { id, username, one_time_password: otp })
}

/// Sets a new one-time password; the holder must change it at the next sign-in.
pub async fn reset_password(state: &AppState, actor: &Actor, account_id: i64) -> AppResult<CreatedAccount> {
    let db = state.store().conn();
    let account = accounts::get(db, account_id).await?.ok_or(AppError::NotFound)?;
    let otp = one_time_password();
    let hash = passwords::hash(otp.clone(), state.config().argon2).await.map_err(AppError::Internal)?;
    let now = state.now();
    let tx = state.store().write().await?;
    accounts::set_password(tx.conn(), account.id, &hash, true, now).await?;
    accounts::delete_sessions_of(tx.conn(), account.id).await?;
    audit::append(&tx, now, actor.record("account.password.reset", format!("account:{}", account.id), account.username.clone())).await?;
    tx.commit().await?;
    Ok(CreatedAccount { id: account.id, username: account.username, one_time_password: otp })
}

pub async fn set_enabled(state: &AppState, actor: &Actor, account_id: i64, enabled: bool, reason: &str) -> AppResult<()> {
    let reason = reason.trim();
    if reason.chars().count() < 2 {
        return Err(AppError::field("reason", "原因：请填写启用或停用的原因"));
    }
    let now = state.now();
    let tx = state.store().write().await?;
    let (from, to, action) = if enabled { ("disabled", "active", "account.enable") } else { ("active", "disabled", "account.disable") };
    accounts::set_status(tx.conn(), account_id, from, to).await?;
    if !enabled {
        accounts::delete_sessions_of(tx.conn(), account_id).await?;
    }
    audit::append(&tx, now, actor.record(action, format!("account:{account_id}"), reason.to_owned())).await?;
    tx.commit().await?;
    Ok(())
}

/// `gongkao admin create-admin`: the first province-level account, made from the command line.
pub async fn create_initial_admin(
    state: &AppState,
    username: &str,
    display_name: &str,
    role: Role,
    agency_code: Option<&str>,
    holder: Option<&str>,
    password: &str,
) -> AppResult<i64> {
    let mut errors = FieldErrors::new();
    let username = errors.check(validate_username(username));
    if let Err(e) = check_password_policy(password, username.as_deref().unwrap_or(""), holder) {
        errors.push_error(e);
    }
    errors.into_result()?;
    let username = username.unwrap_or_default();
    if accounts::by_username(state.store().conn(), &username).await?.is_some() {
        return Err(AppError::field("username", "用户名：已被使用"));
    }
    let hash = passwords::hash(password.to_owned(), state.config().argon2).await.map_err(AppError::Internal)?;
    let now = state.now();
    let tx = state.store().write().await?;
    let id = accounts::create(
        tx.conn(),
        NewAccount {
            username: username.clone(),
            display_name: display_name.to_owned(),
            role: role.as_str().to_owned(),
            agency_code: agency_code.map(str::to_owned),
            holder_id_number: holder.map(str::to_owned),
            password_hash: Some(hash),
            must_change_password: false,
            ..Default::default()
        },
        now,
    )
    .await?;
    audit::append(
        &tx,
        now,
        Actor::system("cli").record("account.create", format!("account:{id}"), format!("{username} 角色 {}", role.as_str())),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_time_passwords_meet_the_policy() {
        for _ in 0..200 {
            let p = one_time_password();
            assert_eq!(p.chars().count(), 12);
            assert!(check_password_policy(&p, "someone", None).is_ok(), "{p}");
        }
    }
}
