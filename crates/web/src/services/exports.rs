//! Exports to Excel. Each export is itself an audited event; an export of personal data names
//! its scope and row count in the audit log.
use gongkao_domain::campaign::{Level, format_shanghai};
use gongkao_domain::person::Sex;
use gongkao_storage::audit::{self, AuditFilter};
use gongkao_storage::from_ms;
use gongkao_storage::units::{self, ApplicantFilter};
use rust_xlsxwriter::{Format, Workbook};

use super::Actor;
use crate::AppState;
use crate::error::{AppError, AppResult};

/// Above this the export is refused with a request to narrow the filter, so one click cannot
/// produce an unbounded file.
pub const MAX_ROWS: u64 = 100_000;

pub(crate) fn sheet(headers: &[(&str, f64)], rows: &[Vec<String>]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    let bold = Format::new().set_bold();
    for (c, (h, width)) in headers.iter().enumerate() {
        let col = u16::try_from(c).unwrap_or(u16::MAX);
        ws.set_column_width(col, *width)?;
        ws.write_string_with_format(0, col, *h, &bold)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let rr = u32::try_from(r + 1).unwrap_or(u32::MAX);
        for (c, v) in row.iter().enumerate() {
            ws.write_string(rr, u16::try_from(c).unwrap_or(u16::MAX), v)?;
        }
    }
    ws.set_freeze_panes(1, 0)?;
    book.save_to_buffer()
}

fn too_many(n: usize) -> AppResult<()> {
    if n as u64 > MAX_ROWS {
        return Err(AppError::Conflict(format!("导出记录超过 {MAX_ROWS} 条，请缩小查询范围后再导出")));
    }
    Ok(())
}

pub async fn audit_log(state: &AppState, actor: &Actor, filter: &AuditFilter) -> AppResult<Vec<u8>> {
    let rows = audit::all(state.store().conn(), filter, MAX_ROWS + 1).await?;
    too_many(rows.len())?;
    let data: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.seq.to_string(),
                format_shanghai(from_ms(r.at_ms)),
                r.actor.clone(),
                r.role.clone(),
                r.jurisdiction.clone(),
                r.action.clone(),
                r.target.clone(),
                r.summary.clone(),
                r.client_ip.clone(),
                r.outcome.clone(),
                r.hash.clone(),
            ]
        })
        .collect();
    let headers = [
        ("序号", 8.0),
        ("时间（北京时间）", 18.0),
        ("操作人", 20.0),
        ("角色", 16.0),
        ("管辖", 10.0),
        ("操作", 26.0),
        ("对象", 24.0),
        ("摘要", 50.0),
        ("来源地址", 16.0),
        ("结果", 8.0),
        ("哈希", 66.0),
    ];
    let bytes = sheet(&headers, &data).map_err(|e| AppError::Internal(e.to_string()))?;
    let tx = state.store().write().await?;
    audit::append(&tx, state.now(), actor.record("audit.export", "audit_log", format!("导出 {} 条；条件：{filter:?}", data.len()))).await?;
    tx.commit().await?;
    Ok(bytes)
}

pub async fn applicants(state: &AppState, actor: &Actor, filter: &ApplicantFilter, scope_label: &str) -> AppResult<Vec<u8>> {
    let rows = units::all_applicants(state.store().conn(), filter, MAX_ROWS + 1).await?;
    too_many(rows.len())?;
    let data: Vec<Vec<String>> = rows
        .iter()
        .map(|(a, u)| {
            vec![
                a.name.clone(),
                a.id_number.clone(),
                Sex::parse(&a.sex).map_or("", Sex::label).to_owned(),
                a.birth_date.clone(),
                a.mobile.clone(),
                u.as_ref().map(|u| u.name.clone()).unwrap_or_default(),
                a.work_type.clone().unwrap_or_default(),
                a.current_level.and_then(|l| u8::try_from(l).ok()).and_then(Level::from_number).map_or("无", Level::short_label).to_owned(),
                a.work_start_date.clone().unwrap_or_default(),
                a.education.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let headers = [
        ("姓名", 10.0),
        ("身份证号码", 22.0),
        ("性别", 6.0),
        ("出生日期", 12.0),
        ("手机号码", 14.0),
        ("单位", 36.0),
        ("工种", 18.0),
        ("现等级", 10.0),
        ("参加工作时间", 14.0),
        ("文化程度", 10.0),
    ];
    let bytes = sheet(&headers, &data).map_err(|e| AppError::Internal(e.to_string()))?;
    let tx = state.store().write().await?;
    audit::append(
        &tx,
        state.now(),
        actor.record("personal_data.export", "applicants", format!("导出申报人员个人信息 {} 条；范围：{scope_label}", data.len())),
    )
    .await?;
    tx.commit().await?;
    Ok(bytes)
}
