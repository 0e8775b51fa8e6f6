//! Row shape of `unit`. Database shape only: domain types are converted in the repository functions.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "unit")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    /// Pinyin sort key of `name`, kept in step by every write.
    pub name_sort: String,
    #[sea_orm(unique)]
    pub credit_code: String,
    pub unit_type: String,
    pub category: String,
    pub supervising_department: String,
    pub agency_code: String,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// Incremented by every update; forms send it back so a stale page cannot overwrite.
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
