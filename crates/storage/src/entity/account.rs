//! Row shape of `account`. Database shape only: domain types are converted in the repository functions.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "account")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Stored lower-case so look-ups are case-insensitive on both engines.
    #[sea_orm(unique)]
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub agency_code: Option<String>,
    pub unit_id: Option<i64>,
    pub applicant_id: Option<i64>,
    pub holder_id_number: Option<String>,
    pub mobile: Option<String>,
    pub password_hash: Option<String>,
    pub must_change_password: bool,
    pub status: String,
    pub failed_logins: i32,
    pub locked_until: Option<i64>,
    pub last_login_at: Option<i64>,
    pub password_changed_at: Option<i64>,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
