//! The append-only, SM3-chained audit log.
//!
//! Appending takes the row lock on `audit_head` first (an UPDATE), so concurrent writers on
//! several PostgreSQL nodes are serialised and the chain stays linear.
use gongkao_domain::audit::{AuditContent, ChainBreak, ChainVerifier, seal, seal_head};
use gongkao_domain::paging::{Page, Paged};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
};
use time::OffsetDateTime;

use crate::entity::audit_log;
use crate::{StoreError, StoreResult, WriteTx, to_ms};

/// What happened, by whom; the store adds the sequence number and the hashes.
#[derive(Debug, Clone, Default)]
pub struct AuditRecord {
    pub actor: String,
    pub role: String,
    pub jurisdiction: String,
    pub action: String,
    pub target: String,
    pub summary: String,
    pub client_ip: String,
    pub outcome: String,
}

/// Appends one entry in the caller's transaction and returns its sequence number.
pub async fn append(tx: &WriteTx, at: OffsetDateTime, rec: AuditRecord) -> StoreResult<i64> {
    append_many(tx, vec![(at, rec)]).await
}

/// Appends several entries in the caller's transaction with three statements however many there
/// are (the head moves once, the rows go in together): a group commit of a thousand logins
/// would otherwise spend three statements on each. The chain is the same as `append`'s, entry
/// by entry, in the order given. Returns the last entry's sequence number (the head's, when
/// there is none to append).
pub async fn append_many(tx: &WriteTx, records: Vec<(OffsetDateTime, AuditRecord)>) -> StoreResult<i64> {
    if records.is_empty() {
        return head_seq(tx.conn()).await;
    }
    let db = tx.conn();
    let backend = db.get_database_backend();
    let n = i64::try_from(records.len()).map_err(|_| StoreError::NotFound)?;
    let bump = Statement::from_sql_and_values(backend, "UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash", [n.into()]);
    let head = db.query_one_raw(bump).await?.ok_or(StoreError::NotFound)?;
    let last: i64 = head.try_get("", "seq")?;
    let mut prev_hash: String = head.try_get("", "hash")?;
    let mut rows = Vec::with_capacity(records.len());
    for (i, (at, rec)) in (0_i64..).zip(records) {
        let content = AuditContent {
            seq: last - n + 1 + i,
            at_ms: to_ms(at),
            actor: rec.actor,
            role: rec.role,
            jurisdiction: rec.jurisdiction,
            action: rec.action,
            target: rec.target,
            summary: rec.summary,
            client_ip: rec.client_ip,
            outcome: rec.outcome,
        };
        let hash = content.chain_hash(&prev_hash);
        let entry_seal = tx.audit_key().map(|k| seal(k, &hash)).unwrap_or_default();
        rows.push(audit_log::ActiveModel {
            seq: Set(content.seq),
            at_ms: Set(content.at_ms),
            actor: Set(content.actor),
            role: Set(content.role),
            jurisdiction: Set(content.jurisdiction),
            action: Set(content.action),
            target: Set(content.target),
            summary: Set(content.summary),
            client_ip: Set(content.client_ip),
            outcome: Set(content.outcome),
            prev_hash: Set(std::mem::replace(&mut prev_hash, hash.clone())),
            hash: Set(hash),
            seal: Set(entry_seal),
        });
    }
    let head_seal = tx.audit_key().map(|k| seal_head(k, last, &prev_hash)).unwrap_or_default();
    // 13 values a row: 500 rows stay far under SQLite's limit on a statement's parameters.
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(500).collect();
        audit_log::Entity::insert_many(chunk).exec_without_returning(db).await?;
    }
    let set_hash = Statement::from_sql_and_values(
        backend,
        "UPDATE audit_head SET hash = $1, seal = $2 WHERE id = 1",
        [prev_hash.into(), head_seal.into()],
    );
    db.execute_raw(set_hash).await?;
    Ok(last)
}

pub fn content_of(row: &audit_log::Model) -> AuditContent {
    AuditContent {
        seq: row.seq,
        at_ms: row.at_ms,
        actor: row.actor.clone(),
        role: row.role.clone(),
        jurisdiction: row.jurisdiction.clone(),
        action: row.action.clone(),
        target: row.target.clone(),
        summary: row.summary.clone(),
        client_ip: row.client_ip.clone(),
        outcome: row.outcome.clone(),
    }
}

/// Serialisable so a background export can carry it as its job's payload.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub outcome: Option<String>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

