//! Row shape of `training_class`. A training class (培训班) of an agency for one level (5–2) and
//! optionally one work type; `starts_on`/`ends_on` are local dates, `version` guards edits.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "training_class")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub campaign_id: i64,
    pub agency_code: String,
    pub name: String,
    pub place: String,
    /// The training body or teacher; empty when not given.
    pub organiser: String,
    pub level: i32,
    /// `None`: every work type of the level.
    pub work_type: Option<String>,
    pub starts_on: String,
    pub ends_on: String,
    pub capacity: i32,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
