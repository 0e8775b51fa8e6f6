//! Campaigns (考核年度): schedule windows, the agency tree, work-type catalogues, fee tables.
use gongkao_domain::campaign::{Schedule, Window, WindowKind};
use gongkao_domain::jurisdiction::{AgencyKind, AgencySeed};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use time::OffsetDateTime;

use crate::entity::{agency, agency_local_date, campaign, campaign_window, fee_item, level1_work_type, work_type, work_type_catalogue};
use crate::{StoreError, StoreResult, from_ms, to_ms};

pub use crate::entity::agency::Model as Agency;
pub use crate::entity::campaign::Model as Campaign;

/// Everything needed to create a campaign in one go.
pub struct NewCampaign {
    pub year: i32,
    pub title: String,
    pub doc_numbers: Vec<String>,
    pub rule_set_id: String,
    pub catalogue_id: i64,
    pub unit_name_lock_at: Option<OffsetDateTime>,
    pub status: &'static str,
    pub copied_from: Option<i64>,
    pub schedule: Schedule,
    pub agencies: Vec<AgencySeed>,
    pub level1_work_types: Vec<String>,
    /// (level 1..=5, fee item code, amount in fen)
    pub fees: Vec<(i32, String, i64)>,
}

pub async fn create(db: &impl ConnectionTrait, c: NewCampaign, now: OffsetDateTime) -> StoreResult<i64> {
    let row = campaign::ActiveModel {
        year: Set(c.year),
        title: Set(c.title),
        doc_numbers: Set(serde_json::to_string(&c.doc_numbers).unwrap_or_else(|_| "[]".to_owned())),
        rule_set_id: Set(c.rule_set_id),
        catalogue_id: Set(c.catalogue_id),
        unit_name_lock_at: Set(c.unit_name_lock_at.map(to_ms)),
        status: Set(c.status.to_owned()),
        copied_from: Set(c.copied_from),
        created_at: Set(to_ms(now)),
        ..Default::default()
    };
    let id = campaign::Entity::insert(row).exec(db).await.map_err(StoreError::classify)?.last_insert_id;
    for w in &c.schedule.windows {
        let row = campaign_window::ActiveModel {
            campaign_id: Set(id),
            kind: Set(w.kind.as_str().to_owned()),
            starts_at: Set(to_ms(w.starts_at)),
            ends_at: Set(to_ms(w.ends_at)),
            ..Default::default()
        };
        campaign_window::Entity::insert(row).exec_without_returning(db).await?;
    }
    let agencies: Vec<agency::ActiveModel> = c
        .agencies
        .into_iter()
        .map(|a| agency::ActiveModel {
            campaign_id: Set(id),
            code: Set(a.code),
            name: Set(a.name),
            region_name: Set(a.region_name),
            kind: Set(a.kind.as_str().to_owned()),
            parent_code: Set(a.parent_code),
            ..Default::default()
        })
        .collect();
    if !agencies.is_empty() {
        agency::Entity::insert_many(agencies).exec_without_returning(db).await?;
    }
    let l1: Vec<level1_work_type::ActiveModel> = c
        .level1_work_types
        .into_iter()
        .map(|name| level1_work_type::ActiveModel { campaign_id: Set(id), name: Set(name), ..Default::default() })
        .collect();
    if !l1.is_empty() {
        level1_work_type::Entity::insert_many(l1).exec_without_returning(db).await?;
    }
    for (level, item, amount) in c.fees {
        set_fee(db, id, level, &item, amount).await?;
    }
    Ok(id)
}

pub async fn by_year(db: &impl ConnectionTrait, year: i32) -> StoreResult<Option<Campaign>> {
    Ok(campaign::Entity::find().filter(campaign::Column::Year.eq(year)).one(db).await?)
}

pub async fn by_id(db: &impl ConnectionTrait, id: i64) -> StoreResult<Option<Campaign>> {
    Ok(campaign::Entity::find_by_id(id).one(db).await?)
}

