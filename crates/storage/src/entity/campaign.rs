//! Row shape of `campaign`. Database shape only: domain types are converted in the repository functions.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaign")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub year: i32,
    pub title: String,
    /// JSON array of the document numbers the campaign follows.
    pub doc_numbers: String,
    pub rule_set_id: String,
    pub catalogue_id: i64,
    pub unit_name_lock_at: Option<i64>,
    pub status: String,
    pub copied_from: Option<i64>,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
