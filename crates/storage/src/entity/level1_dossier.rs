//! Row shape of `level1_dossier`: the agency's checklist of a level-1 applicant's paper archive.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "level1_dossier")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub application_id: i64,
    /// JSON array of the checklist item codes that arrived.
    pub received: String,
    /// `incomplete` or `complete`.
    pub state: String,
    pub note: String,
    pub checked_by: String,
    pub checked_at: i64,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
