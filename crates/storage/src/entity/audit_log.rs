//! Row shape of `audit_log`. Database shape only: domain types are converted in the repository functions.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    pub at_ms: i64,
    pub actor: String,
    pub role: String,
    pub jurisdiction: String,
    pub action: String,
    pub target: String,
    pub summary: String,
    pub client_ip: String,
    pub outcome: String,
    pub prev_hash: String,
    pub hash: String,
    /// HMAC-SM3 of `hash` under the audit key kept outside the database.
    pub seal: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
