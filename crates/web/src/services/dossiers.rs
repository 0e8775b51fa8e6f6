//! Level-1 dossiers (档案材料): the agency records which papers of a level-1 applicant arrived;
//! the unit and the applicant see the state on the application.
use gongkao_domain::application::ApplicationStatus;
use gongkao_domain::campaign::Level;
use gongkao_domain::dossier::{DossierItem, DossierState, assess, required_items};
use gongkao_domain::eligibility::PersonFacts;
use gongkao_storage::applications::{self, Application, NewEvent};
use gongkao_storage::audit;

use super::Actor;
use crate::AppState;
use crate::error::{AppError, AppResult};

/// What a dossier needs for this application: the CN paper where its rule set asks for one
/// (2020), award certificates where awards are stated.
pub fn required_for(a: &Application) -> Vec<DossierItem> {
    let facts: PersonFacts = serde_json::from_str(&a.facts).unwrap_or_default();
    required_items(a.rule_set_id == "HN-GK-2020", !facts.achievements.is_empty())
}

pub fn is_level1(a: &Application) -> bool {
    u8::try_from(a.target_level).ok().and_then(Level::from_number) == Some(Level::L1)
}

/// Dossiers arrive after the unit's approval; before that there is nothing to record.
pub fn accepts_dossier(a: &Application) -> bool {
    is_level1(a)
        && ApplicationStatus::parse(&a.status).is_some_and(|s| {
            matches!(
                s,
                ApplicationStatus::UnitApproved
                    | ApplicationStatus::AgencyApproved
                    | ApplicationStatus::OnSiteRequired
                    | ApplicationStatus::OnSiteConfirmed
                    | ApplicationStatus::Paid
                    | ApplicationStatus::Admitted
            )
        })
}

pub async fn record(state: &AppState, actor: &Actor, id: i64, received: &[String], note: &str, version: i32) -> AppResult<()> {
    let db = state.store().conn();
    let app = applications::get(db, id).await?.ok_or(AppError::NotFound)?;
    if !accepts_dossier(&app) {
        return Err(AppError::Conflict("只有单位初审通过后的一级（高级技师）申报需要登记档案材料".to_owned()));
    }
    let mut items = Vec::new();
    for r in received {
        match DossierItem::parse(r) {
            Some(i) if !items.contains(&i) => items.push(i),
            Some(_) => {}
            None => return Err(AppError::field("received", "档案材料：含有无法识别的材料项目")),
        }
    }
    let note = note.trim();
    if note.chars().count() > 300 {
        return Err(AppError::field("note", "备注：不超过 300 字"));
    }
    let (dossier_state, missing) = assess(&required_for(&app), &items);
    let codes: Vec<&str> = items.iter().map(|i| i.as_str()).collect();
    let now = state.now();
    let tx = state.store().write().await?;
    applications::save_dossier(
        tx.conn(),
        id,
        version,
        applications::DossierEntry {
            received: &serde_json::to_string(&codes).unwrap_or_else(|_| "[]".to_owned()),
            state: dossier_state.as_str(),
            note,
            by: &actor.username,
        },
        now,
    )
    .await
    .map_err(|e| match e {
        gongkao_storage::StoreError::Conflict => AppError::Conflict("已被他人处理，请刷新".to_owned()),
        other => other.into(),
    })?;
    let summary = match dossier_state {
        DossierState::Complete => dossier_state.label().to_owned(),
        _ => format!("{}，缺：{}", dossier_state.label(), missing.iter().map(|i| i.label()).collect::<Vec<_>>().join("、")),
    };
    applications::add_event(
        tx.conn(),
        NewEvent {
            application_id: id,
            actor: &actor.username,
            action: "dossier",
            from_status: &app.status,
            to_status: &app.status,
            reason: &summary,
            facts_before: None,
        },
        now,
    )
    .await?;
    audit::append(&tx, now, actor.record("application.dossier", format!("application:{id}"), summary)).await?;
    tx.commit().await?;
    Ok(())
}

/// The dossier as the pages show it: (state, items with required/received flags, note, version).
pub struct DossierView {
    pub state: &'static str,
    pub items: Vec<(&'static str, &'static str, bool, bool)>,
    pub missing: String,
    pub note: String,
    pub checked: String,
    pub version: i32,
}

pub async fn view(state: &AppState, a: &Application) -> AppResult<Option<DossierView>> {
    if !accepts_dossier(a) {
        return Ok(None);
    }
    let d = applications::dossier(state.store().conn(), a.id).await?;
    let received: Vec<DossierItem> = d
        .as_ref()
        .and_then(|d| serde_json::from_str::<Vec<String>>(&d.received).ok())
        .unwrap_or_default()
        .iter()
        .filter_map(|c| DossierItem::parse(c))
        .collect();
    let required = required_for(a);
    let (st, missing) = assess(&required, &received);
    Ok(Some(DossierView {
        state: st.label(),
        items: DossierItem::ALL.iter().map(|i| (i.as_str(), i.label(), required.contains(i), received.contains(i))).collect(),
        missing: missing.iter().map(|i| i.label()).collect::<Vec<_>>().join("、"),
        note: d.as_ref().map(|d| d.note.clone()).unwrap_or_default(),
        checked: d
            .as_ref()
            .map(|d| {
                format!("{} 于 {} 登记", d.checked_by, gongkao_domain::campaign::format_shanghai(gongkao_storage::from_ms(d.checked_at)))
            })
            .unwrap_or_default(),
        version: d.map_or(0, |d| d.version),
    }))
}
