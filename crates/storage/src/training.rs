//! Training classes (培训班), their enrolments (参训) and attendance (考勤).
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use time::OffsetDateTime;

use crate::entity::{applicant, application, training_attendance, training_class, training_enrolment, unit};
use crate::{StoreError, StoreResult, to_ms};

pub use crate::entity::training_attendance::Model as AttendanceRow;
pub use crate::entity::training_class::Model as TrainingClass;
pub use crate::entity::training_enrolment::Model as Enrolment;

/// A class's fields as the use case checked them.
pub struct ClassFields<'a> {
    pub name: &'a str,
    pub place: &'a str,
    pub organiser: &'a str,
    pub level: i32,
    pub work_type: Option<&'a str>,
    pub starts_on: &'a str,
    pub ends_on: &'a str,
    pub capacity: i32,
}

pub async fn insert_class(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    agency_code: &str,
    c: &ClassFields<'_>,
    by: &str,
    now: OffsetDateTime,
) -> StoreResult<i64> {
    let am = training_class::ActiveModel {
        campaign_id: Set(campaign_id),
        agency_code: Set(agency_code.to_owned()),
        name: Set(c.name.to_owned()),
        place: Set(c.place.to_owned()),
        organiser: Set(c.organiser.to_owned()),
        level: Set(c.level),
        work_type: Set(c.work_type.map(str::to_owned)),
        starts_on: Set(c.starts_on.to_owned()),
        ends_on: Set(c.ends_on.to_owned()),
        capacity: Set(c.capacity),
        created_at: Set(to_ms(now)),
        created_by: Set(by.to_owned()),
        updated_at: Set(to_ms(now)),
        version: Set(1),
        ..Default::default()
    };
    Ok(training_class::Entity::insert(am).exec(db).await.map_err(StoreError::classify)?.last_insert_id)
}

pub async fn class(db: &impl ConnectionTrait, id: i64) -> StoreResult<Option<TrainingClass>> {
    Ok(training_class::Entity::find_by_id(id).one(db).await?)
}

/// The campaign's classes of these agencies (`None`: all), by agency, start date and id.
pub async fn classes(db: &impl ConnectionTrait, campaign_id: i64, agencies: Option<&[String]>) -> StoreResult<Vec<TrainingClass>> {
    let mut q = training_class::Entity::find().filter(training_class::Column::CampaignId.eq(campaign_id));
    if let Some(a) = agencies {
        q = q.filter(training_class::Column::AgencyCode.is_in(a.to_vec()));
    }
    Ok(q.order_by_asc(training_class::Column::AgencyCode)
        .order_by_asc(training_class::Column::StartsOn)
        .order_by_asc(training_class::Column::Id)
        .all(db)
        .await?)
}

