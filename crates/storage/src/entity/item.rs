//! Row shape of `item`: an item of the bank with the metadata of its current version. The
//! content is in `item_version`, encrypted.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "item")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// 128 random bits in hex, fixed at creation: bound into every version's ciphertext as
    /// associated data, and the identifier in QTI exports.
    pub uid: String,
    pub subject: String,
    pub level: i32,
    pub work_type: Option<String>,
    pub kind: String,
    pub difficulty: i32,
    pub knowledge_point: String,
    pub points_tenths: i32,
    /// draft, in_review, active or retired.
    pub status: String,
    pub current_version: i32,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<i64>,
    /// The reviewer's reason when the item was sent back.
    pub review_note: Option<String>,
    /// `exam` (正式题库, what assembly draws from) or `practice` (练习题库), fixed at creation
    /// (m0017).
    pub pool: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
