//! Row shape of `practice_attempt` (m0017): one practice paper (模拟练习) of one applicant in
//! one subject, drawn from the practice pool. Never part of the exam's attempts or results.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "practice_attempt")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub campaign_id: i64,
    pub application_id: i64,
    /// The person practising: only they may open the attempt.
    pub applicant_id: i64,
    pub subject: String,
    pub level: i32,
    /// "" for subjects shared by every work type.
    pub work_type: String,
    /// The recorded seed (decimal `u64`) that drew the items and orders them and their options.
    pub seed: String,
    /// The drawn items as JSON `[{item_id, version, kind, points}]`, in draw order.
    pub items: String,
    /// The multiple-choice rule (`all_or_nothing` or `partial_credit`), the real subject's.
    pub scoring: String,
    /// The paper's points, in tenths.
    pub total_tenths: i32,
    /// `answering` or `submitted`.
    pub status: String,
    pub started_at: i64,
    pub submitted_at: Option<i64>,
    pub objective_tenths: Option<i32>,
    /// Points of the machine-scored items, in tenths (the base of the percentage).
    pub objective_total_tenths: Option<i32>,
    pub answered: Option<i32>,
    pub for_marking: Option<i32>,
    /// JSON of each display position's score.
    pub item_scores: Option<String>,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
