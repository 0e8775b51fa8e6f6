//! Row shape of `item_version`: one version of an item, its content sealed with an AEAD.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "item_version")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub item_id: i64,
    pub version: i32,
    pub kind: String,
    pub difficulty: i32,
    pub knowledge_point: String,
    pub points_tenths: i32,
    /// `sm4-gcm` or `aes-256-gcm`.
    pub cipher: String,
    /// Which key sealed it (a fingerprint, not the key), so a wrong key is named, not guessed.
    pub key_id: String,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
    pub created_by: String,
    pub created_at: i64,
    pub change_note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
