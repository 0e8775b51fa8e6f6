//! The agency tree of the current campaign.
use gongkao_storage::campaigns;

use crate::AppState;
use crate::error::{AppError, AppResult};

/// (code, parent code) pairs of the current campaign's agencies.
pub async fn tree(state: &AppState) -> AppResult<Vec<(String, Option<String>)>> {
    let db = state.store().conn();
    let Some(c) = campaigns::current(db).await? else { return Ok(Vec::new()) };
    Ok(campaigns::agencies(db, c.id).await?.into_iter().map(|a| (a.code, a.parent_code)).collect())
}

pub async fn agencies(state: &AppState) -> AppResult<Vec<campaigns::Agency>> {
    let db = state.store().conn();
    let c = campaigns::current(db).await?.ok_or_else(|| AppError::Conflict("尚未设置考核年度".to_owned()))?;
    Ok(campaigns::agencies(db, c.id).await?)
}

pub fn agency_name(agencies: &[campaigns::Agency], code: &str) -> String {
    agencies.iter().find(|a| a.code == code).map(|a| a.name.clone()).unwrap_or_else(|| code.to_owned())
}
