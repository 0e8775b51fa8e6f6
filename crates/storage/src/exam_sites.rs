//! Test centres, rooms, sittings and the seating plan.
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use time::OffsetDateTime;

use crate::entity::{application, exam_room, seat_assignment, sitting, test_centre};
use crate::{StoreError, StoreResult, to_ms};

pub use crate::entity::exam_room::Model as Room;
pub use crate::entity::seat_assignment::Model as SeatAssignment;
pub use crate::entity::sitting::Model as SittingRow;
pub use crate::entity::test_centre::Model as Centre;

pub struct NewCentre<'a> {
    pub campaign_id: i64,
    pub agency_code: &'a str,
    pub number: i32,
    pub name: &'a str,
    pub address: &'a str,
    pub contact: &'a str,
    pub phone: &'a str,
    pub by: &'a str,
}

/// A duplicate centre number within the agency is [`StoreError::Duplicate`].
pub async fn insert_centre(db: &impl ConnectionTrait, c: NewCentre<'_>, now: OffsetDateTime) -> StoreResult<i64> {
    let am = test_centre::ActiveModel {
        campaign_id: Set(c.campaign_id),
        agency_code: Set(c.agency_code.to_owned()),
        number: Set(c.number),
        name: Set(c.name.to_owned()),
        address: Set(c.address.to_owned()),
        contact: Set(c.contact.to_owned()),
        phone: Set(c.phone.to_owned()),
        created_at: Set(to_ms(now)),
        created_by: Set(c.by.to_owned()),
        ..Default::default()
    };
    Ok(test_centre::Entity::insert(am).exec(db).await.map_err(StoreError::classify)?.last_insert_id)
}

pub async fn centre(db: &impl ConnectionTrait, id: i64) -> StoreResult<Option<Centre>> {
    Ok(test_centre::Entity::find_by_id(id).one(db).await?)
}

/// The campaign's centres of these agencies (`None`: all), by agency and number.
pub async fn centres(db: &impl ConnectionTrait, campaign_id: i64, agencies: Option<&[String]>) -> StoreResult<Vec<Centre>> {
    let mut q = test_centre::Entity::find().filter(test_centre::Column::CampaignId.eq(campaign_id));
    if let Some(a) = agencies {
        q = q.filter(test_centre::Column::AgencyCode.is_in(a.to_vec()));
    }
    Ok(q.order_by_asc(test_centre::Column::AgencyCode).order_by_asc(test_centre::Column::Number).all(db).await?)
}

pub struct NewRoom<'a> {
    pub centre_id: i64,
    pub number: i32,
    pub name: &'a str,
    pub seat_count: i32,
    pub spare_seats: i32,
}

pub async fn insert_room(db: &impl ConnectionTrait, r: NewRoom<'_>, now: OffsetDateTime) -> StoreResult<i64> {
    let am = exam_room::ActiveModel {
        centre_id: Set(r.centre_id),
        number: Set(r.number),
        name: Set(r.name.to_owned()),
        seat_count: Set(r.seat_count),
        spare_seats: Set(r.spare_seats),
        created_at: Set(to_ms(now)),
        ..Default::default()
    };
    Ok(exam_room::Entity::insert(am).exec(db).await.map_err(StoreError::classify)?.last_insert_id)
}

pub async fn room(db: &impl ConnectionTrait, id: i64) -> StoreResult<Option<Room>> {
    Ok(exam_room::Entity::find_by_id(id).one(db).await?)
}

/// Rooms of these centres, by centre and number.
pub async fn rooms_of(db: &impl ConnectionTrait, centre_ids: &[i64]) -> StoreResult<Vec<Room>> {
    if centre_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(exam_room::Entity::find()
        .filter(exam_room::Column::CentreId.is_in(centre_ids.to_vec()))
        .order_by_asc(exam_room::Column::CentreId)
        .order_by_asc(exam_room::Column::Number)
        .all(db)
        .await?)
}

pub struct NewSitting<'a> {
    pub campaign_id: i64,
    pub agency_code: &'a str,
    pub subject: &'a str,
    pub exam_date: &'a str,
    pub starts_at: OffsetDateTime,
    pub ends_at: OffsetDateTime,
    pub by: &'a str,
}

