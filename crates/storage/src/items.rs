//! The item bank's rows. Content arrives here already sealed: this module never sees an item's
//! stem or key in the clear, and nothing in it can decrypt.
use gongkao_domain::paging::{Page, Paged};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use time::OffsetDateTime;

use crate::entity::{item, item_version};
use crate::{StoreError, StoreResult, to_ms};

pub use crate::entity::item::Model as Item;
pub use crate::entity::item_version::Model as ItemVersion;

/// The clear metadata of one version, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRowMeta {
    pub subject: String,
    pub level: i32,
    pub work_type: Option<String>,
    pub kind: String,
    pub difficulty: i32,
    pub knowledge_point: String,
    pub points_tenths: i32,
}

/// Content sealed by the caller.
#[derive(Debug, Clone)]
pub struct Sealed {
    pub cipher: String,
    pub key_id: String,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

/// Creates an item of `pool` (`exam` or `practice`, fixed from now on) in `status` with its
/// first version.
#[allow(clippy::too_many_arguments)]
pub async fn insert(
    db: &impl ConnectionTrait,
    uid: &str,
    pool: &str,
    meta: &ItemRowMeta,
    status: &str,
    sealed: Sealed,
    by: &str,
    note: Option<&str>,
    now: OffsetDateTime,
) -> StoreResult<Item> {
    let at = to_ms(now);
    let am = item::ActiveModel {
        uid: Set(uid.to_owned()),
        subject: Set(meta.subject.clone()),
        level: Set(meta.level),
        work_type: Set(meta.work_type.clone()),
        kind: Set(meta.kind.clone()),
        difficulty: Set(meta.difficulty),
        knowledge_point: Set(meta.knowledge_point.clone()),
        points_tenths: Set(meta.points_tenths),
        status: Set(status.to_owned()),
        current_version: Set(1),
        created_by: Set(by.to_owned()),
        created_at: Set(at),
        updated_at: Set(at),
        reviewed_by: Set(None),
        reviewed_at: Set(None),
        review_note: Set(None),
        pool: Set(pool.to_owned()),
        ..Default::default()
    };
    let id = item::Entity::insert(am).exec(db).await.map_err(StoreError::classify)?.last_insert_id;
    insert_version(db, id, 1, meta, sealed, by, note, at).await?;
    item::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)
}

#[allow(clippy::too_many_arguments)]
async fn insert_version(
    db: &impl ConnectionTrait,
    item_id: i64,
    version: i32,
    meta: &ItemRowMeta,
    sealed: Sealed,
    by: &str,
    note: Option<&str>,
    at: i64,
) -> StoreResult<()> {
    let am = item_version::ActiveModel {
        item_id: Set(item_id),
        version: Set(version),
        kind: Set(meta.kind.clone()),
        difficulty: Set(meta.difficulty),
        knowledge_point: Set(meta.knowledge_point.clone()),
        points_tenths: Set(meta.points_tenths),
        cipher: Set(sealed.cipher),
        key_id: Set(sealed.key_id),
        nonce: Set(sealed.nonce),
        ciphertext: Set(sealed.ciphertext),
        created_by: Set(by.to_owned()),
        created_at: Set(at),
        change_note: Set(note.map(str::to_owned)),
        ..Default::default()
    };
    item_version::Entity::insert(am).exec(db).await.map_err(StoreError::classify)?;
    Ok(())
}

/// A new version of an item that is at `expected_version` in `expected_status`; the item goes
/// back to draft. A concurrent edit or decision makes this a conflict, and nothing is written.
#[allow(clippy::too_many_arguments)]
pub async fn add_version(
    db: &impl ConnectionTrait,
    item_id: i64,
    expected_version: i32,
    expected_status: &str,
    meta: &ItemRowMeta,
    sealed: Sealed,
    by: &str,
    note: Option<&str>,
    now: OffsetDateTime,
) -> StoreResult<i32> {
    let at = to_ms(now);
    let version = expected_version + 1;
    let res = item::Entity::update_many()
        .col_expr(item::Column::CurrentVersion, Expr::value(version))
        .col_expr(item::Column::Status, Expr::value("draft"))
        .col_expr(item::Column::Kind, Expr::value(meta.kind.clone()))
        .col_expr(item::Column::Difficulty, Expr::value(meta.difficulty))
        .col_expr(item::Column::KnowledgePoint, Expr::value(meta.knowledge_point.clone()))
        .col_expr(item::Column::PointsTenths, Expr::value(meta.points_tenths))
        .col_expr(item::Column::UpdatedAt, Expr::value(at))
        .filter(item::Column::Id.eq(item_id))
        .filter(item::Column::CurrentVersion.eq(expected_version))
        .filter(item::Column::Status.eq(expected_status))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(StoreError::Conflict);
    }
    insert_version(db, item_id, version, meta, sealed, by, note, at).await?;
    Ok(version)
}

