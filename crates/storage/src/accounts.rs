//! Accounts, sessions and login throttling. Password hashes are produced and checked by the
//! web layer; this module only stores them.
use gongkao_domain::paging::{Page, Paged};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::Expr,
};
use time::OffsetDateTime;

use crate::entity::{account, ip_throttle, session};
use crate::{StoreError, StoreResult, to_ms};

pub use crate::entity::account::Model as Account;
pub use crate::entity::session::Model as Session;

#[derive(Debug, Clone, Default)]
pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub agency_code: Option<String>,
    pub unit_id: Option<i64>,
    pub applicant_id: Option<i64>,
    pub holder_id_number: Option<String>,
    pub mobile: Option<String>,
    pub password_hash: Option<String>,
    pub must_change_password: bool,
}

fn account_row(a: NewAccount, now: OffsetDateTime) -> account::ActiveModel {
    account::ActiveModel {
        username: Set(a.username.to_lowercase()),
        display_name: Set(a.display_name),
        role: Set(a.role),
        agency_code: Set(a.agency_code),
        unit_id: Set(a.unit_id),
        applicant_id: Set(a.applicant_id),
        holder_id_number: Set(a.holder_id_number),
        mobile: Set(a.mobile),
        password_hash: Set(a.password_hash),
        must_change_password: Set(a.must_change_password),
        status: Set("active".to_owned()),
        failed_logins: Set(0),
        locked_until: Set(None),
        last_login_at: Set(None),
        password_changed_at: Set(Some(to_ms(now))),
        created_at: Set(to_ms(now)),
        ..Default::default()
    }
}

pub async fn create(db: &impl ConnectionTrait, a: NewAccount, now: OffsetDateTime) -> StoreResult<i64> {
    Ok(account::Entity::insert(account_row(a, now)).exec(db).await.map_err(StoreError::classify)?.last_insert_id)
}

