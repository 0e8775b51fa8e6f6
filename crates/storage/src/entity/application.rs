//! Row shape of `application`.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "application")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub campaign_id: i64,
    pub applicant_id: i64,
    pub unit_id: Option<i64>,
    pub work_type: String,
    pub target_level: i32,
    /// The person facts as entered (JSON of `gongkao_domain::eligibility::PersonFacts`).
    pub facts: String,
    pub status: String,
    /// The eligibility verdict for the target level, with the rule set version that gave it.
    pub verdict: String,
    pub rule_set_id: String,
    pub rule_set_version: i32,
    /// The full evaluation as JSON, so a reviewer sees exactly what the applicant saw.
    pub trace: String,
    /// Set by a re-check that changed the verdict.
    pub previous_verdict: Option<String>,
    pub verdict_changed_at: Option<i64>,
    pub pledged_at: Option<i64>,
    pub submitted_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i32,
    /// The agency over the unit when the application was last saved (the agency reviewing it).
    pub agency_code: Option<String>,
    /// The unit's per-field check against the personnel file, JSON of `[{field, by, at}]`.
    pub unit_checks: Option<String>,
    pub unit_reviewed_at: Option<i64>,
    /// Why the agency requires an on-site check and what to bring.
    pub on_site_note: Option<String>,
    /// Set when the agency reopens the application for correction after the deadline.
    pub reopened_until: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
