//! The two rosters a unit prints after the online review and brings, stamped, to the agency
//! with the fees (2020 notice §五(三)): 网上资格审查通过人员名册 and 需现场审查人员名册. PDF
//! (with the documents crate) and XLSX carry the same rows. Rosters carry full ID numbers,
//! because the agency matches them against its records, so every print is an audited export
//! of personal data.
use std::sync::OnceLock;

use gongkao_documents::{Documents, RosterDoc};
use gongkao_domain::application::ApplicationStatus;
use gongkao_domain::campaign::{Level, format_shanghai};
use gongkao_domain::person::Sex;
use gongkao_storage::{applications, audit, units};

use super::Actor;
use crate::AppState;
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RosterKind {
    /// Passed the online review: no on-site check.
    PassedOnline,
    /// Must come to the on-site check (需现场审查).
    OnSite,
}

impl RosterKind {
    pub fn parse(s: &str) -> AppResult<RosterKind> {
        match s {
            "passed" => Ok(RosterKind::PassedOnline),
            "on_site" => Ok(RosterKind::OnSite),
            _ => Err(AppError::field("kind", "名册类型：请选择“网上资格审查通过人员名册”或“需现场审查人员名册”")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RosterKind::PassedOnline => "passed",
            RosterKind::OnSite => "on_site",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            RosterKind::PassedOnline => "网上资格审查通过人员名册",
            RosterKind::OnSite => "需现场审查人员名册",
        }
    }

    /// The states whose applications the roster lists: where the online review put them, and
    /// what followed from there (payment, admission, the on-site confirmation).
    fn statuses(self) -> &'static [&'static str] {
        match self {
            RosterKind::PassedOnline => &["agency_approved", "paid", "admitted"],
            RosterKind::OnSite => &["on_site_required", "on_site_confirmed"],
        }
    }
}

pub const COLUMNS: [(&str, f64); 8] = [
    ("序号", 6.0),
    ("姓名", 10.0),
    ("性别", 6.0),
    ("身份证号码", 22.0),
    ("申报工种", 18.0),
    ("申报等级", 10.0),
    ("状态", 22.0),
    ("备注", 40.0),
];

pub struct Roster {
    pub doc: RosterDoc,
}

/// Collects the roster's rows for one unit of the current campaign.
pub async fn build(state: &AppState, unit_id: i64, kind: RosterKind) -> AppResult<Roster> {
    let db = state.store().conn();
    let (campaign, _) = super::campaigns::current(state).await?;
    let unit = units::get(db, unit_id).await?.ok_or(AppError::NotFound)?;
    let agency = gongkao_storage::campaigns::agencies(db, campaign.id)
        .await?
        .into_iter()
        .find(|a| a.code == unit.agency_code)
        .map(|a| a.name)
        .unwrap_or_default();
    let apps = applications::for_unit_in(db, campaign.id, unit_id, kind.statuses()).await?;
    let mut rows = Vec::with_capacity(apps.len());
    for (i, a) in apps.iter().enumerate() {
        let person = units::applicant(db, a.applicant_id).await?;
        let status = ApplicationStatus::parse(&a.status);
        rows.push(vec![
            (i + 1).to_string(),
            person.as_ref().map(|p| p.name.clone()).unwrap_or_default(),
            person.as_ref().and_then(|p| Sex::parse(&p.sex)).map_or("", Sex::label).to_owned(),
            person.as_ref().map(|p| p.id_number.clone()).unwrap_or_default(),
            a.work_type.clone(),
            u8::try_from(a.target_level).ok().and_then(Level::from_number).map_or("", Level::label).to_owned(),
            status.map_or("", ApplicationStatus::label).to_owned(),
            match kind {
                RosterKind::OnSite => a.on_site_note.clone().unwrap_or_default(),
                RosterKind::PassedOnline => String::new(),
            },
        ]);
    }
    let doc = RosterDoc {
        title: kind.title().to_owned(),
        campaign_title: campaign.title.clone(),
        unit_name: unit.name.clone(),
        agency_name: agency,
        printed_at: format_shanghai(state.now()),
        columns: COLUMNS.iter().map(|(h, _)| (*h).to_owned()).collect(),
        rows,
        note: Some(format!(
            "共 {} 人。本名册根据网上资格审查结果生成，单位人事部门核对无误后加盖公章，连同有关材料报送工考管理机构。",
            apps.len()
        )),
    };
    Ok(Roster { doc })
}

pub(crate) fn documents() -> AppResult<&'static Documents> {
    static DOCS: OnceLock<Result<Documents, String>> = OnceLock::new();
    DOCS.get_or_init(|| Documents::new().map_err(|e| e.to_string())).as_ref().map_err(|e| AppError::Internal(e.clone()))
}

/// Renders the roster as a PDF off the async runtime (typst is CPU-bound) and audits the export.
pub async fn pdf(state: &AppState, actor: &Actor, unit_id: i64, kind: RosterKind) -> AppResult<Vec<u8>> {
    let roster = build(state, unit_id, kind).await?;
    let rows = roster.doc.rows.len();
    let doc = roster.doc;
    let bytes =
        tokio::task::spawn_blocking(move || documents().and_then(|d| d.roster(&doc).map_err(|e| AppError::Internal(e.to_string()))))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))??;
    audited(state, actor, unit_id, kind, rows, "PDF").await?;
    Ok(bytes)
}

pub async fn xlsx(state: &AppState, actor: &Actor, unit_id: i64, kind: RosterKind) -> AppResult<Vec<u8>> {
    let roster = build(state, unit_id, kind).await?;
    let rows = roster.doc.rows.len();
    let bytes = super::exports::sheet(&COLUMNS, &roster.doc.rows).map_err(|e| AppError::Internal(e.to_string()))?;
    audited(state, actor, unit_id, kind, rows, "XLSX").await?;
    Ok(bytes)
}

async fn audited(state: &AppState, actor: &Actor, unit_id: i64, kind: RosterKind, rows: usize, format: &str) -> AppResult<()> {
    let tx = state.store().write().await?;
    audit::append(
        &tx,
        state.now(),
        actor.record("personal_data.roster", format!("unit:{unit_id}"), format!("打印{}（{format}）{rows} 人", kind.title())),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
