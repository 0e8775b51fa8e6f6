//! Fees (收费): batches recorded by an agency's cashier for one unit, their lines per
//! application and fee item, refunds, and the receipt counter.
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use time::OffsetDateTime;

use crate::entity::{application, fee_batch, fee_line, fee_receipt_counter, fee_refund};
use crate::{StoreError, StoreResult, to_ms};

pub use crate::entity::fee_batch::Model as FeeBatch;
pub use crate::entity::fee_line::Model as FeeLine;
pub use crate::entity::fee_refund::Model as FeeRefund;

/// The states in which an application waits for its unit to pay.
pub const AWAITING_PAYMENT: [&str; 2] = ["agency_approved", "on_site_confirmed"];

/// The next receipt sequence number of an agency in a campaign, starting at 1. The counter row
/// is created on first use and then incremented by a single `UPDATE`, whose row lock makes two
/// cashiers of the same agency (on different nodes) take turns instead of drawing the same
/// number. Inside the batch's transaction, so a batch that is not recorded leaves no gap.
pub async fn next_receipt_seq(db: &impl ConnectionTrait, campaign_id: i64, agency_code: &str) -> StoreResult<i64> {
    let am = fee_receipt_counter::ActiveModel {
        campaign_id: Set(campaign_id),
        agency_code: Set(agency_code.to_owned()),
        last_no: Set(0),
        ..Default::default()
    };
    fee_receipt_counter::Entity::insert(am)
        .on_conflict_do_nothing_on([fee_receipt_counter::Column::CampaignId, fee_receipt_counter::Column::AgencyCode])
        .exec_without_returning(db)
        .await?;
    let res = fee_receipt_counter::Entity::update_many()
        .col_expr(fee_receipt_counter::Column::LastNo, Expr::col(fee_receipt_counter::Column::LastNo).add(1))
        .filter(fee_receipt_counter::Column::CampaignId.eq(campaign_id))
        .filter(fee_receipt_counter::Column::AgencyCode.eq(agency_code))
        .exec(db)
        .await?;
    if res.rows_affected != 1 {
        return Err(StoreError::NotFound);
    }
    let row = fee_receipt_counter::Entity::find()
        .filter(fee_receipt_counter::Column::CampaignId.eq(campaign_id))
        .filter(fee_receipt_counter::Column::AgencyCode.eq(agency_code))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(row.last_no)
}

pub struct NewBatch {
    pub campaign_id: i64,
    pub unit_id: i64,
    pub agency_code: String,
    pub receipt_no: String,
    pub payer_name: String,
    pub payment_method: String,
    pub total_fen: i64,
    pub cashier: String,
    pub cashier_name: String,
    pub idempotency_key: String,
}

pub struct NewLine {
    pub application_id: i64,
    pub level: i32,
    pub item: String,
    pub count: i32,
    pub unit_fen: i64,
    pub amount_fen: i64,
}

/// Inserts the batch and its lines. A repeated idempotency key is a [`StoreError::Duplicate`].
pub async fn create_batch(db: &impl ConnectionTrait, b: NewBatch, lines: Vec<NewLine>, now: OffsetDateTime) -> StoreResult<i64> {
    let am = fee_batch::ActiveModel {
        campaign_id: Set(b.campaign_id),
        unit_id: Set(b.unit_id),
        agency_code: Set(b.agency_code),
        receipt_no: Set(b.receipt_no),
        payer_name: Set(b.payer_name),
        payment_method: Set(b.payment_method),
        total_fen: Set(b.total_fen),
        refunded_fen: Set(0),
        cashier: Set(b.cashier),
        cashier_name: Set(b.cashier_name),
        recorded_at: Set(to_ms(now)),
        idempotency_key: Set(b.idempotency_key),
        ..Default::default()
    };
    let id = fee_batch::Entity::insert(am).exec(db).await.map_err(StoreError::classify)?.last_insert_id;
    let models: Vec<fee_line::ActiveModel> = lines
        .into_iter()
        .map(|l| fee_line::ActiveModel {
            batch_id: Set(id),
            application_id: Set(l.application_id),
            level: Set(l.level),
            item: Set(l.item),
            count: Set(l.count),
            unit_fen: Set(l.unit_fen),
            amount_fen: Set(l.amount_fen),
            ..Default::default()
        })
        .collect();
    for chunk in models.chunks(200) {
        fee_line::Entity::insert_many(chunk.to_vec()).exec_without_returning(db).await?;
    }
    Ok(id)
}