/// The campaign the system works in: the newest active one, else the newest of any status.
pub async fn current(db: &impl ConnectionTrait) -> StoreResult<Option<Campaign>> {
    let active =
        campaign::Entity::find().filter(campaign::Column::Status.eq("active")).order_by_desc(campaign::Column::Year).one(db).await?;
    if active.is_some() {
        return Ok(active);
    }
    Ok(campaign::Entity::find().order_by_desc(campaign::Column::Year).one(db).await?)
}

pub async fn list(db: &impl ConnectionTrait) -> StoreResult<Vec<Campaign>> {
    Ok(campaign::Entity::find().order_by_desc(campaign::Column::Year).all(db).await?)
}

pub async fn set_status(db: &impl ConnectionTrait, id: i64, status: &str) -> StoreResult<()> {
    let row = campaign::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)?;
    let mut am: campaign::ActiveModel = row.into();
    am.status = Set(status.to_owned());
    am.update(db).await?;
    Ok(())
}

pub async fn update_header(
    db: &impl ConnectionTrait,
    id: i64,
    title: &str,
    doc_numbers: &[String],
    unit_name_lock_at: Option<OffsetDateTime>,
) -> StoreResult<()> {
    let row = campaign::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)?;
    let mut am: campaign::ActiveModel = row.into();
    am.title = Set(title.to_owned());
    am.doc_numbers = Set(serde_json::to_string(doc_numbers).unwrap_or_else(|_| "[]".to_owned()));
    am.unit_name_lock_at = Set(unit_name_lock_at.map(to_ms));
    am.update(db).await?;
    Ok(())
}

pub fn doc_numbers(c: &Campaign) -> Vec<String> {
    serde_json::from_str(&c.doc_numbers).unwrap_or_default()
}

pub async fn schedule(db: &impl ConnectionTrait, campaign_id: i64) -> StoreResult<Schedule> {
    let rows = campaign_window::Entity::find()
        .filter(campaign_window::Column::CampaignId.eq(campaign_id))
        .order_by_asc(campaign_window::Column::StartsAt)
        .all(db)
        .await?;
    let windows = rows
        .into_iter()
        .filter_map(|r| {
            WindowKind::parse(&r.kind).map(|kind| Window { kind, starts_at: from_ms(r.starts_at), ends_at: from_ms(r.ends_at) })
        })
        .collect();
    Ok(Schedule { windows })
}

pub async fn set_window(db: &impl ConnectionTrait, campaign_id: i64, w: &Window) -> StoreResult<()> {
    let existing = campaign_window::Entity::find()
        .filter(campaign_window::Column::CampaignId.eq(campaign_id))
        .filter(campaign_window::Column::Kind.eq(w.kind.as_str()))
        .one(db)
        .await?;
    match existing {
        Some(row) => {
            let mut am: campaign_window::ActiveModel = row.into();
            am.starts_at = Set(to_ms(w.starts_at));
            am.ends_at = Set(to_ms(w.ends_at));
            am.update(db).await?;
        }
        None => {
            let am = campaign_window::ActiveModel {
                campaign_id: Set(campaign_id),
                kind: Set(w.kind.as_str().to_owned()),
                starts_at: Set(to_ms(w.starts_at)),
                ends_at: Set(to_ms(w.ends_at)),
                ..Default::default()
            };
            campaign_window::Entity::insert(am).exec_without_returning(db).await?;
        }
    }
    Ok(())
}

pub async fn agencies(db: &impl ConnectionTrait, campaign_id: i64) -> StoreResult<Vec<Agency>> {
    Ok(agency::Entity::find().filter(agency::Column::CampaignId.eq(campaign_id)).order_by_asc(agency::Column::Code).all(db).await?)
}

pub fn agency_seed(a: &Agency) -> Option<AgencySeed> {
    Some(AgencySeed {
        code: a.code.clone(),
        name: a.name.clone(),
        kind: AgencyKind::parse(&a.kind)?,
        parent_code: a.parent_code.clone(),
        region_name: a.region_name.clone(),
    })
}