pub async fn insert_sitting(db: &impl ConnectionTrait, s: NewSitting<'_>, now: OffsetDateTime) -> StoreResult<i64> {
    let am = sitting::ActiveModel {
        campaign_id: Set(s.campaign_id),
        agency_code: Set(s.agency_code.to_owned()),
        subject: Set(s.subject.to_owned()),
        exam_date: Set(s.exam_date.to_owned()),
        starts_at: Set(to_ms(s.starts_at)),
        ends_at: Set(to_ms(s.ends_at)),
        created_at: Set(to_ms(now)),
        created_by: Set(s.by.to_owned()),
        ..Default::default()
    };
    Ok(sitting::Entity::insert(am).exec(db).await.map_err(StoreError::classify)?.last_insert_id)
}

/// The agency's sittings in time order.
pub async fn sittings(db: &impl ConnectionTrait, campaign_id: i64, agency_code: &str) -> StoreResult<Vec<SittingRow>> {
    Ok(sitting::Entity::find()
        .filter(sitting::Column::CampaignId.eq(campaign_id))
        .filter(sitting::Column::AgencyCode.eq(agency_code))
        .order_by_asc(sitting::Column::StartsAt)
        .order_by_asc(sitting::Column::Id)
        .all(db)
        .await?)
}

/// (application id, unit id, work type, target level) of the agency's admitted applications:
/// the candidates seating places.
pub async fn admitted(db: &impl ConnectionTrait, campaign_id: i64, agency_code: &str) -> StoreResult<Vec<(i64, Option<i64>, String, i32)>> {
    Ok(application::Entity::find()
        .select_only()
        .columns([application::Column::Id, application::Column::UnitId, application::Column::WorkType, application::Column::TargetLevel])
        .filter(application::Column::CampaignId.eq(campaign_id))
        .filter(application::Column::AgencyCode.eq(agency_code))
        .filter(application::Column::Status.eq("admitted"))
        .order_by_asc(application::Column::Id)
        .into_tuple()
        .all(db)
        .await?)
}

pub struct NewAssignment {
    pub application_id: i64,
    pub sitting_id: i64,
    pub room_id: i64,
    pub seat: i32,
    pub ticket_no: String,
    pub form_number: Option<i32>,
}

/// Replaces the agency's whole seating plan in the caller's transaction.
pub async fn replace_plan(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    agency_code: &str,
    plan: Vec<NewAssignment>,
    now: OffsetDateTime,
) -> StoreResult<()> {
    seat_assignment::Entity::delete_many()
        .filter(seat_assignment::Column::CampaignId.eq(campaign_id))
        .filter(seat_assignment::Column::AgencyCode.eq(agency_code))
        .exec(db)
        .await?;
    let at = to_ms(now);
    // Batches keep each statement under SQLite's bound-parameter limit.
    let mut rows = plan.into_iter().peekable();
    while rows.peek().is_some() {
        let batch: Vec<seat_assignment::ActiveModel> = rows
            .by_ref()
            .take(500)
            .map(|a| seat_assignment::ActiveModel {
                campaign_id: Set(campaign_id),
                agency_code: Set(agency_code.to_owned()),
                application_id: Set(a.application_id),
                sitting_id: Set(a.sitting_id),
                room_id: Set(a.room_id),
                seat: Set(a.seat),
                ticket_no: Set(a.ticket_no),
                form_number: Set(a.form_number),
                assigned_at: Set(at),
                ..Default::default()
            })
            .collect();
        seat_assignment::Entity::insert_many(batch).exec(db).await.map_err(StoreError::classify)?;
    }
    Ok(())
}

/// One page of the agency's plan, by room and seat, then sitting.
pub async fn plan_page(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    agency_code: &str,
    offset: u64,
    limit: u64,
) -> StoreResult<(Vec<SeatAssignment>, u64)> {
    let q = seat_assignment::Entity::find()
        .filter(seat_assignment::Column::CampaignId.eq(campaign_id))
        .filter(seat_assignment::Column::AgencyCode.eq(agency_code));
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_asc(seat_assignment::Column::RoomId)
        .order_by_asc(seat_assignment::Column::Seat)
        .order_by_asc(seat_assignment::Column::SittingId)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    Ok((rows, total))
}

