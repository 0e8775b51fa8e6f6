//! The security policy the security admin sets (三员分立: only that role changes it).
use gongkao_domain::validation::FieldErrors;
use gongkao_storage::misc;

use super::Actor;
use crate::AppState;
use crate::error::AppResult;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityPolicy {
    pub lockout_threshold: i64,
    pub lockout_minutes: i64,
    pub ip_lockout_threshold: i64,
    pub staff_idle_minutes: i64,
    pub password_min_length: i64,
}

impl Default for SecurityPolicy {
    fn default() -> Self {
        SecurityPolicy {
            lockout_threshold: 5,
            lockout_minutes: 15,
            ip_lockout_threshold: 5,
            staff_idle_minutes: 30,
            password_min_length: 10,
        }
    }
}

/// (key, label, min, max) of each setting; the bounds keep the policy from being weakened below
/// the baseline.
pub const FIELDS: [(&str, &str, i64, i64); 5] = [
    ("lockout_threshold", "账户锁定阈值（连续失败次数）", 3, 10),
    ("lockout_minutes", "锁定时长（分钟）", 15, 1440),
    ("ip_lockout_threshold", "同一来源地址锁定阈值（连续失败次数）", 5, 1000),
    ("staff_idle_minutes", "工作人员空闲超时（分钟）", 5, 30),
    ("password_min_length", "密码最小长度", 10, 32),
];

impl SecurityPolicy {
    pub fn get(&self, key: &str) -> i64 {
        match key {
            "lockout_threshold" => self.lockout_threshold,
            "lockout_minutes" => self.lockout_minutes,
            "ip_lockout_threshold" => self.ip_lockout_threshold,
            "staff_idle_minutes" => self.staff_idle_minutes,
            _ => self.password_min_length,
        }
    }
    fn set(&mut self, key: &str, v: i64) {
        match key {
            "lockout_threshold" => self.lockout_threshold = v,
            "lockout_minutes" => self.lockout_minutes = v,
            "ip_lockout_threshold" => self.ip_lockout_threshold = v,
            "staff_idle_minutes" => self.staff_idle_minutes = v,
            _ => self.password_min_length = v,
        }
    }
}

pub async fn load(state: &AppState) -> AppResult<SecurityPolicy> {
    let mut p = SecurityPolicy::default();
    for s in misc::settings(state.store().conn()).await? {
        if let Some(key) = s.key.strip_prefix("security.")
            && let Ok(v) = s.value.parse::<i64>()
            && FIELDS.iter().any(|(k, ..)| *k == key)
        {
            p.set(key, v);
        }
    }
    Ok(p)
}

/// Validates every field first; writes nothing unless all are valid.
pub async fn save(state: &AppState, actor: &Actor, input: &[(String, String)]) -> AppResult<SecurityPolicy> {
    let mut errors = FieldErrors::new();
    let mut values = Vec::new();
    for (key, label, min, max) in FIELDS {
        let raw = input.iter().find(|(k, _)| k == key).map(|(_, v)| v.trim()).unwrap_or("");
        match raw.parse::<i64>() {
            Ok(v) if (min..=max).contains(&v) => values.push((key, v)),
            _ => errors.push(key, format!("{label}：应为 {min} 至 {max} 之间的整数")),
        }
    }
    errors.into_result()?;
    let before = load(state).await?;
    let now = state.now();
    let tx = state.store().write().await?;
    let mut changes = Vec::new();
    for (key, v) in &values {
        if before.get(key) != *v {
            misc::put_setting(tx.conn(), &format!("security.{key}"), &v.to_string(), &actor.username, now).await?;
            changes.push(format!("{key}: {} → {v}", before.get(key)));
        }
    }
    gongkao_storage::audit::append(&tx, now, actor.record("security.policy.update", "security_policy", changes.join("; "))).await?;
    tx.commit().await?;
    crate::auth::invalidate_cached(state);
    load(state).await
}
