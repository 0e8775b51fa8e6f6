//! Row shape of `paper_form`. One assembled form; `items` is the JSON of (item, version, kind, points) in order; `seed` rebuilds it.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "paper_form")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub blueprint_id: i64,
    pub number: i32,
    pub seed: String,
    #[sea_orm(column_type = "Text")]
    pub items: String,
    pub item_count: i32,
    pub total_tenths: i32,
    pub created_by: String,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