/// Moves an item from `from` to `to` if it is still at `expected_version`. Reviews (approve,
/// reject) record the reviewer and the note.
#[allow(clippy::too_many_arguments)]
pub async fn set_status(
    db: &impl ConnectionTrait,
    item_id: i64,
    expected_version: i32,
    from: &str,
    to: &str,
    reviewer: Option<&str>,
    note: Option<&str>,
    now: OffsetDateTime,
) -> StoreResult<()> {
    let at = to_ms(now);
    let mut update =
        item::Entity::update_many().col_expr(item::Column::Status, Expr::value(to)).col_expr(item::Column::UpdatedAt, Expr::value(at));
    if let Some(reviewer) = reviewer {
        update = update
            .col_expr(item::Column::ReviewedBy, Expr::value(reviewer))
            .col_expr(item::Column::ReviewedAt, Expr::value(at))
            .col_expr(item::Column::ReviewNote, Expr::value(note.map(str::to_owned)));
    }
    let res = update
        .filter(item::Column::Id.eq(item_id))
        .filter(item::Column::CurrentVersion.eq(expected_version))
        .filter(item::Column::Status.eq(from))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

pub async fn by_id(db: &impl ConnectionTrait, id: i64) -> StoreResult<Option<Item>> {
    Ok(item::Entity::find_by_id(id).one(db).await?)
}

pub async fn version(db: &impl ConnectionTrait, item_id: i64, version: i32) -> StoreResult<Option<ItemVersion>> {
    Ok(item_version::Entity::find()
        .filter(item_version::Column::ItemId.eq(item_id))
        .filter(item_version::Column::Version.eq(version))
        .one(db)
        .await?)
}

/// Every version of an item, newest first, without content (the history table).
pub async fn history(db: &impl ConnectionTrait, item_id: i64) -> StoreResult<Vec<(i32, String, i64, Option<String>)>> {
    Ok(item_version::Entity::find()
        .select_only()
        .columns([
            item_version::Column::Version,
            item_version::Column::CreatedBy,
            item_version::Column::CreatedAt,
            item_version::Column::ChangeNote,
        ])
        .filter(item_version::Column::ItemId.eq(item_id))
        .order_by_desc(item_version::Column::Version)
        .into_tuple()
        .all(db)
        .await?)
}

/// The bank's list filters; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    /// `exam` or `practice`.
    pub pool: Option<String>,
    pub subject: Option<String>,
    pub level: Option<i32>,
    pub work_type: Option<String>,
    pub kind: Option<String>,
    pub status: Option<String>,
    pub knowledge_point: Option<String>,
    /// Only these ids (an export of a selection).
    pub ids: Option<Vec<i64>>,
}

fn filtered(f: &ItemFilter) -> sea_orm::Select<item::Entity> {
    let mut q = item::Entity::find();
    if let Some(p) = &f.pool {
        q = q.filter(item::Column::Pool.eq(p.clone()));
    }
    if let Some(s) = &f.subject {
        q = q.filter(item::Column::Subject.eq(s.clone()));
    }
    if let Some(l) = f.level {
        q = q.filter(item::Column::Level.eq(l));
    }
    if let Some(w) = &f.work_type {
        q = q.filter(item::Column::WorkType.eq(w.clone()));
    }
    if let Some(k) = &f.kind {
        q = q.filter(item::Column::Kind.eq(k.clone()));
    }
    if let Some(s) = &f.status {
        q = q.filter(item::Column::Status.eq(s.clone()));
    }
    if let Some(kp) = &f.knowledge_point {
        q = q.filter(item::Column::KnowledgePoint.eq(kp.clone()));
    }
    if let Some(ids) = &f.ids {
        q = q.filter(item::Column::Id.is_in(ids.clone()));
    }
    q
}

pub async fn list(db: &impl ConnectionTrait, f: &ItemFilter, page: Page) -> StoreResult<Paged<Item>> {
    let q = filtered(f);
    let total = q.clone().count(db).await?;
    let items = q.order_by_desc(item::Column::Id).offset(page.offset()).limit(page.size).all(db).await?;
    Ok(Paged { items, total, page })
}

/// Every matching item, oldest first, up to `limit` (exports).
pub async fn all(db: &impl ConnectionTrait, f: &ItemFilter, limit: u64) -> StoreResult<Vec<Item>> {
    Ok(filtered(f).order_by_asc(item::Column::Id).limit(limit).all(db).await?)
}

/// Counts per status for the bank's overview.
pub async fn count_by_status(db: &impl ConnectionTrait) -> StoreResult<Vec<(String, i64)>> {
    Ok(item::Entity::find()
        .select_only()
        .column(item::Column::Status)
        .column_as(item::Column::Id.count(), "n")
        .group_by(item::Column::Status)
        .into_tuple()
        .all(db)
        .await?)
}

/// (item id, version, kind, points in tenths) of the active items of the practice pool for one
/// subject, level and work type (`None` for subjects shared by every work type): what practice
/// papers are drawn from. Never an item of the exam's pool.
pub async fn practice_pool(
    db: &impl ConnectionTrait,
    subject: &str,
    level: i32,
    work_type: Option<&str>,
) -> StoreResult<Vec<(i64, i32, String, i32)>> {
    let mut q = item::Entity::find()
        .select_only()
        .columns([item::Column::Id, item::Column::CurrentVersion, item::Column::Kind, item::Column::PointsTenths])
        .filter(item::Column::Pool.eq("practice"))
        .filter(item::Column::Subject.eq(subject))
        .filter(item::Column::Level.eq(level))
        .filter(item::Column::Status.eq("active"));
    q = match work_type {
        Some(w) => q.filter(item::Column::WorkType.eq(w)),
        None => q.filter(item::Column::WorkType.is_null()),
    };
    Ok(q.order_by_asc(item::Column::Id).into_tuple().all(db).await?)
}

/// How many item and version rows exist (tests check that refusals add none).
pub async fn count_rows(db: &impl ConnectionTrait) -> StoreResult<(u64, u64)> {
    Ok((item::Entity::find().count(db).await?, item_version::Entity::find().count(db).await?))
}