/// Guarded edit: only the class at `expected_version` changes; otherwise [`StoreError::Conflict`].
pub async fn update_class(
    db: &impl ConnectionTrait,
    id: i64,
    expected_version: i32,
    c: &ClassFields<'_>,
    now: OffsetDateTime,
) -> StoreResult<()> {
    let res = training_class::Entity::update_many()
        .col_expr(training_class::Column::Name, Expr::value(c.name))
        .col_expr(training_class::Column::Place, Expr::value(c.place))
        .col_expr(training_class::Column::Organiser, Expr::value(c.organiser))
        .col_expr(training_class::Column::Level, Expr::value(c.level))
        .col_expr(training_class::Column::WorkType, Expr::value(c.work_type.map(str::to_owned)))
        .col_expr(training_class::Column::StartsOn, Expr::value(c.starts_on))
        .col_expr(training_class::Column::EndsOn, Expr::value(c.ends_on))
        .col_expr(training_class::Column::Capacity, Expr::value(c.capacity))
        .col_expr(training_class::Column::UpdatedAt, Expr::value(to_ms(now)))
        .col_expr(training_class::Column::Version, Expr::value(expected_version + 1))
        .filter(training_class::Column::Id.eq(id))
        .filter(training_class::Column::Version.eq(expected_version))
        .exec(db)
        .await
        .map_err(StoreError::classify)?;
    if res.rows_affected == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

/// Moves the class to the next version without changing it: enrolments and removals call this
/// first, so two officers filling the same class at once cannot both pass the capacity check
/// (the second finds the version changed; on PostgreSQL it also waits for the first's row lock).
pub async fn bump_version(db: &impl ConnectionTrait, id: i64, expected_version: i32, now: OffsetDateTime) -> StoreResult<()> {
    let res = training_class::Entity::update_many()
        .col_expr(training_class::Column::UpdatedAt, Expr::value(to_ms(now)))
        .col_expr(training_class::Column::Version, Expr::value(expected_version + 1))
        .filter(training_class::Column::Id.eq(id))
        .filter(training_class::Column::Version.eq(expected_version))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

/// Deletes a class at `expected_version` with nobody enrolled and no attendance; otherwise
/// [`StoreError::Conflict`].
pub async fn delete_class(db: &impl ConnectionTrait, id: i64, expected_version: i32) -> StoreResult<()> {
    if enrolled_count(db, id).await? > 0 {
        return Err(StoreError::Conflict);
    }
    training_attendance::Entity::delete_many().filter(training_attendance::Column::ClassId.eq(id)).exec(db).await?;
    let res = training_class::Entity::delete_many()
        .filter(training_class::Column::Id.eq(id))
        .filter(training_class::Column::Version.eq(expected_version))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

pub async fn enrolled_count(db: &impl ConnectionTrait, class_id: i64) -> StoreResult<u64> {
    Ok(training_enrolment::Entity::find().filter(training_enrolment::Column::ClassId.eq(class_id)).count(db).await?)
}

/// (class id, enrolled) for these classes.
pub async fn enrolled_counts(db: &impl ConnectionTrait, class_ids: &[i64]) -> StoreResult<Vec<(i64, i64)>> {
    if class_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(training_enrolment::Entity::find()
        .select_only()
        .column(training_enrolment::Column::ClassId)
        .column_as(training_enrolment::Column::Id.count(), "n")
        .filter(training_enrolment::Column::ClassId.is_in(class_ids.to_vec()))
        .group_by(training_enrolment::Column::ClassId)
        .into_tuple()
        .all(db)
        .await?)
}

/// The class's enrolments in the order they were made.
pub async fn enrolments(db: &impl ConnectionTrait, class_id: i64) -> StoreResult<Vec<Enrolment>> {
    Ok(training_enrolment::Entity::find()
        .filter(training_enrolment::Column::ClassId.eq(class_id))
        .order_by_asc(training_enrolment::Column::Id)
        .all(db)
        .await?)
}

/// The enrolment of an application, in whatever class.
pub async fn enrolment_of(db: &impl ConnectionTrait, application_id: i64) -> StoreResult<Option<Enrolment>> {
    Ok(training_enrolment::Entity::find().filter(training_enrolment::Column::ApplicationId.eq(application_id)).one(db).await?)
}

/// Which of these applications are already in a class (of any agency or campaign).
pub async fn enrolled_among(db: &impl ConnectionTrait, application_ids: &[i64]) -> StoreResult<Vec<i64>> {
    let mut out = Vec::new();
    // Chunks keep each statement under SQLite's bound-parameter limit.
    for chunk in application_ids.chunks(500) {
        let ids: Vec<i64> = training_enrolment::Entity::find()
            .select_only()
            .column(training_enrolment::Column::ApplicationId)
            .filter(training_enrolment::Column::ApplicationId.is_in(chunk.to_vec()))
            .into_tuple()
            .all(db)
            .await?;
        out.extend(ids);
    }
    Ok(out)
}

/// Enrols these applications in the class; a duplicate is [`StoreError::Duplicate`].
pub async fn insert_enrolments(
    db: &impl ConnectionTrait,
    class_id: i64,
    application_ids: &[i64],
    by: &str,
    now: OffsetDateTime,
) -> StoreResult<()> {
    for chunk in application_ids.chunks(200) {
        let rows: Vec<training_enrolment::ActiveModel> = chunk
            .iter()
            .map(|id| training_enrolment::ActiveModel {
                class_id: Set(class_id),
                application_id: Set(*id),
                enrolled_at: Set(to_ms(now)),
                enrolled_by: Set(by.to_owned()),
                ..Default::default()
            })
            .collect();
        training_enrolment::Entity::insert_many(rows).exec(db).await.map_err(StoreError::classify)?;
    }
    Ok(())
}

/// Removes one enrolment and that person's attendance in the class; returns how many marks
/// went with it. No such enrolment is [`StoreError::Conflict`].
pub async fn delete_enrolment(db: &impl ConnectionTrait, class_id: i64, application_id: i64) -> StoreResult<u64> {
    let marks = training_attendance::Entity::delete_many()
        .filter(training_attendance::Column::ClassId.eq(class_id))
        .filter(training_attendance::Column::ApplicationId.eq(application_id))
        .exec(db)
        .await?
        .rows_affected;
    let res = training_enrolment::Entity::delete_many()
        .filter(training_enrolment::Column::ClassId.eq(class_id))
        .filter(training_enrolment::Column::ApplicationId.eq(application_id))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(marks)
}

/// Every mark of the class, by day and application.
pub async fn attendance(db: &impl ConnectionTrait, class_id: i64) -> StoreResult<Vec<AttendanceRow>> {
    Ok(training_attendance::Entity::find()
        .filter(training_attendance::Column::ClassId.eq(class_id))
        .order_by_asc(training_attendance::Column::Day)
        .order_by_asc(training_attendance::Column::ApplicationId)
        .all(db)
        .await?)
}

/// One person's marks in a class, by day.
pub async fn attendance_of(db: &impl ConnectionTrait, class_id: i64, application_id: i64) -> StoreResult<Vec<AttendanceRow>> {
    Ok(training_attendance::Entity::find()
        .filter(training_attendance::Column::ClassId.eq(class_id))
        .filter(training_attendance::Column::ApplicationId.eq(application_id))
        .order_by_asc(training_attendance::Column::Day)
        .all(db)
        .await?)
}

/// The days of the class with any attendance recorded.
pub async fn attendance_days(db: &impl ConnectionTrait, class_id: i64) -> StoreResult<Vec<String>> {
    Ok(training_attendance::Entity::find()
        .select_only()
        .column(training_attendance::Column::Day)
        .filter(training_attendance::Column::ClassId.eq(class_id))
        .distinct()
        .order_by_asc(training_attendance::Column::Day)
        .into_tuple()
        .all(db)
        .await?)
}

/// Replaces the class's marks of one day with `marks` (application id, mark) in the caller's
/// transaction; returns how many marks the day had before.
pub async fn replace_day(
    db: &impl ConnectionTrait,
    class_id: i64,
    day: &str,
    marks: &[(i64, &str)],
    by: &str,
    now: OffsetDateTime,
) -> StoreResult<u64> {
    let before = training_attendance::Entity::delete_many()
        .filter(training_attendance::Column::ClassId.eq(class_id))
        .filter(training_attendance::Column::Day.eq(day))
        .exec(db)
        .await?
        .rows_affected;
    for chunk in marks.chunks(200) {
        let rows: Vec<training_attendance::ActiveModel> = chunk
            .iter()
            .map(|(id, mark)| training_attendance::ActiveModel {
                class_id: Set(class_id),
                application_id: Set(*id),
                day: Set(day.to_owned()),
                mark: Set((*mark).to_owned()),
                recorded_at: Set(to_ms(now)),
                recorded_by: Set(by.to_owned()),
                ..Default::default()
            })
            .collect();
        training_attendance::Entity::insert_many(rows).exec(db).await.map_err(StoreError::classify)?;
    }
    Ok(before)
}

/// What the lists and the sign-in sheet show of an enrolled person.
#[derive(Debug, Clone)]
pub struct Trainee {
    pub application_id: i64,
    pub applicant_id: i64,
    pub name: String,
    pub name_sort: String,
    pub id_number: String,
    pub mobile: String,
    pub unit_name: String,
    pub work_type: String,
    pub level: i32,
}

/// The people behind these applications (in three queries, not one per person), in the order
/// of `application_ids`; missing rows are skipped.
pub async fn trainees(db: &impl ConnectionTrait, application_ids: &[i64]) -> StoreResult<Vec<Trainee>> {
    let mut apps = Vec::new();
    for chunk in application_ids.chunks(500) {
        apps.extend(application::Entity::find().filter(application::Column::Id.is_in(chunk.to_vec())).all(db).await?);
    }
    let person_ids: Vec<i64> = apps.iter().map(|a| a.applicant_id).collect();
    let mut people = std::collections::HashMap::new();
    for chunk in person_ids.chunks(500) {
        for p in applicant::Entity::find().filter(applicant::Column::Id.is_in(chunk.to_vec())).all(db).await? {
            people.insert(p.id, p);
        }
    }
    let mut unit_ids: Vec<i64> = apps.iter().filter_map(|a| a.unit_id).collect();
    unit_ids.sort_unstable();
    unit_ids.dedup();
    let mut units = std::collections::HashMap::new();
    for chunk in unit_ids.chunks(500) {
        for u in unit::Entity::find().filter(unit::Column::Id.is_in(chunk.to_vec())).all(db).await? {
            units.insert(u.id, u.name);
        }
    }
    let by_id: std::collections::HashMap<i64, &application::Model> = apps.iter().map(|a| (a.id, a)).collect();
    let mut out = Vec::with_capacity(application_ids.len());
    for id in application_ids {
        let Some(a) = by_id.get(id) else { continue };
        let Some(p) = people.get(&a.applicant_id) else { continue };
        out.push(Trainee {
            application_id: a.id,
            applicant_id: p.id,
            name: p.name.clone(),
            name_sort: p.name_sort.clone(),
            id_number: p.id_number.clone(),
            mobile: p.mobile.clone(),
            unit_name: a.unit_id.and_then(|u| units.get(&u).cloned()).unwrap_or_default(),
            work_type: a.work_type.clone(),
            level: a.target_level,
        });
    }
    Ok(out)
}
