//! Settings, unit-admin registration forms (附件2), verification codes and API tokens.
use gongkao_domain::paging::{Page, Paged};
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::Expr,
};
use time::OffsetDateTime;

use crate::entity::{api_token, setting, unit_admin_request, verification_code};
use crate::{StoreError, StoreResult, to_ms};

pub use crate::entity::api_token::Model as ApiToken;
pub use crate::entity::unit_admin_request::Model as UnitAdminRequest;

pub async fn settings(db: &impl ConnectionTrait) -> StoreResult<Vec<setting::Model>> {
    Ok(setting::Entity::find().order_by_asc(setting::Column::Key).all(db).await?)
}

pub async fn setting(db: &impl ConnectionTrait, key: &str) -> StoreResult<Option<String>> {
    Ok(setting::Entity::find_by_id(key.to_owned()).one(db).await?.map(|s| s.value))
}

pub async fn put_setting(db: &impl ConnectionTrait, key: &str, value: &str, by: &str, now: OffsetDateTime) -> StoreResult<Option<String>> {
    let existing = setting::Entity::find_by_id(key.to_owned()).one(db).await?;
    let before = existing.as_ref().map(|s| s.value.clone());
    let am = setting::ActiveModel {
        key: Set(key.to_owned()),
        value: Set(value.to_owned()),
        updated_at: Set(to_ms(now)),
        updated_by: Set(by.to_owned()),
    };
    if existing.is_some() {
        setting::Entity::update(am).exec(db).await?;
    } else {
        setting::Entity::insert(am).exec_without_returning(db).await?;
    }
    Ok(before)
}

pub struct NewUnitAdminRequest {
    pub reference_no: String,
    pub campaign_id: i64,
    pub existing_unit_id: Option<i64>,
    pub unit_name: String,
    pub credit_code: String,
    pub unit_type: String,
    pub category: String,
    pub supervising_department: String,
    pub agency_code: String,
    pub person_name: String,
    pub sex: String,
    pub department: String,
    pub post: String,
    pub office_phone: String,
    pub mobile: String,
}

pub async fn create_unit_admin_request(db: &impl ConnectionTrait, r: NewUnitAdminRequest, now: OffsetDateTime) -> StoreResult<i64> {
    let am = unit_admin_request::ActiveModel {
        reference_no: Set(r.reference_no),
        campaign_id: Set(r.campaign_id),
        existing_unit_id: Set(r.existing_unit_id),
        unit_name: Set(r.unit_name),
        credit_code: Set(r.credit_code),
        unit_type: Set(r.unit_type),
        category: Set(r.category),
        supervising_department: Set(r.supervising_department),
        agency_code: Set(r.agency_code),
        person_name: Set(r.person_name),
        sex: Set(r.sex),
        department: Set(r.department),
        post: Set(r.post),
        office_phone: Set(r.office_phone),
        mobile: Set(r.mobile),
        status: Set("pending".to_owned()),
        submitted_at: Set(to_ms(now)),
        ..Default::default()
    };
    Ok(unit_admin_request::Entity::insert(am).exec(db).await.map_err(StoreError::classify)?.last_insert_id)
}

pub async fn unit_admin_request(db: &impl ConnectionTrait, id: i64) -> StoreResult<Option<UnitAdminRequest>> {
    Ok(unit_admin_request::Entity::find_by_id(id).one(db).await?)
}

pub async fn unit_admin_request_by_ref(db: &impl ConnectionTrait, reference_no: &str) -> StoreResult<Option<UnitAdminRequest>> {
    Ok(unit_admin_request::Entity::find().filter(unit_admin_request::Column::ReferenceNo.eq(reference_no)).one(db).await?)
}

pub async fn list_unit_admin_requests(
    db: &impl ConnectionTrait,
    scope: Option<&[String]>,
    status: Option<&str>,
    page: Page,
) -> StoreResult<Paged<UnitAdminRequest>> {
    let mut cond = Condition::all();
    if let Some(s) = scope {
        cond = cond.add(unit_admin_request::Column::AgencyCode.is_in(s.to_vec()));
    }
    if let Some(st) = status {
        cond = cond.add(unit_admin_request::Column::Status.eq(st));
    }
    let q = unit_admin_request::Entity::find().filter(cond);
    let total = q.clone().count(db).await?;
    let items = q.order_by_desc(unit_admin_request::Column::SubmittedAt).offset(page.offset()).limit(page.size).all(db).await?;
    Ok(Paged { items, total, page })
}

