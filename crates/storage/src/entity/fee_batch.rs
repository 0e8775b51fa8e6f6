//! Row shape of `fee_batch`: one unit's payment at its agency, with its receipt number.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fee_batch")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub campaign_id: i64,
    pub unit_id: i64,
    /// The agency that collected the money (the unit's agency when recorded).
    pub agency_code: String,
    pub receipt_no: String,
    pub payer_name: String,
    /// `cash`, `transfer` or `pos`.
    pub payment_method: String,
    pub total_fen: i64,
    pub refunded_fen: i64,
    /// The cashier's username, and the name printed on the receipt.
    pub cashier: String,
    pub cashier_name: String,
    pub recorded_at: i64,
    /// From the form, unique: a double-submitted form finds the batch it already recorded.
    pub idempotency_key: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