fn filtered(filter: &AuditFilter) -> sea_orm::Select<audit_log::Entity> {
    let mut q = audit_log::Entity::find();
    if let Some(a) = &filter.actor {
        q = q.filter(audit_log::Column::Actor.eq(a.to_lowercase()));
    }
    if let Some(a) = &filter.action {
        q = q.filter(audit_log::Column::Action.starts_with(a));
    }
    if let Some(o) = &filter.outcome {
        q = q.filter(audit_log::Column::Outcome.eq(o));
    }
    if let Some(f) = filter.from_ms {
        q = q.filter(audit_log::Column::AtMs.gte(f));
    }
    if let Some(t) = filter.to_ms {
        q = q.filter(audit_log::Column::AtMs.lt(t));
    }
    q
}

pub async fn list(db: &impl ConnectionTrait, filter: &AuditFilter, page: Page) -> StoreResult<Paged<audit_log::Model>> {
    let q = filtered(filter);
    let total = q.clone().count(db).await?;
    let items = q.order_by_desc(audit_log::Column::Seq).offset(page.offset()).limit(page.size).all(db).await?;
    Ok(Paged { items, total, page })
}

/// Walks the whole log in sequence order, page by page, and names the first broken entry.
/// Also checks that the head row agrees with the last entry, so truncating the tail is caught.
/// With the store's audit key, every seal is checked too: a chain recomputed by someone without
/// the key shows as edited from the first entry they rewrote.
pub async fn verify(store: &crate::Store) -> StoreResult<Result<usize, ChainBreak>> {
    let db = store.conn();
    let key = store.audit_key();
    const BATCH: u64 = 2000;
    let mut verifier = ChainVerifier::new();
    let mut after: i64 = 0;
    loop {
        let rows = audit_log::Entity::find()
            .filter(audit_log::Column::Seq.gt(after))
            .order_by_asc(audit_log::Column::Seq)
            .limit(BATCH)
            .all(db)
            .await?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            if let Err(b) = verifier.check(&content_of(row), &row.prev_hash, &row.hash) {
                return Ok(Err(b));
            }
            if let Some(k) = key
                && seal(k, &row.hash) != row.seal
            {
                return Ok(Err(ChainBreak::Edited { seq: row.seq }));
            }
            after = row.seq;
        }
    }
    let head = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), "SELECT seq, hash, seal FROM audit_head WHERE id = 1"))
        .await?
        .ok_or(StoreError::NotFound)?;
    let head_seq: i64 = head.try_get("", "seq")?;
    let head_hash: String = head.try_get("", "hash")?;
    let head_seal: String = head.try_get("", "seal")?;
    if head_seq != after {
        return Ok(Err(ChainBreak::Missing { expected_seq: after + 1, found_seq: after }));
    }
    // An empty log has an unsealed genesis head; otherwise the head must carry the key's seal.
    if let Some(k) = key
        && head_seq > 0
        && seal_head(k, head_seq, &head_hash) != head_seal
    {
        return Ok(Err(ChainBreak::Edited { seq: head_seq }));
    }
    Ok(Ok(verifier.verified()))
}

/// Whether the engine can reject updates on the log itself; used only for a readiness report.
pub fn backend_name(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => "PostgreSQL",
        DbBackend::Sqlite => "SQLite",
        _ => "other",
    }
}

/// Every matching entry, oldest first, up to `limit` (for exports).
pub async fn all(db: &impl ConnectionTrait, filter: &AuditFilter, limit: u64) -> StoreResult<Vec<audit_log::Model>> {
    Ok(filtered(filter).order_by_asc(audit_log::Column::Seq).limit(limit).all(db).await?)
}

/// The sequence number of the last entry (0 for an empty log): a background export pins it
/// when queued, so it exports what the log held then, however long it waits and however often
/// it is retried.
pub async fn head_seq(db: &impl ConnectionTrait) -> StoreResult<i64> {
    let head = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), "SELECT seq FROM audit_head WHERE id = 1"))
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(head.try_get("", "seq")?)
}

/// How many matching entries there are up to sequence number `upto`.
pub async fn count_upto(db: &impl ConnectionTrait, filter: &AuditFilter, upto: i64) -> StoreResult<u64> {
    Ok(filtered(filter).filter(audit_log::Column::Seq.lte(upto)).count(db).await?)
}

/// The next `limit` matching entries after sequence number `after` and up to `upto`, oldest
/// first: an export read in slices, reporting progress between them.
pub async fn slice(
    db: &impl ConnectionTrait,
    filter: &AuditFilter,
    after: i64,
    upto: i64,
    limit: u64,
) -> StoreResult<Vec<audit_log::Model>> {
    Ok(filtered(filter)
        .filter(audit_log::Column::Seq.gt(after))
        .filter(audit_log::Column::Seq.lte(upto))
        .order_by_asc(audit_log::Column::Seq)
        .limit(limit)
        .all(db)
        .await?)
}