pub async fn batch(db: &impl ConnectionTrait, id: i64) -> StoreResult<Option<FeeBatch>> {
    Ok(fee_batch::Entity::find_by_id(id).one(db).await?)
}

pub async fn batch_by_key(db: &impl ConnectionTrait, idempotency_key: &str) -> StoreResult<Option<FeeBatch>> {
    Ok(fee_batch::Entity::find().filter(fee_batch::Column::IdempotencyKey.eq(idempotency_key)).one(db).await?)
}

pub async fn lines(db: &impl ConnectionTrait, batch_id: i64) -> StoreResult<Vec<FeeLine>> {
    Ok(fee_line::Entity::find().filter(fee_line::Column::BatchId.eq(batch_id)).order_by_asc(fee_line::Column::Id).all(db).await?)
}

pub async fn refunds(db: &impl ConnectionTrait, batch_id: i64) -> StoreResult<Vec<FeeRefund>> {
    Ok(fee_refund::Entity::find().filter(fee_refund::Column::BatchId.eq(batch_id)).order_by_asc(fee_refund::Column::Id).all(db).await?)
}

/// The latest batches of a campaign; `agencies` narrows to a jurisdiction (`None`: all).
pub async fn recent_batches(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    agencies: Option<&[String]>,
    limit: u64,
) -> StoreResult<Vec<FeeBatch>> {
    let mut q = fee_batch::Entity::find().filter(fee_batch::Column::CampaignId.eq(campaign_id));
    if let Some(codes) = agencies {
        q = q.filter(fee_batch::Column::AgencyCode.is_in(codes.iter().cloned()));
    }
    Ok(q.order_by_desc(fee_batch::Column::Id).limit(limit).all(db).await?)
}

/// Adds `amount_fen` to the batch's refunded total only while it stays within what was paid;
/// the single guarded `UPDATE` also locks the batch row, so refunds of one batch take turns.
/// Zero rows affected is [`StoreError::Conflict`].
pub async fn add_refund(
    db: &impl ConnectionTrait,
    batch_id: i64,
    application_id: Option<i64>,
    amount_fen: i64,
    reason: &str,
    actor: &str,
    now: OffsetDateTime,
) -> StoreResult<()> {
    let res = fee_batch::Entity::update_many()
        .col_expr(fee_batch::Column::RefundedFen, Expr::col(fee_batch::Column::RefundedFen).add(amount_fen))
        .filter(fee_batch::Column::Id.eq(batch_id))
        .filter(Expr::col(fee_batch::Column::RefundedFen).add(amount_fen).lte(Expr::col(fee_batch::Column::TotalFen)))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(StoreError::Conflict);
    }
    let am = fee_refund::ActiveModel {
        batch_id: Set(batch_id),
        application_id: Set(application_id),
        amount_fen: Set(amount_fen),
        reason: Set(reason.to_owned()),
        actor: Set(actor.to_owned()),
        at: Set(to_ms(now)),
        ..Default::default()
    };
    fee_refund::Entity::insert(am).exec_without_returning(db).await?;
    Ok(())
}

/// Applications waiting for payment, counted per (unit, level), in the whole campaign; the
/// caller narrows to its jurisdiction through the units.
pub async fn awaiting_counts(db: &impl ConnectionTrait, campaign_id: i64) -> StoreResult<Vec<(i64, i32, i64)>> {
    let rows: Vec<(Option<i64>, i32, i64)> = application::Entity::find()
        .select_only()
        .column(application::Column::UnitId)
        .column(application::Column::TargetLevel)
        .column_as(application::Column::Id.count(), "n")
        .filter(application::Column::CampaignId.eq(campaign_id))
        .filter(application::Column::Status.is_in(AWAITING_PAYMENT))
        .group_by(application::Column::UnitId)
        .group_by(application::Column::TargetLevel)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().filter_map(|(unit, level, n)| Some((unit?, level, n))).collect())
}

/// A unit's applications waiting for payment, in id order (the order their rows are locked in).
pub async fn awaiting_for_unit(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    unit_id: i64,
) -> StoreResult<Vec<crate::applications::Application>> {
    Ok(application::Entity::find()
        .filter(application::Column::CampaignId.eq(campaign_id))
        .filter(application::Column::UnitId.eq(unit_id))
        .filter(application::Column::Status.is_in(AWAITING_PAYMENT))
        .order_by_asc(application::Column::Id)
        .all(db)
        .await?)
}
