//! Employer units (单位) and applicants' person records.
use gongkao_domain::paging::{Page, Paged};
use gongkao_domain::sort_key::pinyin_key;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::Expr,
};
use time::OffsetDateTime;

use crate::entity::{applicant, unit};
use crate::{StoreError, StoreResult, to_ms};

pub use crate::entity::applicant::Model as Applicant;
pub use crate::entity::unit::Model as Unit;

pub struct NewUnit {
    pub name: String,
    pub credit_code: String,
    pub unit_type: String,
    pub category: String,
    pub supervising_department: String,
    pub agency_code: String,
}

fn unit_row(u: NewUnit, now: OffsetDateTime) -> unit::ActiveModel {
    unit::ActiveModel {
        name_sort: Set(pinyin_key(&u.name)),
        name: Set(u.name),
        credit_code: Set(u.credit_code),
        unit_type: Set(u.unit_type),
        category: Set(u.category),
        supervising_department: Set(u.supervising_department),
        agency_code: Set(u.agency_code),
        status: Set("active".to_owned()),
        created_at: Set(to_ms(now)),
        updated_at: Set(to_ms(now)),
        version: Set(1),
        ..Default::default()
    }
}

pub async fn create(db: &impl ConnectionTrait, u: NewUnit, now: OffsetDateTime) -> StoreResult<i64> {
    Ok(unit::Entity::insert(unit_row(u, now)).exec(db).await.map_err(StoreError::classify)?.last_insert_id)
}

