//! Row shape of `applicant`. Database shape only: domain types are converted in the repository functions.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "applicant")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub id_number: String,
    pub name: String,
    pub name_sort: String,
    pub sex: String,
    pub birth_date: String,
    pub mobile: String,
    pub unit_id: Option<i64>,
    pub work_type: Option<String>,
    pub current_level: Option<i32>,
    pub work_start_date: Option<String>,
    pub education: Option<String>,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
