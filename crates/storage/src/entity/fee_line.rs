//! Row shape of `fee_line`: one fee item charged for one application in a batch.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fee_line")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub batch_id: i64,
    pub application_id: i64,
    pub level: i32,
    pub item: String,
    pub count: i32,
    pub unit_fen: i64,
    pub amount_fen: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
