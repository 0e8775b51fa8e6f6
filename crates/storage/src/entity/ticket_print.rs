//! Row shape of `ticket_print`. A candidate's admission ticket has been printed (by them or in a centre's batch).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ticket_print")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub application_id: i64,
    pub campaign_id: i64,
    pub agency_code: String,
    pub first_printed_at: i64,
    pub last_printed_at: i64,
    pub prints: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