pub async fn level1_work_types(db: &impl ConnectionTrait, campaign_id: i64) -> StoreResult<Vec<String>> {
    let rows = level1_work_type::Entity::find()
        .filter(level1_work_type::Column::CampaignId.eq(campaign_id))
        .order_by_asc(level1_work_type::Column::Id)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|r| r.name).collect())
}

pub async fn fees(db: &impl ConnectionTrait, campaign_id: i64) -> StoreResult<Vec<fee_item::Model>> {
    Ok(fee_item::Entity::find()
        .filter(fee_item::Column::CampaignId.eq(campaign_id))
        .order_by_asc(fee_item::Column::Level)
        .order_by_asc(fee_item::Column::Item)
        .all(db)
        .await?)
}

pub async fn set_fee(db: &impl ConnectionTrait, campaign_id: i64, level: i32, item: &str, amount_fen: i64) -> StoreResult<()> {
    let existing = fee_item::Entity::find()
        .filter(fee_item::Column::CampaignId.eq(campaign_id))
        .filter(fee_item::Column::Level.eq(level))
        .filter(fee_item::Column::Item.eq(item))
        .one(db)
        .await?;
    match existing {
        Some(row) => {
            let mut am: fee_item::ActiveModel = row.into();
            am.amount_fen = Set(amount_fen);
            am.update(db).await?;
        }
        None => {
            let am = fee_item::ActiveModel {
                campaign_id: Set(campaign_id),
                level: Set(level),
                item: Set(item.to_owned()),
                amount_fen: Set(amount_fen),
                ..Default::default()
            };
            fee_item::Entity::insert(am).exec_without_returning(db).await?;
        }
    }
    Ok(())
}

pub async fn local_dates(db: &impl ConnectionTrait, campaign_id: i64) -> StoreResult<Vec<agency_local_date::Model>> {
    Ok(agency_local_date::Entity::find()
        .filter(agency_local_date::Column::CampaignId.eq(campaign_id))
        .order_by_asc(agency_local_date::Column::AgencyCode)
        .all(db)
        .await?)
}

#[allow(clippy::too_many_arguments)]
pub async fn set_local_date(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    agency_code: &str,
    kind: &str,
    starts_on: &str,
    ends_on: &str,
    by: &str,
    now: OffsetDateTime,
) -> StoreResult<Option<(String, String)>> {
    let existing = agency_local_date::Entity::find()
        .filter(agency_local_date::Column::CampaignId.eq(campaign_id))
        .filter(agency_local_date::Column::AgencyCode.eq(agency_code))
        .filter(agency_local_date::Column::Kind.eq(kind))
        .one(db)
        .await?;
    match existing {
        Some(row) => {
            let before = (row.starts_on.clone(), row.ends_on.clone());
            let mut am: agency_local_date::ActiveModel = row.into();
            am.starts_on = Set(starts_on.to_owned());
            am.ends_on = Set(ends_on.to_owned());
            am.updated_at = Set(to_ms(now));
            am.updated_by = Set(by.to_owned());
            am.update(db).await?;
            Ok(Some(before))
        }
        None => {
            let am = agency_local_date::ActiveModel {
                campaign_id: Set(campaign_id),
                agency_code: Set(agency_code.to_owned()),
                kind: Set(kind.to_owned()),
                starts_on: Set(starts_on.to_owned()),
                ends_on: Set(ends_on.to_owned()),
                updated_at: Set(to_ms(now)),
                updated_by: Set(by.to_owned()),
                ..Default::default()
            };
            agency_local_date::Entity::insert(am).exec_without_returning(db).await?;
            Ok(None)
        }
    }
}

pub async fn catalogue_by_doc(db: &impl ConnectionTrait, doc_number: &str) -> StoreResult<Option<work_type_catalogue::Model>> {
    Ok(work_type_catalogue::Entity::find().filter(work_type_catalogue::Column::DocNumber.eq(doc_number)).one(db).await?)
}

pub async fn catalogue_by_id(db: &impl ConnectionTrait, id: i64) -> StoreResult<Option<work_type_catalogue::Model>> {
    Ok(work_type_catalogue::Entity::find_by_id(id).one(db).await?)
}