pub async fn insert_many(db: &impl ConnectionTrait, units: Vec<NewUnit>, now: OffsetDateTime) -> StoreResult<()> {
    let rows: Vec<unit::ActiveModel> = units.into_iter().map(|u| unit_row(u, now)).collect();
    for chunk in rows.chunks(400) {
        unit::Entity::insert_many(chunk.to_vec()).exec_without_returning(db).await.map_err(StoreError::classify)?;
    }
    Ok(())
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> StoreResult<Option<Unit>> {
    Ok(unit::Entity::find_by_id(id).filter(unit::Column::Status.eq("active")).one(db).await?)
}

pub async fn by_credit_code(db: &impl ConnectionTrait, code: &str) -> StoreResult<Option<Unit>> {
    Ok(unit::Entity::find().filter(unit::Column::CreditCode.eq(code)).one(db).await?)
}

/// Guarded update: only an active unit at `expected_version` changes, so a concurrent edit or a
/// stale page is a conflict rather than a silent overwrite.
pub async fn update(db: &impl ConnectionTrait, id: i64, expected_version: i32, u: NewUnit, now: OffsetDateTime) -> StoreResult<()> {
    let res = unit::Entity::update_many()
        .col_expr(unit::Column::NameSort, Expr::value(pinyin_key(&u.name)))
        .col_expr(unit::Column::Name, Expr::value(u.name))
        .col_expr(unit::Column::CreditCode, Expr::value(u.credit_code))
        .col_expr(unit::Column::UnitType, Expr::value(u.unit_type))
        .col_expr(unit::Column::Category, Expr::value(u.category))
        .col_expr(unit::Column::SupervisingDepartment, Expr::value(u.supervising_department))
        .col_expr(unit::Column::AgencyCode, Expr::value(u.agency_code))
        .col_expr(unit::Column::UpdatedAt, Expr::value(to_ms(now)))
        .col_expr(unit::Column::Version, Expr::value(expected_version + 1))
        .filter(unit::Column::Id.eq(id))
        .filter(unit::Column::Status.eq("active"))
        .filter(unit::Column::Version.eq(expected_version))
        .exec(db)
        .await
        .map_err(StoreError::classify)?;
    if res.rows_affected == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

pub async fn mark_deleted(db: &impl ConnectionTrait, id: i64, now: OffsetDateTime) -> StoreResult<()> {
    let res = unit::Entity::update_many()
        .col_expr(unit::Column::Status, Expr::value("deleted"))
        .col_expr(unit::Column::UpdatedAt, Expr::value(to_ms(now)))
        .filter(unit::Column::Id.eq(id))
        .filter(unit::Column::Status.eq("active"))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct UnitFilter {
    /// `None`: every agency; `Some(codes)`: only units registered with these agencies.
    pub scope: Option<Vec<String>>,
    /// Only these units (a unit admin's own).
    pub ids: Option<Vec<i64>>,
    pub agency_code: Option<String>,
    pub name_contains: Option<String>,
    pub category: Option<String>,
    pub unit_type: Option<String>,
    pub sort: UnitSort,
    pub descending: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UnitSort {
    #[default]
    Name,
    CreditCode,
    Agency,
    Created,
}

impl UnitSort {
    pub fn parse(s: &str) -> Option<UnitSort> {
        match s {
            "name" => Some(UnitSort::Name),
            "credit_code" => Some(UnitSort::CreditCode),
            "agency" => Some(UnitSort::Agency),
            "created" => Some(UnitSort::Created),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            UnitSort::Name => "name",
            UnitSort::CreditCode => "credit_code",
            UnitSort::Agency => "agency",
            UnitSort::Created => "created",
        }
    }
}

pub async fn list(db: &impl ConnectionTrait, f: &UnitFilter, page: Page) -> StoreResult<Paged<Unit>> {
    let mut cond = Condition::all().add(unit::Column::Status.eq("active"));
    if let Some(scope) = &f.scope {
        cond = cond.add(unit::Column::AgencyCode.is_in(scope.clone()));
    }
    if let Some(ids) = &f.ids {
        cond = cond.add(unit::Column::Id.is_in(ids.clone()));
    }
    if let Some(a) = &f.agency_code {
        cond = cond.add(unit::Column::AgencyCode.eq(a.clone()));
    }
    if let Some(n) = &f.name_contains {
        cond = cond.add(unit::Column::Name.contains(n));
    }
    if let Some(c) = &f.category {
        cond = cond.add(unit::Column::Category.eq(c.clone()));
    }
    if let Some(t) = &f.unit_type {
        cond = cond.add(unit::Column::UnitType.eq(t.clone()));
    }
    let q = unit::Entity::find().filter(cond);
    let total = q.clone().count(db).await?;
    let col = match f.sort {
        UnitSort::Name => unit::Column::NameSort,
        UnitSort::CreditCode => unit::Column::CreditCode,
        UnitSort::Agency => unit::Column::AgencyCode,
        UnitSort::Created => unit::Column::CreatedAt,
    };
    let q = if f.descending { q.order_by_desc(col) } else { q.order_by_asc(col) };
    let items = q.order_by_asc(unit::Column::Id).offset(page.offset()).limit(page.size).all(db).await?;
    Ok(Paged { items, total, page })
}

pub async fn count_in_scope(db: &impl ConnectionTrait, scope: Option<&[String]>) -> StoreResult<u64> {
    let mut q = unit::Entity::find().filter(unit::Column::Status.eq("active"));
    if let Some(s) = scope {
        q = q.filter(unit::Column::AgencyCode.is_in(s.to_vec()));
    }
    Ok(q.count(db).await?)
}

pub struct NewApplicant {
    pub id_number: String,
    pub name: String,
    pub sex: String,
    pub birth_date: String,
    pub mobile: String,
    pub unit_id: Option<i64>,
    pub work_type: Option<String>,
    pub current_level: Option<i32>,
    pub work_start_date: Option<String>,
    pub education: Option<String>,
}

fn applicant_row(a: NewApplicant, now: OffsetDateTime) -> applicant::ActiveModel {
    applicant::ActiveModel {
        id_number: Set(a.id_number),
        name_sort: Set(pinyin_key(&a.name)),
        name: Set(a.name),
        sex: Set(a.sex),
        birth_date: Set(a.birth_date),
        mobile: Set(a.mobile),
        unit_id: Set(a.unit_id),
        work_type: Set(a.work_type),
        current_level: Set(a.current_level),
        work_start_date: Set(a.work_start_date),
        education: Set(a.education),
        created_at: Set(to_ms(now)),
        ..Default::default()
    }
}

pub async fn create_applicant(db: &impl ConnectionTrait, a: NewApplicant, now: OffsetDateTime) -> StoreResult<i64> {
    Ok(applicant::Entity::insert(applicant_row(a, now)).exec(db).await.map_err(StoreError::classify)?.last_insert_id)
}

pub async fn insert_applicants(db: &impl ConnectionTrait, rows: Vec<NewApplicant>, now: OffsetDateTime) -> StoreResult<()> {
    let rows: Vec<applicant::ActiveModel> = rows.into_iter().map(|a| applicant_row(a, now)).collect();
    for chunk in rows.chunks(300) {
        applicant::Entity::insert_many(chunk.to_vec()).exec_without_returning(db).await.map_err(StoreError::classify)?;
    }
    Ok(())
}

/// Links a person who signed up on their own (no unit yet) to the unit that registers them.
/// Guarded on `unit_id IS NULL`, so a person of another unit is never moved by this.
pub async fn link_applicant_to_unit(db: &impl ConnectionTrait, applicant_id: i64, unit_id: i64) -> StoreResult<()> {
    let res = applicant::Entity::update_many()
        .col_expr(applicant::Column::UnitId, Expr::value(unit_id))
        .filter(applicant::Column::Id.eq(applicant_id))
        .filter(applicant::Column::UnitId.is_null())
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

pub async fn applicant(db: &impl ConnectionTrait, id: i64) -> StoreResult<Option<Applicant>> {
    Ok(applicant::Entity::find_by_id(id).one(db).await?)
}

/// The applicants of these ids, in id order (one query for a list's names).
pub async fn applicants_by_ids(db: &impl ConnectionTrait, ids: &[i64]) -> StoreResult<Vec<Applicant>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(applicant::Entity::find().filter(applicant::Column::Id.is_in(ids.to_vec())).order_by_asc(applicant::Column::Id).all(db).await?)
}

pub async fn applicant_by_id_number(db: &impl ConnectionTrait, id_number: &str) -> StoreResult<Option<Applicant>> {
    Ok(applicant::Entity::find().filter(applicant::Column::IdNumber.eq(id_number)).one(db).await?)
}

#[derive(Debug, Clone, Default)]
pub struct ApplicantFilter {
    pub unit_ids: Option<Vec<i64>>,
    pub scope_agencies: Option<Vec<String>>,
    pub name_contains: Option<String>,
    pub work_type: Option<String>,
}

fn applicants_filtered(f: &ApplicantFilter) -> sea_orm::Select<applicant::Entity> {
    let mut q = applicant::Entity::find();
    if let Some(ids) = &f.unit_ids {
        q = q.filter(applicant::Column::UnitId.is_in(ids.clone()));
    }
    if let Some(scope) = &f.scope_agencies {
        let sub = sea_orm::sea_query::Query::select()
            .column(unit::Column::Id)
            .from(unit::Entity)
            .and_where(unit::Column::AgencyCode.is_in(scope.clone()))
            .to_owned();
        q = q.filter(applicant::Column::UnitId.in_subquery(sub));
    }
    if let Some(n) = &f.name_contains {
        q = q.filter(applicant::Column::Name.contains(n));
    }
    if let Some(w) = &f.work_type {
        q = q.filter(applicant::Column::WorkType.eq(w.clone()));
    }
    q
}

pub async fn list_applicants(db: &impl ConnectionTrait, f: &ApplicantFilter, page: Page) -> StoreResult<Paged<Applicant>> {
    let q = applicants_filtered(f);
    let total = q.clone().count(db).await?;
    let items = q
        .order_by_asc(applicant::Column::NameSort)
        .order_by_asc(applicant::Column::Id)
        .offset(page.offset())
        .limit(page.size)
        .all(db)
        .await?;
    Ok(Paged { items, total, page })
}

/// Every matching applicant up to `limit`, with the unit name (for exports).
pub async fn all_applicants(db: &impl ConnectionTrait, f: &ApplicantFilter, limit: u64) -> StoreResult<Vec<(Applicant, Option<Unit>)>> {
    let people =
        applicants_filtered(f).order_by_asc(applicant::Column::NameSort).order_by_asc(applicant::Column::Id).limit(limit).all(db).await?;
    let ids: std::collections::BTreeSet<i64> = people.iter().filter_map(|a| a.unit_id).collect();
    let mut by_id = std::collections::BTreeMap::new();
    for chunk in ids.into_iter().collect::<Vec<_>>().chunks(500) {
        for u in unit::Entity::find().filter(unit::Column::Id.is_in(chunk.to_vec())).all(db).await? {
            by_id.insert(u.id, u);
        }
    }
    Ok(people
        .into_iter()
        .map(|a| {
            let u = a.unit_id.and_then(|id| by_id.get(&id).cloned());
            (a, u)
        })
        .collect())
}

/// (id, ID number) of every applicant, for seeding that needs ids after a bulk insert.
pub async fn applicant_ids(db: &impl ConnectionTrait) -> StoreResult<Vec<(i64, String)>> {
    Ok(applicant::Entity::find().select_only().columns([applicant::Column::Id, applicant::Column::IdNumber]).into_tuple().all(db).await?)
}
