//! Blueprints and the forms assembled from them.
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Statement};
use time::OffsetDateTime;

use crate::entity::{blueprint, item, paper_form};
use crate::{StoreResult, to_ms};

pub use crate::entity::blueprint::Model as BlueprintRow;
pub use crate::entity::paper_form::Model as FormRow;

/// Creates or replaces the blueprint of (subject, level, work type); returns its id.
pub async fn save_blueprint(
    db: &impl ConnectionTrait,
    subject: &str,
    level: i32,
    work_type: &str,
    body: &str,
    by: &str,
    now: OffsetDateTime,
) -> StoreResult<i64> {
    let am = blueprint::ActiveModel {
        subject: Set(subject.to_owned()),
        level: Set(level),
        work_type: Set(work_type.to_owned()),
        body: Set(body.to_owned()),
        updated_by: Set(by.to_owned()),
        updated_at: Set(to_ms(now)),
        ..Default::default()
    };
    blueprint::Entity::insert(am)
        .on_conflict(
            OnConflict::columns([blueprint::Column::Subject, blueprint::Column::Level, blueprint::Column::WorkType])
                .update_columns([blueprint::Column::Body, blueprint::Column::UpdatedBy, blueprint::Column::UpdatedAt])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    let row = blueprint::Entity::find()
        .filter(blueprint::Column::Subject.eq(subject))
        .filter(blueprint::Column::Level.eq(level))
        .filter(blueprint::Column::WorkType.eq(work_type))
        .one(db)
        .await?;
    row.map(|r| r.id).ok_or(crate::StoreError::NotFound)
}

pub async fn blueprints(db: &impl ConnectionTrait) -> StoreResult<Vec<BlueprintRow>> {
    Ok(blueprint::Entity::find()
        .order_by_asc(blueprint::Column::Level)
        .order_by_asc(blueprint::Column::Subject)
        .order_by_asc(blueprint::Column::WorkType)
        .all(db)
        .await?)
}

pub async fn blueprint(db: &impl ConnectionTrait, id: i64) -> StoreResult<Option<BlueprintRow>> {
    Ok(blueprint::Entity::find_by_id(id).one(db).await?)
}

/// (item id, version, kind, difficulty, knowledge point) of the active items of a cell of
/// the exam's pool (正式题库): what assembly draws from. Never an item of the practice pool.
pub async fn active_pool(
    db: &impl ConnectionTrait,
    subject: &str,
    level: i32,
    work_type: Option<&str>,
) -> StoreResult<Vec<(i64, i32, String, i32, String)>> {
    let mut q = item::Entity::find()
        .select_only()
        .columns([
            item::Column::Id,
            item::Column::CurrentVersion,
            item::Column::Kind,
            item::Column::Difficulty,
            item::Column::KnowledgePoint,
        ])
        .filter(item::Column::Pool.eq("exam"))
        .filter(item::Column::Subject.eq(subject))
        .filter(item::Column::Level.eq(level))
        .filter(item::Column::Status.eq("active"));
    q = match work_type {
        Some(w) => q.filter(item::Column::WorkType.eq(w)),
        None => q.filter(item::Column::WorkType.is_null()),
    };
    Ok(q.order_by_asc(item::Column::Id).into_tuple().all(db).await?)
}

pub struct NewForm {
    pub number: i32,
    pub seed: String,
    pub items: String,
    pub item_count: i32,
    pub total_tenths: i32,
}

/// Whether a candidate's attempt uses one of the blueprint's forms. Such forms are frozen: a
/// candidate logged in with one, and the stored answers and scores refer to its items.
pub async fn forms_in_use(db: &impl ConnectionTrait, blueprint_id: i64) -> StoreResult<bool> {
    let sql = "SELECT 1 AS used FROM exam_attempt a JOIN paper_form f ON f.id = a.form_id WHERE f.blueprint_id = $1 LIMIT 1";
    let row = db.query_one_raw(Statement::from_sql_and_values(db.get_database_backend(), sql, vec![blueprint_id.into()])).await?;
    Ok(row.is_some())
}

/// Replaces the blueprint's forms in the caller's transaction.
pub async fn replace_forms(
    db: &impl ConnectionTrait,
    blueprint_id: i64,
    forms: Vec<NewForm>,
    by: &str,
    now: OffsetDateTime,
) -> StoreResult<()> {
    paper_form::Entity::delete_many().filter(paper_form::Column::BlueprintId.eq(blueprint_id)).exec(db).await?;
    if forms.is_empty() {
        return Ok(());
    }
    let at = to_ms(now);
    let rows: Vec<paper_form::ActiveModel> = forms
        .into_iter()
        .map(|f| paper_form::ActiveModel {
            blueprint_id: Set(blueprint_id),
            number: Set(f.number),
            seed: Set(f.seed),
            items: Set(f.items),
            item_count: Set(f.item_count),
            total_tenths: Set(f.total_tenths),
            created_by: Set(by.to_owned()),
            created_at: Set(at),
            ..Default::default()
        })
        .collect();
    paper_form::Entity::insert_many(rows).exec(db).await?;
    // Touch the blueprint so its list shows when the forms were last built.
    blueprint::Entity::update_many()
        .col_expr(blueprint::Column::UpdatedAt, Expr::value(at))
        .filter(blueprint::Column::Id.eq(blueprint_id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn forms(db: &impl ConnectionTrait, blueprint_id: i64) -> StoreResult<Vec<FormRow>> {
    Ok(paper_form::Entity::find()
        .filter(paper_form::Column::BlueprintId.eq(blueprint_id))
        .order_by_asc(paper_form::Column::Number)
        .all(db)
        .await?)
}
