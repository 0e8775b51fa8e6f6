//! Row shape of `fee_refund`: money returned from a batch, for one application or the whole batch.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fee_refund")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub batch_id: i64,
    /// `None` for a refund of the batch as a whole.
    pub application_id: Option<i64>,
    pub amount_fen: i64,
    pub reason: String,
    pub actor: String,
    pub at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
