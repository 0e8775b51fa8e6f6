//! Row shape of `application_file`: a photo or attachment of an application. The bytes live on
//! disk under their content hash (see `crate::files::BlobStore`); the row says whose they are.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "application_file")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// 128 random bits in hex: the only id that appears in URLs, so file ids cannot be guessed
    /// or counted.
    pub public_id: String,
    pub application_id: i64,
    /// photo, wage_approval_form, cn_paper, award_certificate or other.
    pub kind: String,
    /// As the uploader named it; shown, never used as a path.
    pub original_name: String,
    /// Sniffed from the bytes, never taken from the name or the request.
    pub content_type: String,
    pub byte_size: i64,
    /// SM3 of the stored bytes, lower-case hex.
    pub content_hash: String,
    pub uploaded_by: String,
    pub uploaded_at: i64,
    /// Set when replaced (photo) or deleted (attachment); the row stays for the history.
    pub removed_at: Option<i64>,
    pub removed_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
