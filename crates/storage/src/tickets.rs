//! Admission-ticket settings and facts: the agency's print window, the campaign's pledge and
//! its acceptances, and which candidates' tickets have been printed.
use sea_orm::ExprTrait;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use time::OffsetDateTime;

use crate::entity::{ticket_pledge, ticket_pledge_acceptance, ticket_print, ticket_window};
use crate::{StoreError, StoreResult, to_ms};

pub use crate::entity::ticket_pledge::Model as Pledge;
pub use crate::entity::ticket_print::Model as Printed;
pub use crate::entity::ticket_window::Model as Window;

pub async fn window(db: &impl ConnectionTrait, campaign_id: i64, agency_code: &str) -> StoreResult<Option<Window>> {
    Ok(ticket_window::Entity::find()
        .filter(ticket_window::Column::CampaignId.eq(campaign_id))
        .filter(ticket_window::Column::AgencyCode.eq(agency_code))
        .one(db)
        .await?)
}

/// Sets (or replaces) the agency's print window.
pub async fn set_window(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    agency_code: &str,
    (opens, closes): (OffsetDateTime, OffsetDateTime),
    by: &str,
    now: OffsetDateTime,
) -> StoreResult<()> {
    let am = ticket_window::ActiveModel {
        campaign_id: Set(campaign_id),
        agency_code: Set(agency_code.to_owned()),
        opens_at: Set(to_ms(opens)),
        closes_at: Set(to_ms(closes)),
        updated_at: Set(to_ms(now)),
        updated_by: Set(by.to_owned()),
        ..Default::default()
    };
    ticket_window::Entity::insert(am)
        .on_conflict(
            OnConflict::columns([ticket_window::Column::CampaignId, ticket_window::Column::AgencyCode])
                .update_columns([
                    ticket_window::Column::OpensAt,
                    ticket_window::Column::ClosesAt,
                    ticket_window::Column::UpdatedAt,
                    ticket_window::Column::UpdatedBy,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Removes the agency's own window: the default (a week before the first sitting) applies again.
pub async fn clear_window(db: &impl ConnectionTrait, campaign_id: i64, agency_code: &str) -> StoreResult<u64> {
    Ok(ticket_window::Entity::delete_many()
        .filter(ticket_window::Column::CampaignId.eq(campaign_id))
        .filter(ticket_window::Column::AgencyCode.eq(agency_code))
        .exec(db)
        .await?
        .rows_affected)
}

pub async fn pledge(db: &impl ConnectionTrait, campaign_id: i64) -> StoreResult<Option<Pledge>> {
    Ok(ticket_pledge::Entity::find().filter(ticket_pledge::Column::CampaignId.eq(campaign_id)).one(db).await?)
}

/// Sets the campaign's pledge text, or removes it when `body` is `None`.
pub async fn set_pledge(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    body: Option<(&str, &str)>,
    by: &str,
    now: OffsetDateTime,
) -> StoreResult<()> {
    let Some((body, body_sm3)) = body else {
        ticket_pledge::Entity::delete_many().filter(ticket_pledge::Column::CampaignId.eq(campaign_id)).exec(db).await?;
        return Ok(());
    };
    let am = ticket_pledge::ActiveModel {
        campaign_id: Set(campaign_id),
        body: Set(body.to_owned()),
        body_sm3: Set(body_sm3.to_owned()),
        updated_at: Set(to_ms(now)),
        updated_by: Set(by.to_owned()),
        ..Default::default()
    };
    ticket_pledge::Entity::insert(am)
        .on_conflict(
            OnConflict::column(ticket_pledge::Column::CampaignId)
                .update_columns([
                    ticket_pledge::Column::Body,
                    ticket_pledge::Column::BodySm3,
                    ticket_pledge::Column::UpdatedAt,
                    ticket_pledge::Column::UpdatedBy,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// When the candidate accepted the pledge with this text, if they did.
pub async fn accepted_at(db: &impl ConnectionTrait, application_id: i64, body_sm3: &str) -> StoreResult<Option<i64>> {
    Ok(ticket_pledge_acceptance::Entity::find()
        .filter(ticket_pledge_acceptance::Column::ApplicationId.eq(application_id))
        .filter(ticket_pledge_acceptance::Column::BodySm3.eq(body_sm3))
        .one(db)
        .await?
        .map(|a| a.accepted_at))
}

/// Records the acceptance; accepting the same text twice keeps the first time.
pub async fn accept(db: &impl ConnectionTrait, application_id: i64, body_sm3: &str, now: OffsetDateTime) -> StoreResult<()> {
    let am = ticket_pledge_acceptance::ActiveModel {
        application_id: Set(application_id),
        body_sm3: Set(body_sm3.to_owned()),
        accepted_at: Set(to_ms(now)),
        ..Default::default()
    };
    ticket_pledge_acceptance::Entity::insert(am)
        .on_conflict(
            OnConflict::columns([ticket_pledge_acceptance::Column::ApplicationId, ticket_pledge_acceptance::Column::BodySm3])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Marks these candidates' tickets as printed (first time kept, count and last time updated).
pub async fn mark_printed(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    agency_code: &str,
    application_ids: &[i64],
    now: OffsetDateTime,
) -> StoreResult<()> {
    let at = to_ms(now);
    // Batches keep each statement under SQLite's bound-parameter limit.
    for chunk in application_ids.chunks(500) {
        let rows = chunk.iter().map(|id| ticket_print::ActiveModel {
            application_id: Set(*id),
            campaign_id: Set(campaign_id),
            agency_code: Set(agency_code.to_owned()),
            first_printed_at: Set(at),
            last_printed_at: Set(at),
            prints: Set(1),
            ..Default::default()
        });
        ticket_print::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::column(ticket_print::Column::ApplicationId)
                    .value(ticket_print::Column::LastPrintedAt, at)
                    .value(ticket_print::Column::Prints, Expr::col((ticket_print::Entity, ticket_print::Column::Prints)).add(1))
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await
            .map_err(StoreError::classify)?;
    }
    Ok(())
}

pub async fn printed(db: &impl ConnectionTrait, application_id: i64) -> StoreResult<Option<Printed>> {
    Ok(ticket_print::Entity::find().filter(ticket_print::Column::ApplicationId.eq(application_id)).one(db).await?)
}

/// How many of the agency's candidates have had their ticket printed.
pub async fn printed_count(db: &impl ConnectionTrait, campaign_id: i64, agency_code: &str) -> StoreResult<u64> {
    Ok(ticket_print::Entity::find()
        .filter(ticket_print::Column::CampaignId.eq(campaign_id))
        .filter(ticket_print::Column::AgencyCode.eq(agency_code))
        .count(db)
        .await?)
}