/// Guarded decision: only a pending request can be decided, once.
#[allow(clippy::too_many_arguments)]
pub async fn decide_unit_admin_request(
    db: &impl ConnectionTrait,
    id: i64,
    status: &str,
    by: &str,
    reason: Option<&str>,
    account_id: Option<i64>,
    existing_unit_id: Option<i64>,
    now: OffsetDateTime,
) -> StoreResult<()> {
    let res = unit_admin_request::Entity::update_many()
        .col_expr(unit_admin_request::Column::Status, Expr::value(status))
        .col_expr(unit_admin_request::Column::DecidedBy, Expr::value(by))
        .col_expr(unit_admin_request::Column::DecidedAt, Expr::value(to_ms(now)))
        .col_expr(unit_admin_request::Column::DecisionReason, Expr::value(reason.map(str::to_owned)))
        .col_expr(unit_admin_request::Column::AccountId, Expr::value(account_id))
        .col_expr(unit_admin_request::Column::ExistingUnitId, Expr::value(existing_unit_id))
        .filter(unit_admin_request::Column::Id.eq(id))
        .filter(unit_admin_request::Column::Status.eq("pending"))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

pub async fn store_verification_code(
    db: &impl ConnectionTrait,
    purpose: &str,
    mobile: &str,
    code_hash: &str,
    now: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> StoreResult<()> {
    let am = verification_code::ActiveModel {
        purpose: Set(purpose.to_owned()),
        mobile: Set(mobile.to_owned()),
        code_hash: Set(code_hash.to_owned()),
        created_at: Set(to_ms(now)),
        expires_at: Set(to_ms(expires_at)),
        used_at: Set(None),
        attempts: Set(0),
        ..Default::default()
    };
    verification_code::Entity::insert(am).exec_without_returning(db).await?;
    Ok(())
}

/// The newest unused, unexpired code for this mobile and purpose.
pub async fn live_verification_code(
    db: &impl ConnectionTrait,
    purpose: &str,
    mobile: &str,
    now: OffsetDateTime,
) -> StoreResult<Option<verification_code::Model>> {
    Ok(verification_code::Entity::find()
        .filter(verification_code::Column::Purpose.eq(purpose))
        .filter(verification_code::Column::Mobile.eq(mobile))
        .filter(verification_code::Column::UsedAt.is_null())
        .filter(verification_code::Column::ExpiresAt.gt(to_ms(now)))
        .order_by_desc(verification_code::Column::Id)
        .one(db)
        .await?)
}

pub async fn count_recent_codes(db: &impl ConnectionTrait, mobile: &str, since: OffsetDateTime) -> StoreResult<u64> {
    Ok(verification_code::Entity::find()
        .filter(verification_code::Column::Mobile.eq(mobile))
        .filter(verification_code::Column::CreatedAt.gte(to_ms(since)))
        .count(db)
        .await?)
}

pub async fn bump_code_attempts(db: &impl ConnectionTrait, id: i64) -> StoreResult<()> {
    verification_code::Entity::update_many()
        .col_expr(verification_code::Column::Attempts, Expr::col(verification_code::Column::Attempts).add(Expr::value(1)))
        .filter(verification_code::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn use_code(db: &impl ConnectionTrait, id: i64, now: OffsetDateTime) -> StoreResult<()> {
    let res = verification_code::Entity::update_many()
        .col_expr(verification_code::Column::UsedAt, Expr::value(to_ms(now)))
        .filter(verification_code::Column::Id.eq(id))
        .filter(verification_code::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

pub struct NewApiToken {
    pub name: String,
    pub token_hash: String,
    pub role: String,
    pub agency_code: Option<String>,
    pub unit_id: Option<i64>,
    pub created_by: String,
}

pub async fn create_api_token(db: &impl ConnectionTrait, t: NewApiToken, now: OffsetDateTime) -> StoreResult<i64> {
    let am = api_token::ActiveModel {
        name: Set(t.name),
        token_hash: Set(t.token_hash),
        role: Set(t.role),
        agency_code: Set(t.agency_code),
        unit_id: Set(t.unit_id),
        created_by: Set(t.created_by),
        created_at: Set(to_ms(now)),
        revoked_at: Set(None),
        last_used_at: Set(None),
        ..Default::default()
    };
    Ok(api_token::Entity::insert(am).exec(db).await.map_err(StoreError::classify)?.last_insert_id)
}

pub async fn api_token_by_hash(db: &impl ConnectionTrait, hash: &str) -> StoreResult<Option<ApiToken>> {
    Ok(api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(hash))
        .filter(api_token::Column::RevokedAt.is_null())
        .one(db)
        .await?)
}

pub async fn api_tokens(db: &impl ConnectionTrait) -> StoreResult<Vec<ApiToken>> {
    Ok(api_token::Entity::find().order_by_desc(api_token::Column::Id).all(db).await?)
}

pub async fn api_token(db: &impl ConnectionTrait, id: i64) -> StoreResult<Option<ApiToken>> {
    Ok(api_token::Entity::find_by_id(id).one(db).await?)
}

pub async fn revoke_api_token(db: &impl ConnectionTrait, id: i64, now: OffsetDateTime) -> StoreResult<()> {
    let res = api_token::Entity::update_many()
        .col_expr(api_token::Column::RevokedAt, Expr::value(to_ms(now)))
        .filter(api_token::Column::Id.eq(id))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

pub async fn touch_api_token(db: &impl ConnectionTrait, id: i64, now: OffsetDateTime) -> StoreResult<()> {
    api_token::Entity::update_many()
        .col_expr(api_token::Column::LastUsedAt, Expr::value(to_ms(now)))
        .filter(api_token::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}
