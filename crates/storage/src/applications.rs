//! Applications (申报) and their history.
use gongkao_domain::paging::{Page, Paged};
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};
use time::OffsetDateTime;

use crate::entity::{application, application_event};
use crate::{StoreError, StoreResult, to_ms};

pub use crate::entity::application::Model as Application;
pub use crate::entity::application_event::Model as ApplicationEvent;

/// The content of an application and the eligibility result computed for it.
#[derive(Debug, Clone)]
pub struct Content {
    pub unit_id: Option<i64>,
    /// The agency over `unit_id`, kept so the agency's list filters on one indexed column.
    pub agency_code: Option<String>,
    pub work_type: String,
    pub target_level: i32,
    pub facts: String,
    pub verdict: String,
    pub rule_set_id: String,
    pub rule_set_version: i32,
    pub trace: String,
}

pub async fn create(db: &impl ConnectionTrait, campaign_id: i64, applicant_id: i64, c: Content, now: OffsetDateTime) -> StoreResult<i64> {
    let am = application::ActiveModel {
        campaign_id: Set(campaign_id),
        applicant_id: Set(applicant_id),
        unit_id: Set(c.unit_id),
        agency_code: Set(c.agency_code),
        work_type: Set(c.work_type),
        target_level: Set(c.target_level),
        facts: Set(c.facts),
        status: Set("draft".to_owned()),
        verdict: Set(c.verdict),
        rule_set_id: Set(c.rule_set_id),
        rule_set_version: Set(c.rule_set_version),
        trace: Set(c.trace),
        previous_verdict: Set(None),
        verdict_changed_at: Set(None),
        pledged_at: Set(None),
        submitted_at: Set(None),
        created_at: Set(to_ms(now)),
        updated_at: Set(to_ms(now)),
        version: Set(1),
        ..Default::default()
    };
    Ok(application::Entity::insert(am).exec(db).await.map_err(StoreError::classify)?.last_insert_id)
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> StoreResult<Option<Application>> {
    Ok(application::Entity::find_by_id(id).one(db).await?)
}

/// The person's live application in the campaign (at most one, by a unique index).
///
/// The status condition is written as the literal text of the partial index `ux_application_live`
/// (m0005): SQLite uses a partial index only when the query repeats its condition with the same
/// constants, and with the statuses bound as parameters it scanned the whole campaign instead.
pub async fn live_for(db: &impl ConnectionTrait, campaign_id: i64, applicant_id: i64) -> StoreResult<Option<Application>> {
    Ok(application::Entity::find()
        .filter(application::Column::CampaignId.eq(campaign_id))
        .filter(application::Column::ApplicantId.eq(applicant_id))
        .filter(Expr::cust("status NOT IN ('withdrawn', 'voided', 'unit_rejected')"))
        .one(db)
        .await?)
}

pub async fn latest_for(db: &impl ConnectionTrait, campaign_id: i64, applicant_id: i64) -> StoreResult<Option<Application>> {
    Ok(application::Entity::find()
        .filter(application::Column::CampaignId.eq(campaign_id))
        .filter(application::Column::ApplicantId.eq(applicant_id))
        .order_by_desc(application::Column::Id)
        .one(db)
        .await?)
}

/// Guarded content change: only at `expected_version` and in a state where editing is allowed.
pub async fn update_content(db: &impl ConnectionTrait, id: i64, expected_version: i32, c: Content, now: OffsetDateTime) -> StoreResult<()> {
    let res = application::Entity::update_many()
        .col_expr(application::Column::UnitId, Expr::value(c.unit_id))
        .col_expr(application::Column::AgencyCode, Expr::value(c.agency_code))
        .col_expr(application::Column::WorkType, Expr::value(c.work_type))
        .col_expr(application::Column::TargetLevel, Expr::value(c.target_level))
        .col_expr(application::Column::Facts, Expr::value(c.facts))
        .col_expr(application::Column::Verdict, Expr::value(c.verdict))
        .col_expr(application::Column::RuleSetId, Expr::value(c.rule_set_id))
        .col_expr(application::Column::RuleSetVersion, Expr::value(c.rule_set_version))
        .col_expr(application::Column::Trace, Expr::value(c.trace))
        .col_expr(application::Column::UpdatedAt, Expr::value(to_ms(now)))
        .col_expr(application::Column::Version, Expr::value(expected_version + 1))
        .filter(application::Column::Id.eq(id))
        .filter(application::Column::Version.eq(expected_version))
        .filter(application::Column::Status.is_in(["draft", "submitted", "returned"]))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

/// Guarded state change: `from` must still be the state, so of two reviewers acting at once
/// exactly one succeeds.
pub async fn transition(
    db: &impl ConnectionTrait,
    id: i64,
    from: &str,
    to: &str,
    now: OffsetDateTime,
    submitted: bool,
    pledged: bool,
) -> StoreResult<()> {
    transition_with(db, id, from, to, now, &TransitionData { submitted, pledged, ..Default::default() }).await
}

/// What a state change records besides the state.
#[derive(Debug, Clone, Default)]
pub struct TransitionData {
    pub submitted: bool,
    pub pledged: bool,
    /// The unit's per-field check (JSON), stamped with the unit's review time.
    pub unit_checks: Option<String>,
    pub unit_reviewed: bool,
    pub on_site_note: Option<String>,
    /// Until when a reopened application may be corrected (epoch ms).
    pub reopened_until: Option<i64>,
}

pub async fn transition_with(
    db: &impl ConnectionTrait,
    id: i64,
    from: &str,
    to: &str,
    now: OffsetDateTime,
    d: &TransitionData,
) -> StoreResult<()> {
    let mut q = application::Entity::update_many()
        .col_expr(application::Column::Status, Expr::value(to))
        .col_expr(application::Column::UpdatedAt, Expr::value(to_ms(now)))
        .col_expr(application::Column::Version, Expr::col(application::Column::Version).add(1));
    if d.submitted {
        q = q.col_expr(application::Column::SubmittedAt, Expr::value(to_ms(now)));
    }
    if d.pledged {
        q = q.col_expr(application::Column::PledgedAt, Expr::value(to_ms(now)));
    }
    if let Some(checks) = &d.unit_checks {
        q = q.col_expr(application::Column::UnitChecks, Expr::value(checks.clone()));
    }
    if d.unit_reviewed {
        q = q.col_expr(application::Column::UnitReviewedAt, Expr::value(to_ms(now)));
    }
    if let Some(note) = &d.on_site_note {
        q = q.col_expr(application::Column::OnSiteNote, Expr::value(note.clone()));
    }
    if let Some(until) = d.reopened_until {
        q = q.col_expr(application::Column::ReopenedUntil, Expr::value(until));
    }
    let res = q
        .filter(application::Column::Id.eq(id))
        .filter(application::Column::Status.eq(from))
        .exec(db)
        .await
        .map_err(StoreError::classify)?;
    if res.rows_affected == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

pub struct NewEvent<'a> {
    pub application_id: i64,
    pub actor: &'a str,
    pub action: &'a str,
    pub from_status: &'a str,
    pub to_status: &'a str,
    pub reason: &'a str,
    pub facts_before: Option<String>,
}

pub async fn add_event(db: &impl ConnectionTrait, e: NewEvent<'_>, now: OffsetDateTime) -> StoreResult<()> {
    let am = application_event::ActiveModel {
        application_id: Set(e.application_id),
        at: Set(to_ms(now)),
        actor: Set(e.actor.to_owned()),
        action: Set(e.action.to_owned()),
        from_status: Set(e.from_status.to_owned()),
        to_status: Set(e.to_status.to_owned()),
        reason: Set(e.reason.to_owned()),
        facts_before: Set(e.facts_before),
        ..Default::default()
    };
    application_event::Entity::insert(am).exec_without_returning(db).await?;
    Ok(())
}

pub async fn events(db: &impl ConnectionTrait, application_id: i64) -> StoreResult<Vec<ApplicationEvent>> {
    Ok(application_event::Entity::find()
        .filter(application_event::Column::ApplicationId.eq(application_id))
        .order_by_asc(application_event::Column::Id)
        .all(db)
        .await?)
}

pub async fn list_for_unit(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    unit_id: i64,
    status: Option<&str>,
    page: Page,
) -> StoreResult<Paged<Application>> {
    let mut q =
        application::Entity::find().filter(application::Column::CampaignId.eq(campaign_id)).filter(application::Column::UnitId.eq(unit_id));
    if let Some(s) = status {
        q = q.filter(application::Column::Status.eq(s));
    }
    let total = q.clone().count(db).await?;
    let items = q
        .order_by_desc(application::Column::UpdatedAt)
        .order_by_asc(application::Column::Id)
        .offset(page.offset())
        .limit(page.size)
        .all(db)
        .await?;
    Ok(Paged { items, total, page })
}

/// (id, facts, target level, verdict, created at, submitted at)
pub type ScanRow = (i64, String, i32, String, i64, Option<i64>);

/// Stamps the rule-set version a re-check used on every application of the campaign.
pub async fn stamp_rule_set_version(db: &impl ConnectionTrait, campaign_id: i64, version: i32) -> StoreResult<()> {
    application::Entity::update_many()
        .col_expr(application::Column::RuleSetVersion, Expr::value(version))
        .filter(application::Column::CampaignId.eq(campaign_id))
        .exec(db)
        .await?;
    Ok(())
}

/// One page of a campaign's applications in id order, for re-checks that stream the table.
pub async fn scan(db: &impl ConnectionTrait, campaign_id: i64, after_id: i64, limit: u64) -> StoreResult<Vec<ScanRow>> {
    Ok(application::Entity::find()
        .select_only()
        .columns([
            application::Column::Id,
            application::Column::Facts,
            application::Column::TargetLevel,
            application::Column::Verdict,
            application::Column::CreatedAt,
            application::Column::SubmittedAt,
        ])
        .filter(application::Column::CampaignId.eq(campaign_id))
        .filter(application::Column::Id.gt(after_id))
        .order_by_asc(application::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?)
}

/// Records a re-check's result; the previous verdict is kept when it changed.
pub async fn set_verdict(
    db: &impl ConnectionTrait,
    id: i64,
    verdict: &str,
    previous: Option<&str>,
    rule_set_version: i32,
    trace: &str,
    now: OffsetDateTime,
) -> StoreResult<()> {
    let mut q = application::Entity::update_many()
        .col_expr(application::Column::Verdict, Expr::value(verdict))
        .col_expr(application::Column::RuleSetVersion, Expr::value(rule_set_version))
        .col_expr(application::Column::Trace, Expr::value(trace));
    if let Some(p) = previous {
        q = q
            .col_expr(application::Column::PreviousVerdict, Expr::value(p))
            .col_expr(application::Column::VerdictChangedAt, Expr::value(to_ms(now)));
    }
    q.filter(application::Column::Id.eq(id)).exec(db).await?;
    Ok(())
}

pub async fn count(db: &impl ConnectionTrait, campaign_id: i64) -> StoreResult<u64> {
    Ok(application::Entity::find().filter(application::Column::CampaignId.eq(campaign_id)).count(db).await?)
}

/// Bulk insert for seeding: (campaign, applicant, content, status, submitted at).
pub async fn insert_many(
    db: &impl ConnectionTrait,
    rows: Vec<(i64, i64, Content, &'static str, Option<OffsetDateTime>)>,
    now: OffsetDateTime,
) -> StoreResult<()> {
    let models: Vec<application::ActiveModel> = rows
        .into_iter()
        .map(|(campaign_id, applicant_id, c, status, submitted)| application::ActiveModel {
            campaign_id: Set(campaign_id),
            applicant_id: Set(applicant_id),
            unit_id: Set(c.unit_id),
            agency_code: Set(c.agency_code),
            work_type: Set(c.work_type),
            target_level: Set(c.target_level),
            facts: Set(c.facts),
            status: Set(status.to_owned()),
            verdict: Set(c.verdict),
            rule_set_id: Set(c.rule_set_id),
            rule_set_version: Set(c.rule_set_version),
            trace: Set(c.trace),
            previous_verdict: Set(None),
            verdict_changed_at: Set(None),
            pledged_at: Set(submitted.map(to_ms)),
            submitted_at: Set(submitted.map(to_ms)),
            created_at: Set(to_ms(now)),
            updated_at: Set(to_ms(now)),
            version: Set(1),
            ..Default::default()
        })
        .collect();
    for chunk in models.chunks(200) {
        application::Entity::insert_many(chunk.to_vec()).exec_without_returning(db).await.map_err(StoreError::classify)?;
    }
    Ok(())
}

/// The agency's list filters; every field narrows. `agencies: None` is the whole province.
#[derive(Debug, Clone, Default)]
pub struct AgencyFilter {
    pub agencies: Option<Vec<String>>,
    pub unit_ids: Option<Vec<i64>>,
    pub level: Option<i32>,
    pub work_type: Option<String>,
    pub statuses: Option<Vec<String>>,
    pub verdict: Option<String>,
    /// Only applications the unit reviewed after this instant (epoch ms): late initial reviews.
    pub unit_reviewed_after: Option<i64>,
}

fn agency_query(campaign_id: i64, f: &AgencyFilter) -> sea_orm::Select<application::Entity> {
    let mut q = application::Entity::find().filter(application::Column::CampaignId.eq(campaign_id));
    if let Some(codes) = &f.agencies {
        q = q.filter(application::Column::AgencyCode.is_in(codes.clone()));
    }
    if let Some(ids) = &f.unit_ids {
        q = q.filter(application::Column::UnitId.is_in(ids.clone()));
    }
    if let Some(l) = f.level {
        q = q.filter(application::Column::TargetLevel.eq(l));
    }
    if let Some(w) = &f.work_type {
        q = q.filter(application::Column::WorkType.eq(w.clone()));
    }
    if let Some(st) = &f.statuses {
        q = q.filter(application::Column::Status.is_in(st.clone()));
    }
    if let Some(v) = &f.verdict {
        q = q.filter(application::Column::Verdict.eq(v.clone()));
    }
    if let Some(t) = f.unit_reviewed_after {
        q = q.filter(application::Column::UnitReviewedAt.gt(t));
    }
    q
}

/// One page of the agency's list, oldest submission first (first come, first reviewed).
pub async fn list_for_agency(db: &impl ConnectionTrait, campaign_id: i64, f: &AgencyFilter, page: Page) -> StoreResult<Paged<Application>> {
    let q = agency_query(campaign_id, f);
    let total = q.clone().count(db).await?;
    let items = q.order_by_asc(application::Column::Id).offset(page.offset()).limit(page.size).all(db).await?;
    Ok(Paged { items, total, page })
}

/// Every application matching the filter, for rosters and bulk decisions; `limit` bounds it.
pub async fn all_for_agency(db: &impl ConnectionTrait, campaign_id: i64, f: &AgencyFilter, limit: u64) -> StoreResult<Vec<Application>> {
    Ok(agency_query(campaign_id, f).order_by_asc(application::Column::Id).limit(limit).all(db).await?)
}

pub async fn by_ids(db: &impl ConnectionTrait, ids: &[i64]) -> StoreResult<Vec<Application>> {
    Ok(application::Entity::find()
        .filter(application::Column::Id.is_in(ids.to_vec()))
        .order_by_asc(application::Column::Id)
        .all(db)
        .await?)
}

/// A unit's applications in the given states, for its rosters, in id order.
pub async fn for_unit_in(db: &impl ConnectionTrait, campaign_id: i64, unit_id: i64, statuses: &[&str]) -> StoreResult<Vec<Application>> {
    Ok(application::Entity::find()
        .filter(application::Column::CampaignId.eq(campaign_id))
        .filter(application::Column::UnitId.eq(unit_id))
        .filter(application::Column::Status.is_in(statuses.iter().map(|s| (*s).to_owned())))
        .order_by_asc(application::Column::Id)
        .all(db)
        .await?)
}

/// Fills the agency of applications inserted without one (bulk seeding) from their unit.
pub async fn backfill_agency_codes(db: &impl ConnectionTrait) -> StoreResult<()> {
    db.execute_unprepared(
        "UPDATE application SET agency_code = (SELECT unit.agency_code FROM unit WHERE unit.id = application.unit_id) \
         WHERE agency_code IS NULL",
    )
    .await?;
    Ok(())
}

pub use crate::entity::level1_dossier::Model as Dossier;

pub async fn dossier(db: &impl ConnectionTrait, application_id: i64) -> StoreResult<Option<Dossier>> {
    Ok(crate::entity::level1_dossier::Entity::find_by_id(application_id).one(db).await?)
}

/// Records the agency's checklist. `expected_version` is 0 for the first record; a stale
/// page (someone else recorded meanwhile) is a conflict.
/// A dossier record as the agency enters it.
pub struct DossierEntry<'a> {
    /// JSON array of item codes.
    pub received: &'a str,
    pub state: &'a str,
    pub note: &'a str,
    pub by: &'a str,
}

pub async fn save_dossier(
    db: &impl ConnectionTrait,
    application_id: i64,
    expected_version: i32,
    e: DossierEntry<'_>,
    now: OffsetDateTime,
) -> StoreResult<()> {
    use crate::entity::level1_dossier as d;
    let DossierEntry { received, state, note, by } = e;
    if expected_version == 0 {
        let am = d::ActiveModel {
            application_id: Set(application_id),
            received: Set(received.to_owned()),
            state: Set(state.to_owned()),
            note: Set(note.to_owned()),
            checked_by: Set(by.to_owned()),
            checked_at: Set(to_ms(now)),
            version: Set(1),
        };
        d::Entity::insert(am).exec_without_returning(db).await.map_err(|e| match StoreError::classify(e) {
            StoreError::Duplicate(_) => StoreError::Conflict,
            other => other,
        })?;
        return Ok(());
    }
    let res = d::Entity::update_many()
        .col_expr(d::Column::Received, Expr::value(received))
        .col_expr(d::Column::State, Expr::value(state))
        .col_expr(d::Column::Note, Expr::value(note))
        .col_expr(d::Column::CheckedBy, Expr::value(by))
        .col_expr(d::Column::CheckedAt, Expr::value(to_ms(now)))
        .col_expr(d::Column::Version, Expr::value(expected_version + 1))
        .filter(d::Column::ApplicationId.eq(application_id))
        .filter(d::Column::Version.eq(expected_version))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

/// Dossier states of many applications at once, for lists.
pub async fn dossier_states(db: &impl ConnectionTrait, ids: &[i64]) -> StoreResult<Vec<(i64, String)>> {
    use crate::entity::level1_dossier as d;
    Ok(d::Entity::find()
        .select_only()
        .columns([d::Column::ApplicationId, d::Column::State])
        .filter(d::Column::ApplicationId.is_in(ids.to_vec()))
        .into_tuple()
        .all(db)
        .await?)
}