pub async fn insert_many(db: &impl ConnectionTrait, rows: Vec<NewAccount>, now: OffsetDateTime) -> StoreResult<()> {
    let rows: Vec<account::ActiveModel> = rows.into_iter().map(|a| account_row(a, now)).collect();
    for chunk in rows.chunks(300) {
        account::Entity::insert_many(chunk.to_vec()).exec_without_returning(db).await.map_err(StoreError::classify)?;
    }
    Ok(())
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> StoreResult<Option<Account>> {
    Ok(account::Entity::find_by_id(id).one(db).await?)
}

pub async fn by_username(db: &impl ConnectionTrait, username: &str) -> StoreResult<Option<Account>> {
    Ok(account::Entity::find().filter(account::Column::Username.eq(username.trim().to_lowercase())).one(db).await?)
}

pub async fn by_holder(db: &impl ConnectionTrait, holder_id_number: &str) -> StoreResult<Vec<Account>> {
    Ok(account::Entity::find()
        .filter(account::Column::HolderIdNumber.eq(holder_id_number))
        .filter(account::Column::Status.eq("active"))
        .all(db)
        .await?)
}

pub async fn active_unit_admins(db: &impl ConnectionTrait, unit_id: i64) -> StoreResult<Vec<Account>> {
    Ok(account::Entity::find()
        .filter(account::Column::UnitId.eq(unit_id))
        .filter(account::Column::Role.eq("unit_admin"))
        .filter(account::Column::Status.eq("active"))
        .all(db)
        .await?)
}

#[derive(Debug, Clone, Default)]
pub struct AccountFilter {
    pub role: Option<String>,
    pub agency_code: Option<String>,
    pub username_contains: Option<String>,
    pub status: Option<String>,
    /// Applicant accounts are numerous and personal; staff lists leave them out unless asked.
    pub include_applicants: bool,
}

pub async fn list(db: &impl ConnectionTrait, f: &AccountFilter, page: Page) -> StoreResult<Paged<Account>> {
    let mut cond = Condition::all();
    if let Some(r) = &f.role {
        cond = cond.add(account::Column::Role.eq(r.clone()));
    } else if !f.include_applicants {
        cond = cond.add(account::Column::Role.ne("applicant"));
    }
    if let Some(a) = &f.agency_code {
        cond = cond.add(account::Column::AgencyCode.eq(a.clone()));
    }
    if let Some(u) = &f.username_contains {
        cond = cond.add(account::Column::Username.contains(u.to_lowercase()));
    }
    if let Some(s) = &f.status {
        cond = cond.add(account::Column::Status.eq(s.clone()));
    }
    let q = account::Entity::find().filter(cond);
    let total = q.clone().count(db).await?;
    let items = q.order_by_asc(account::Column::Username).offset(page.offset()).limit(page.size).all(db).await?;
    Ok(Paged { items, total, page })
}

pub async fn set_password(db: &impl ConnectionTrait, id: i64, hash: &str, must_change: bool, now: OffsetDateTime) -> StoreResult<()> {
    let res = account::Entity::update_many()
        .col_expr(account::Column::PasswordHash, Expr::value(hash))
        .col_expr(account::Column::MustChangePassword, Expr::value(must_change))
        .col_expr(account::Column::PasswordChangedAt, Expr::value(to_ms(now)))
        .col_expr(account::Column::FailedLogins, Expr::value(0))
        .col_expr(account::Column::LockedUntil, Expr::value(Option::<i64>::None))
        .filter(account::Column::Id.eq(id))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Guarded status change: `from` must be the current status.
pub async fn set_status(db: &impl ConnectionTrait, id: i64, from: &str, to: &str) -> StoreResult<()> {
    let res = account::Entity::update_many()
        .col_expr(account::Column::Status, Expr::value(to))
        .filter(account::Column::Id.eq(id))
        .filter(account::Column::Status.eq(from))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

pub async fn record_failed_login(
    db: &impl ConnectionTrait,
    id: i64,
    failures: i32,
    locked_until: Option<OffsetDateTime>,
) -> StoreResult<()> {
    account::Entity::update_many()
        .col_expr(account::Column::FailedLogins, Expr::value(failures))
        .col_expr(account::Column::LockedUntil, Expr::value(locked_until.map(to_ms)))
        .filter(account::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn record_login(db: &impl ConnectionTrait, id: i64, now: OffsetDateTime) -> StoreResult<()> {
    account::Entity::update_many()
        .col_expr(account::Column::FailedLogins, Expr::value(0))
        .col_expr(account::Column::LockedUntil, Expr::value(Option::<i64>::None))
        .col_expr(account::Column::LastLoginAt, Expr::value(to_ms(now)))
        .filter(account::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn create_session(db: &impl ConnectionTrait, s: Session) -> StoreResult<()> {
    let am = session::ActiveModel {
        id_hash: Set(s.id_hash),
        account_id: Set(s.account_id),
        csrf_token: Set(s.csrf_token),
        created_at: Set(s.created_at),
        last_seen_at: Set(s.last_seen_at),
        expires_at: Set(s.expires_at),
        client_ip: Set(s.client_ip),
    };
    session::Entity::insert(am).exec_without_returning(db).await?;
    Ok(())
}

pub async fn session(db: &impl ConnectionTrait, id_hash: &str) -> StoreResult<Option<Session>> {
    Ok(session::Entity::find_by_id(id_hash.to_owned()).one(db).await?)
}

pub async fn touch_session(db: &impl ConnectionTrait, id_hash: &str, now: OffsetDateTime) -> StoreResult<()> {
    session::Entity::update_many()
        .col_expr(session::Column::LastSeenAt, Expr::value(to_ms(now)))
        .filter(session::Column::IdHash.eq(id_hash))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn delete_session(db: &impl ConnectionTrait, id_hash: &str) -> StoreResult<()> {
    session::Entity::delete_by_id(id_hash.to_owned()).exec(db).await?;
    Ok(())
}

/// Ends every session of an account (password change, disabling, admin change).
pub async fn delete_sessions_of(db: &impl ConnectionTrait, account_id: i64) -> StoreResult<u64> {
    Ok(session::Entity::delete_many().filter(session::Column::AccountId.eq(account_id)).exec(db).await?.rows_affected)
}

pub async fn purge_expired_sessions(db: &impl ConnectionTrait, now: OffsetDateTime) -> StoreResult<u64> {
    Ok(session::Entity::delete_many().filter(session::Column::ExpiresAt.lt(to_ms(now))).exec(db).await?.rows_affected)
}

pub async fn ip_throttle(db: &impl ConnectionTrait, ip: &str) -> StoreResult<Option<ip_throttle::Model>> {
    Ok(ip_throttle::Entity::find_by_id(ip.to_owned()).one(db).await?)
}

pub async fn set_ip_throttle(db: &impl ConnectionTrait, row: ip_throttle::Model) -> StoreResult<()> {
    let exists = ip_throttle::Entity::find_by_id(row.ip.clone()).one(db).await?.is_some();
    let am = ip_throttle::ActiveModel {
        ip: Set(row.ip),
        failures: Set(row.failures),
        window_started_at: Set(row.window_started_at),
        locked_until: Set(row.locked_until),
    };
    if exists {
        ip_throttle::Entity::update(am).exec(db).await?;
    } else {
        ip_throttle::Entity::insert(am).exec_without_returning(db).await?;
    }
    Ok(())
}

pub async fn clear_ip_throttle(db: &impl ConnectionTrait, ip: &str) -> StoreResult<()> {
    ip_throttle::Entity::delete_by_id(ip.to_owned()).exec(db).await?;
    Ok(())
}

pub async fn count_by_role(db: &impl ConnectionTrait) -> StoreResult<Vec<(String, i64)>> {
    let rows: Vec<(String, i64)> = account::Entity::find()
        .select_only()
        .column(account::Column::Role)
        .column_as(account::Column::Id.count(), "n")
        .group_by(account::Column::Role)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows)
}
