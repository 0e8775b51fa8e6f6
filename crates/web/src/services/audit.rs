//! Audit entries that stand alone (denials, failed logins, exports); state changes append
//! theirs inside their own transaction instead.
use gongkao_storage::audit::{self, AuditRecord};

use crate::AppState;
use crate::error::AppResult;

pub async fn record(state: &AppState, rec: AuditRecord) -> AppResult<()> {
    let tx = state.store().write().await?;
    audit::append(&tx, state.now(), rec).await?;
    tx.commit().await?;
    Ok(())
}
