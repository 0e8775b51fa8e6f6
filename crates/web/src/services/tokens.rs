//! API tokens for integration clients (the provincial 政务服务网 portal), scoped like a role.
use gongkao_domain::role::Role;
use gongkao_domain::validation::FieldErrors;
use gongkao_storage::{audit, misc};

use super::Actor;
use crate::AppState;
use crate::auth::{random_token, sm3_hex};
use crate::error::{AppError, AppResult};

/// Returns (id, token). The token is shown once; only its SM3 digest is stored.
pub async fn create(state: &AppState, actor: &Actor, name: &str, role: &str, agency_code: &str) -> AppResult<(i64, String)> {
    let mut errors = FieldErrors::new();
    let name = name.trim();
    if !(2..=40).contains(&name.chars().count()) {
        errors.push("name", "令牌名称：应为 2 至 40 个字");
    }
    let role = match Role::parse(role) {
        Some(r @ (Role::AgencyReviewer | Role::AgencyCashier | Role::AgencyExamOfficer)) => Some(r),
        _ => {
            errors.push("role", "权限范围：接口令牌只能授予工考管理机构的审核员、收费员或考务员角色");
            None
        }
    };
    let agencies = super::jurisdiction::agencies(state).await?;
    if !agencies.iter().any(|a| a.code == agency_code.trim()) {
        errors.push("agency_code", "所属管理机构：请选择一个工考管理机构");
    }
    errors.into_result()?;
    let role = role.ok_or_else(|| AppError::Internal("validated".into()))?;
    let token = format!("gk_{}", random_token(32));
    let now = state.now();
    let tx = state.store().write().await?;
    let id = misc::create_api_token(
        tx.conn(),
        misc::NewApiToken {
            name: name.to_owned(),
            token_hash: sm3_hex(&token),
            role: role.as_str().to_owned(),
            agency_code: Some(agency_code.trim().to_owned()),
            unit_id: None,
            created_by: actor.username.clone(),
        },
        now,
    )
    .await?;
    audit::append(
        &tx,
        now,
        actor.record("api_token.create", format!("api_token:{id}"), format!("{name} {} {}", role.as_str(), agency_code.trim())),
    )
    .await?;
    tx.commit().await?;
    Ok((id, token))
}

pub async fn revoke(state: &AppState, actor: &Actor, id: i64) -> AppResult<()> {
    let now = state.now();
    let tx = state.store().write().await?;
    misc::revoke_api_token(tx.conn(), id, now).await?;
    audit::append(&tx, now, actor.record("api_token.revoke", format!("api_token:{id}"), "")).await?;
    tx.commit().await?;
    Ok(())
}
