//! Row shape of `training_attendance`. One person's mark (`present`, `absent`, `excused`) on one
//! day (local date) of a class (考勤).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "training_attendance")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub class_id: i64,
    pub application_id: i64,
    pub day: String,
    pub mark: String,
    pub recorded_at: i64,
    pub recorded_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
