//! Row shape of `session`. Database shape only: domain types are converted in the repository functions.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "session")]
pub struct Model {
    /// SM3 of the cookie value: a stolen database does not yield live sessions.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id_hash: String,
    pub account_id: i64,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub client_ip: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