/// A candidate's seats, in sitting order.
pub async fn seats_of(db: &impl ConnectionTrait, application_id: i64) -> StoreResult<Vec<SeatAssignment>> {
    Ok(seat_assignment::Entity::find()
        .filter(seat_assignment::Column::ApplicationId.eq(application_id))
        .order_by_asc(seat_assignment::Column::SittingId)
        .all(db)
        .await?)
}

/// The agency's seat assignments of the candidate holding this ticket number.
pub async fn seats_by_ticket(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    agency_code: &str,
    ticket_no: &str,
) -> StoreResult<Vec<SeatAssignment>> {
    Ok(seat_assignment::Entity::find()
        .filter(seat_assignment::Column::CampaignId.eq(campaign_id))
        .filter(seat_assignment::Column::AgencyCode.eq(agency_code))
        .filter(seat_assignment::Column::TicketNo.eq(ticket_no))
        .order_by_asc(seat_assignment::Column::SittingId)
        .all(db)
        .await?)
}

/// Who sits on this seat in this sitting, if anyone.
pub async fn seat_holder(db: &impl ConnectionTrait, sitting_id: i64, room_id: i64, seat: i32) -> StoreResult<Option<SeatAssignment>> {
    Ok(seat_assignment::Entity::find()
        .filter(seat_assignment::Column::SittingId.eq(sitting_id))
        .filter(seat_assignment::Column::RoomId.eq(room_id))
        .filter(seat_assignment::Column::Seat.eq(seat))
        .one(db)
        .await?)
}

/// Moves one assignment to another seat, guarded on the seat it had: a concurrent move of the
/// same assignment is [`StoreError::Conflict`], a seat someone else took meanwhile is
/// [`StoreError::Duplicate`] (the unique seat index).
pub async fn move_assignment(
    db: &impl ConnectionTrait,
    assignment: &SeatAssignment,
    room_id: i64,
    seat: i32,
    form_number: Option<i32>,
    now: OffsetDateTime,
) -> StoreResult<()> {
    let res = seat_assignment::Entity::update_many()
        .col_expr(seat_assignment::Column::FormNumber, sea_orm::sea_query::Expr::value(form_number))
        .col_expr(seat_assignment::Column::RoomId, sea_orm::sea_query::Expr::value(room_id))
        .col_expr(seat_assignment::Column::Seat, sea_orm::sea_query::Expr::value(seat))
        .col_expr(seat_assignment::Column::AssignedAt, sea_orm::sea_query::Expr::value(to_ms(now)))
        .filter(seat_assignment::Column::Id.eq(assignment.id))
        .filter(seat_assignment::Column::RoomId.eq(assignment.room_id))
        .filter(seat_assignment::Column::Seat.eq(assignment.seat))
        .exec(db)
        .await
        .map_err(StoreError::classify)?;
    if res.rows_affected == 1 { Ok(()) } else { Err(StoreError::Conflict) }
}

/// The agency's seat assignments in these rooms (a centre's), by room and seat, then sitting.
pub async fn assignments_in_rooms(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    agency_code: &str,
    room_ids: &[i64],
) -> StoreResult<Vec<SeatAssignment>> {
    let mut out = Vec::new();
    // Chunks keep each statement under SQLite's bound-parameter limit; rooms are ordered, so the
    // concatenation stays in room order.
    let mut sorted = room_ids.to_vec();
    sorted.sort_unstable();
    for chunk in sorted.chunks(500) {
        let rows = seat_assignment::Entity::find()
            .filter(seat_assignment::Column::CampaignId.eq(campaign_id))
            .filter(seat_assignment::Column::AgencyCode.eq(agency_code))
            .filter(seat_assignment::Column::RoomId.is_in(chunk.iter().copied()))
            .order_by_asc(seat_assignment::Column::RoomId)
            .order_by_asc(seat_assignment::Column::Seat)
            .order_by_asc(seat_assignment::Column::SittingId)
            .all(db)
            .await?;
        out.extend(rows);
    }
    Ok(out)
}
