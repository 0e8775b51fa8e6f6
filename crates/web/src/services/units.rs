//! Units (单位): registration with an agency, edits under the campaign's name lock.
use gongkao_domain::credit_code::CreditCode;
use gongkao_domain::jurisdiction::{UnitCategory, UnitType, unit_name_locked, validate_unit_name};
use gongkao_domain::validation::FieldErrors;
use gongkao_storage::units::{self, NewUnit};
use gongkao_storage::{audit, campaigns, from_ms};

use super::Actor;
use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::policy::Scope;

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct UnitInput {
    #[serde(default)]
    pub name: String,
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
}

/// Validates a unit form against the domain rules and the caller's jurisdiction.
pub async fn validate(state: &AppState, scope: &Scope, input: &UnitInput, own_id: Option<i64>) -> AppResult<NewUnit> {
    let mut errors = FieldErrors::new();
    let name = errors.check(validate_unit_name(&input.name));
    let code = errors.check(CreditCode::parse(&input.credit_code));
    let unit_type = UnitType::parse(&input.unit_type);
    if unit_type.is_none() {
        errors.push("unit_type", "单位类型：请选择机关或事业单位");
    }
    let category = UnitCategory::parse(&input.category);
    if category.is_none() {
        errors.push("category", "单位类别：请选择属地单位、省直单位或中央驻豫单位");
    }
    let dept = input.supervising_department.trim().to_owned();
    if !(2..=60).contains(&dept.chars().count()) {
        errors.push("supervising_department", "主管部门：应为 2 至 60 个字");
    }
    let agencies = super::jurisdiction::agencies(state).await?;
    let root = agencies.iter().find(|a| a.parent_code.is_none()).map(|a| a.code.clone()).unwrap_or_default();
    // 省直 and 中央驻豫 units register with the province centre, whatever was typed.
    let agency_code = match category {
        Some(UnitCategory::Provincial | UnitCategory::Central) => root,
        _ => input.agency_code.trim().to_owned(),
    };
    if !agencies.iter().any(|a| a.code == agency_code) {
        errors.push("agency_code", "所属工考管理机构：请选择当前考核年度的一个管理机构");
    } else if category == Some(UnitCategory::Local) && agencies.iter().any(|a| a.code == agency_code && a.parent_code.is_none()) {
        errors.push("agency_code", "所属工考管理机构：属地单位应选择省辖市、济源示范区或省直管县（市）的管理机构");
    } else if !scope.covers_agency(&agency_code) {
        errors.push("agency_code", "所属工考管理机构：超出您的管辖范围");
    }
    if let Some(c) = &code
        && let Some(existing) = units::by_credit_code(state.store().conn(), c.as_str()).await?
        && Some(existing.id) != own_id
    {
        errors.push("credit_code", "统一社会信用代码：已有单位使用该代码");
    }
    errors.into_result()?;
    let (Some(name), Some(code), Some(unit_type), Some(category)) = (name, code, unit_type, category) else {
        return Err(AppError::Internal("validated".into()));
    };
    Ok(NewUnit {
        name,
        credit_code: code.as_str().to_owned(),
        unit_type: unit_type.as_str().to_owned(),
        category: category.as_str().to_owned(),
        supervising_department: dept,
        agency_code,
    })
}

pub async fn create(state: &AppState, actor: &Actor, scope: &Scope, input: &UnitInput) -> AppResult<i64> {
    let unit = validate(state, scope, input, None).await?;
    let now = state.now();
    let tx = state.store().write().await?;
    let summary = format!("{} {} {}", unit.name, unit.credit_code, unit.agency_code);
    let id = units::create(tx.conn(), unit, now).await?;
    audit::append(&tx, now, actor.record("unit.create", format!("unit:{id}"), summary)).await?;
    tx.commit().await?;
    Ok(id)
}

async fn name_lock_active(state: &AppState) -> AppResult<bool> {
    let c = campaigns::current(state.store().conn()).await?;
    Ok(unit_name_locked(c.and_then(|c| c.unit_name_lock_at).map(from_ms), state.now()))
}

pub async fn update(state: &AppState, actor: &Actor, scope: &Scope, id: i64, expected_version: i32, input: &UnitInput) -> AppResult<()> {
    let db = state.store().conn();
    let before = units::get(db, id).await?.ok_or(AppError::NotFound)?;
    let unit = validate(state, scope, input, Some(id)).await?;
    if unit.name != before.name && name_lock_active(state).await? {
        return Err(AppError::field("name", "单位名称：本考核年度单位名称已锁定，只能新增单位，不能修改或删除已有单位名称"));
    }
    let now = state.now();
    let summary = format!(
        "名称 {} → {}；代码 {} → {}；机构 {} → {}；主管部门 {} → {}",
        before.name,
        unit.name,
        before.credit_code,
        unit.credit_code,
        before.agency_code,
        unit.agency_code,
        before.supervising_department,
        unit.supervising_department
    );
    let tx = state.store().write().await?;
    units::update(tx.conn(), id, expected_version, unit, now).await?;
    audit::append(&tx, now, actor.record("unit.update", format!("unit:{id}"), summary)).await?;
    tx.commit().await?;
    Ok(())
}

/// What a unit admin may correct about their own unit (核对单位名称，完善信息): the name, until
/// the campaign's lock, and the supervising department. Everything else stays as registered.
pub async fn update_details(
    state: &AppState,
    actor: &Actor,
    scope: &Scope,
    id: i64,
    expected_version: i32,
    name: &str,
    supervising_department: &str,
) -> AppResult<()> {
    let before = units::get(state.store().conn(), id).await?.ok_or(AppError::NotFound)?;
    let input = UnitInput {
        name: name.to_owned(),
        credit_code: before.credit_code.clone(),
        unit_type: before.unit_type.clone(),
        category: before.category.clone(),
        supervising_department: supervising_department.to_owned(),
        agency_code: before.agency_code.clone(),
    };
    // The unit's own agency is checked as the unit's, not the caller's: a unit admin has no
    // agency scope, and the agency does not change here.
    let agency_scope = Scope::Agencies(vec![before.agency_code.clone()]);
    let scope = if matches!(scope, Scope::Unit(_)) { &agency_scope } else { scope };
    update(state, actor, scope, id, expected_version, &input).await
}

pub async fn delete(state: &AppState, actor: &Actor, id: i64) -> AppResult<()> {
    let db = state.store().conn();
    let before = units::get(db, id).await?.ok_or(AppError::NotFound)?;
    if name_lock_active(state).await? {
        return Err(AppError::Conflict("本考核年度单位名称已锁定，只能新增单位，不能删除已有单位".to_owned()));
    }
    let now = state.now();
    let tx = state.store().write().await?;
    units::mark_deleted(tx.conn(), id, now).await?;
    audit::append(&tx, now, actor.record("unit.delete", format!("unit:{id}"), format!("{} {}", before.name, before.credit_code))).await?;
    tx.commit().await?;
    Ok(())
}
