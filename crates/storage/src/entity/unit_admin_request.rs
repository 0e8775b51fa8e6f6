//! Row shape of `unit_admin_request`. Database shape only: domain types are converted in the repository functions.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "unit_admin_request")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub reference_no: String,
    pub campaign_id: i64,
    pub existing_unit_id: Option<i64>,
    pub unit_name: String,
    pub credit_code: String,
    pub unit_type: String,
    pub category: String,
    pub supervising_department: String,
    pub agency_code: String,
    pub person_name: String,
    pub sex: String,
    pub department: String,
    pub post: String,
    pub office_phone: String,
    pub mobile: String,
    pub status: String,
    pub submitted_at: i64,
    pub decided_at: Option<i64>,
    pub decided_by: Option<String>,
    pub decision_reason: Option<String>,
    pub account_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