pub async fn create_catalogue(
    db: &impl ConnectionTrait,
    doc_number: &str,
    title: &str,
    names: &[String],
    now: OffsetDateTime,
) -> StoreResult<i64> {
    let am = work_type_catalogue::ActiveModel {
        doc_number: Set(doc_number.to_owned()),
        title: Set(title.to_owned()),
        created_at: Set(to_ms(now)),
        ..Default::default()
    };
    let id = work_type_catalogue::Entity::insert(am).exec(db).await.map_err(StoreError::classify)?.last_insert_id;
    add_work_types(db, id, names).await?;
    Ok(id)
}

/// Adds names not yet in the catalogue; returns how many were new.
pub async fn add_work_types(db: &impl ConnectionTrait, catalogue_id: i64, names: &[String]) -> StoreResult<usize> {
    let existing: std::collections::BTreeSet<String> = work_types(db, catalogue_id).await?.into_iter().collect();
    let mut seen = std::collections::BTreeSet::new();
    let new: Vec<work_type::ActiveModel> = names
        .iter()
        .filter(|n| !existing.contains(*n) && seen.insert((*n).clone()))
        .map(|n| work_type::ActiveModel { catalogue_id: Set(catalogue_id), name: Set(n.clone()), ..Default::default() })
        .collect();
    let count = new.len();
    for chunk in new.chunks(500) {
        work_type::Entity::insert_many(chunk.to_vec()).exec_without_returning(db).await?;
    }
    Ok(count)
}

pub async fn work_types(db: &impl ConnectionTrait, catalogue_id: i64) -> StoreResult<Vec<String>> {
    let rows = work_type::Entity::find()
        .filter(work_type::Column::CatalogueId.eq(catalogue_id))
        .order_by_asc(work_type::Column::Id)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|r| r.name).collect())
}

/// Makes a draft campaign the active one and archives the one it replaces, in one transaction
/// (the caller's). Guarded: only a draft can be activated.
pub async fn activate(db: &impl ConnectionTrait, id: i64) -> StoreResult<Option<i64>> {
    use sea_orm::sea_query::Expr;
    let previous = campaign::Entity::find().filter(campaign::Column::Status.eq("active")).one(db).await?;
    if let Some(p) = &previous {
        campaign::Entity::update_many()
            .col_expr(campaign::Column::Status, Expr::value("archived"))
            .filter(campaign::Column::Id.eq(p.id))
            .filter(campaign::Column::Status.eq("active"))
            .exec(db)
            .await?;
    }
    let res = campaign::Entity::update_many()
        .col_expr(campaign::Column::Status, Expr::value("active"))
        .filter(campaign::Column::Id.eq(id))
        .filter(campaign::Column::Status.eq("draft"))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(previous.map(|p| p.id))
}

pub async fn add_agency(db: &impl ConnectionTrait, campaign_id: i64, a: AgencySeed) -> StoreResult<()> {
    let am = agency::ActiveModel {
        campaign_id: Set(campaign_id),
        code: Set(a.code),
        name: Set(a.name),
        region_name: Set(a.region_name),
        kind: Set(a.kind.as_str().to_owned()),
        parent_code: Set(a.parent_code),
        ..Default::default()
    };
    agency::Entity::insert(am).exec_without_returning(db).await.map_err(StoreError::classify)?;
    Ok(())
}

pub async fn rename_agency(db: &impl ConnectionTrait, campaign_id: i64, code: &str, name: &str, region_name: &str) -> StoreResult<()> {
    use sea_orm::sea_query::Expr;
    let res = agency::Entity::update_many()
        .col_expr(agency::Column::Name, Expr::value(name))
        .col_expr(agency::Column::RegionName, Expr::value(region_name))
        .filter(agency::Column::CampaignId.eq(campaign_id))
        .filter(agency::Column::Code.eq(code))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn remove_agency(db: &impl ConnectionTrait, campaign_id: i64, code: &str) -> StoreResult<()> {
    let res = agency::Entity::delete_many()
        .filter(agency::Column::CampaignId.eq(campaign_id))
        .filter(agency::Column::Code.eq(code))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
