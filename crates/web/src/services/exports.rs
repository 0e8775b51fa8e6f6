//! Exports to Excel. Each export is itself an audited event; an export of personal data names
//! its scope and row count in the audit log. The audit log can also be exported as a background
//! job ([`queue_audit_log`]), for logs too large to build within one request.
use gongkao_domain::campaign::{Level, format_shanghai};
use gongkao_domain::person::Sex;
use gongkao_storage::audit::{self, AuditFilter};
use gongkao_storage::from_ms;
use gongkao_storage::jobs::{self, Job, NewJob};
use gongkao_storage::units::{self, ApplicantFilter};
use rust_xlsxwriter::{Format, Workbook};

use super::Actor;
use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::jobs::{JobContext, JobError, JobResult};

/// The content type of an Excel workbook.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

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

/// The columns of an audit-log export.
const AUDIT_HEADERS: [(&str, f64); 11] = [
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

fn audit_row(r: &gongkao_storage::entity::audit_log::Model) -> Vec<String> {
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
}

pub async fn audit_log(state: &AppState, actor: &Actor, filter: &AuditFilter) -> AppResult<Vec<u8>> {
    let rows = audit::all(state.store().conn(), filter, MAX_ROWS + 1).await?;
    too_many(rows.len())?;
    let data: Vec<Vec<String>> = rows.iter().map(audit_row).collect();
    let bytes = sheet(&AUDIT_HEADERS, &data).map_err(|e| AppError::Internal(e.to_string()))?;
    let tx = state.store().write().await?;
    audit::append(&tx, state.now(), actor.record("audit.export", "audit_log", format!("导出 {} 条；条件：{filter:?}", data.len()))).await?;
    tx.commit().await?;
    Ok(bytes)
}

/// The payload of a background audit-log export: the filter, and the last entry the log held
/// when it was queued, so retries export the same entries.
#[derive(serde::Serialize, serde::Deserialize)]
struct AuditExportJob {
    filter: AuditFilter,
    upto: i64,
}

/// Queues the audit-log export as a background job (for logs too large to wait for), with its
/// audit entry in the same transaction. Returns the job id.
pub async fn queue_audit_log(state: &AppState, actor: &Actor, filter: &AuditFilter) -> AppResult<i64> {
    let db = state.store().conn();
    let upto = audit::head_seq(db).await?;
    let n = audit::count_upto(db, filter, upto).await?;
    if n > MAX_ROWS {
        return Err(AppError::Conflict(format!("导出记录超过 {MAX_ROWS} 条，请缩小查询范围后再导出")));
    }
    let payload = serde_json::to_value(AuditExportJob { filter: filter.clone(), upto }).map_err(|e| AppError::Internal(e.to_string()))?;
    let tx = state.store().write().await?;
    let id = jobs::enqueue(tx.conn(), NewJob::new(crate::jobs::AUDIT_EXPORT, payload, &actor.username), state.now()).await?;
    let summary = format!("后台导出审计日志 {n} 条（截至第 {upto} 条）；条件：{filter:?}");
    audit::append(&tx, state.now(), actor.record("job.enqueue", format!("job:{id}"), summary)).await?;
    tx.commit().await?;
    state.job_queued();
    Ok(id)
}

/// Entries read per slice between progress reports.
const SLICE: u64 = 2_000;

/// The job handler of [`queue_audit_log`]: reads the log in slices with progress, builds the
/// workbook off the async threads, and records `audit.export` with its success.
pub async fn audit_log_job(state: AppState, job: Job, ctx: JobContext) -> Result<Option<JobResult>, JobError> {
    let AuditExportJob { filter, upto } = crate::jobs::payload(&job)?;
    let db = state.store().conn();
    let total = audit::count_upto(db, &filter, upto).await?;
    if total > MAX_ROWS {
        return Err(JobError::permanent(format!("导出记录超过 {MAX_ROWS} 条，请缩小查询范围后再导出")));
    }
    ctx.progress(0, total, "正在读取审计日志").await?;
    let mut data: Vec<Vec<String>> = Vec::new();
    let mut after = 0;
    loop {
        let rows = audit::slice(db, &filter, after, upto, SLICE).await?;
        let Some(last) = rows.last() else { break };
        after = last.seq;
        data.extend(rows.iter().map(audit_row));
        ctx.progress(data.len() as u64, total, &format!("已读取 {} / {total} 条", data.len())).await?;
    }
    ctx.progress(data.len() as u64, total, "正在生成 Excel 文件").await?;
    let n = data.len();
    let bytes = tokio::task::spawn_blocking(move || sheet(&AUDIT_HEADERS, &data))
        .await
        .map_err(|e| JobError::from(format!("生成 Excel 文件失败：{e}")))?
        .map_err(|e| JobError::from(format!("生成 Excel 文件失败：{e}")))?;
    ctx.audit_on_success(ctx.actor().record(
        "audit.export",
        "audit_log",
        format!("后台导出 {n} 条（任务 {}，截至第 {upto} 条）；条件：{filter:?}", job.id),
    ));
    Ok(Some(JobResult { name: "审计日志.xlsx".to_owned(), content_type: XLSX.to_owned(), bytes }))
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
