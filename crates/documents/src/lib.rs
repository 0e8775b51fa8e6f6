//! PDF documents of Gongkao (工考): applicant rosters (名册), fee receipts (收费收据),
//! admission tickets (准考证) and training sign-in sheets (培训签到表).
//!
//! Rendering uses [typst] as a library with a sealed [`World`](typst::World): the
//! templates (`templates/*.typ`) are compiled into the binary, the document's data is
//! handed to them as a virtual JSON file (so user text is always placed as text and can
//! never be read as typst markup), images (photos, QR codes) as virtual files beside it,
//! and the only fonts are the two embedded below. No
//! file system, network or clock is touched; the same input gives the same PDF bytes.
//!
//! # Fonts and licence
//!
//! The crate embeds (with `include_bytes!`) a subset of **Noto Sans CJK SC** Regular and
//! Bold — `assets/fonts/NotoSansCJKsc-{Regular,Bold}.subset.otf`, about 9 MB each, the
//! Simplified Chinese face of Noto Sans CJK 2.004 without Hangul, covering GB 2312, GBK,
//! CJK Unified Ideographs, Extension A and the font's Extension B+ ideographs (𠮷, 䶮 …).
//! Copyright 2014-2021 Adobe, with Reserved Font Name 'Source'; licensed under the SIL
//! Open Font License 1.1 (`assets/fonts/OFL.txt`). A binary built from this crate renders
//! PDFs on a machine without any fonts installed. `assets/fonts/README.md` says how the
//! subset is made.
//!
//! # Use
//!
//! Build one [`Documents`] at start-up and share it (it is `Send + Sync` and cheap to
//! clone). Rendering is synchronous and CPU-bound (about 0.3 s for a 1,000-row roster
//! in release builds): from async code call it inside `tokio::task::spawn_blocking`.

#![forbid(unsafe_code)]

mod money;
mod ticket;
mod world;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use typst::diag::{SourceDiagnostic, Warned};
use typst::foundations::{Bytes, Smart};
use typst::syntax::FileId;
use typst_pdf::PdfOptions;

pub use money::{chinese_capital, format_yuan};
pub use ticket::{DEFAULT_RULES, QrBitmap, TicketDoc, TicketSubject, default_rules, ticket_qr};
use world::{DocWorld, FONT_FAMILY, Shared, Template, file_id};

/// Rosters with more columns than this are printed on A4 landscape, others portrait.
pub const PORTRAIT_MAX_COLUMNS: usize = 6;

/// Most admission tickets [`Documents::admission_tickets`] puts in one PDF. A batch is
/// held whole in memory while it is laid out and written, photos decoded: about 1.8 GB
/// at this size, against 0.4 GB for 200.
pub const MAX_TICKETS_PER_PDF: usize = 1000;

/// The PDF renderer. Loads the embedded fonts and templates once; clones share them.
#[derive(Clone)]
pub struct Documents {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Documents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Documents").field("font", &FONT_FAMILY).finish_non_exhaustive()
    }
}

/// A roster (名册) of applicants, e.g. the two rosters of the 2020 notice §五(三):
/// "网上资格审查通过人员名册" and "需现场审查人员名册".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterDoc {
    /// e.g. "网上资格审查通过人员名册".
    pub title: String,
    /// e.g. "2020年全省机关事业单位工勤技能岗位等级考核".
    pub campaign_title: String,
    /// The applicants' unit (单位).
    pub unit_name: String,
    /// The exam office (工考管理机构).
    pub agency_name: String,
    /// Print time as shown, e.g. "2020-04-30 16:20" (Beijing time); no clock is read.
    pub printed_at: String,
    /// Header labels, e.g. `["序号","姓名","身份证号码","工种","申报等级","审核意见"]`.
    /// More than [`PORTRAIT_MAX_COLUMNS`] columns print in landscape.
    pub columns: Vec<String>,
    /// Cell texts, shown literally. A row shorter than `columns` is padded with empty
    /// cells; a longer one is an error.
    pub rows: Vec<Vec<String>>,
    /// Footnote printed under the table.
    pub note: Option<String>,
}

/// A fee receipt (收费收据) for one unit's fee batch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptDoc {
    pub receipt_no: String,
    /// 交款单位.
    pub payer_unit: String,
    /// 收款单位: the exam office.
    pub agency_name: String,
    pub campaign_title: String,
    /// (item, count, unit price in fen, amount in fen).
    pub items: Vec<(String, u32, i64, i64)>,
    /// Must equal the sum of the items' amounts.
    pub total_fen: i64,
    /// 收款人.
    pub cashier: String,
    /// Issue date as shown, e.g. "2020-05-06".
    pub issued_at: String,
}

/// Most day columns one sign-in table holds; a longer class prints a table per week.
pub const SIGN_IN_DAYS_PER_TABLE: usize = 7;

/// Most days a sign-in sheet covers (a class lasts at most 31 days).
pub const SIGN_IN_MAX_DAYS: usize = 31;

/// A training class's sign-in sheet (培训签到表): one row per enrolled person, one signature
/// column per class day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInDoc {
    /// e.g. "培训签到表".
    pub title: String,
    pub campaign_title: String,
    pub class_name: String,
    pub place: String,
    /// The training body or teacher; may be empty.
    pub organiser: String,
    pub agency_name: String,
    /// e.g. "2020-06-08 至 2020-06-12（5天）".
    pub dates: String,
    /// Print time as shown; no clock is read.
    pub printed_at: String,
    /// Column labels of the class days, e.g. "6月8日", in order.
    pub days: Vec<String>,
    pub rows: Vec<SignInRow>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInRow {
    pub name: String,
    pub unit: String,
    pub work_type: String,
}

/// The room record of a computer-based sitting (考场记录单), printed after the sitting for the
/// proctors and the centre chief to sign.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomRecordDoc {
    /// e.g. "考场记录单".
    pub title: String,
    pub campaign_title: String,
    pub centre: String,
    pub room: String,
    pub subject: String,
    pub sitting: String,
    pub started_at: String,
    /// e.g. "应考 30 人，已交卷 28 人，缺考 2 人".
    pub counts: String,
    pub printed_at: String,
    /// The proctors' own account of the sitting; may be empty.
    pub record: String,
    pub seats: Vec<RoomRecordSeat>,
    pub events: Vec<RoomRecordEvent>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomRecordSeat {
    pub seat: String,
    pub ticket_no: String,
    pub name: String,
    pub status: String,
    pub answered: String,
    pub note: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomRecordEvent {
    pub at: String,
    pub seat: String,
    pub what: String,
    pub reason: String,
    pub actor: String,
}

/// What the sign-in template reads from `/data.json`.
#[derive(Serialize)]
struct SignInData<'a> {
    title: &'a str,
    campaign_title: &'a str,
    class_name: &'a str,
    place: &'a str,
    organiser: &'a str,
    agency_name: &'a str,
    dates: &'a str,
    printed_at: &'a str,
    parts: Vec<&'a [String]>,
    rows: Vec<SignInRowData<'a>>,
}

#[derive(Serialize)]
struct SignInRowData<'a> {
    number: String,
    name: &'a str,
    unit: &'a str,
    work_type: &'a str,
}

/// Why a document could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("PDF 生成失败：{0}")]
    Render(String),
}

/// What the roster template reads from `/data.json`.
#[derive(Serialize)]
struct RosterData<'a> {
    title: &'a str,
    campaign_title: &'a str,
    unit_name: &'a str,
    agency_name: &'a str,
    printed_at: &'a str,
    landscape: bool,
    columns: &'a [String],
    /// Relative column widths (typst `fr`), from the columns' longest texts.
    widths: Vec<u32>,
    rows: Vec<Vec<&'a str>>,
    note: Option<&'a str>,
}

/// What the receipt template reads from `/data.json`: amounts already formatted.
#[derive(Serialize)]
struct ReceiptData<'a> {
    receipt_no: &'a str,
    payer_unit: &'a str,
    agency_name: &'a str,
    campaign_title: &'a str,
    items: Vec<ReceiptItem<'a>>,
    total_yuan: String,
    total_capital: String,
    cashier: &'a str,
    issued_at: &'a str,
}

#[derive(Serialize)]
struct ReceiptItem<'a> {
    name: &'a str,
    count: String,
    unit_price: String,
    amount: String,
}

/// What the ticket template reads from `/data.json`.
#[derive(Serialize)]
struct TicketsData<'a> {
    tickets: Vec<TicketData<'a>>,
}

/// A ticket's texts plus where the template finds its images in the World.
#[derive(Serialize)]
struct TicketData<'a> {
    #[serde(flatten)]
    doc: &'a TicketDoc,
    photo_path: Option<String>,
    qr_path: String,
    qr_side: usize,
}

/// A PDF and what the tests and checks want to know about it.
struct Rendered {
    pdf: Vec<u8>,
    pages: usize,
    #[cfg_attr(not(test), expect(dead_code, reason = "only the tests look at them"))]
    warnings: Vec<String>,
}

impl Documents {
    /// Loads the embedded fonts and templates. Call once and clone the result.
    pub fn new() -> Result<Documents, DocumentError> {
        Ok(Documents { shared: Arc::new(Shared::new()?) })
    }

    /// Renders a roster (名册) as PDF bytes: A4, landscape when there are more than
    /// [`PORTRAIT_MAX_COLUMNS`] columns; the header row repeats on every page; pages are
    /// numbered "第 N 页 共 M 页"; it ends with the unit's stamp box and signature lines.
    pub fn roster(&self, r: &RosterDoc) -> Result<Vec<u8>, DocumentError> {
        if r.columns.is_empty() {
            return Err(DocumentError::Render("名册没有表头列".to_owned()));
        }
        let width = r.columns.len();
        let mut rows = Vec::with_capacity(r.rows.len());
        for (index, row) in r.rows.iter().enumerate() {
            if row.len() > width {
                return Err(DocumentError::Render(format!("名册第 {} 行有 {} 个单元格，多于表头的 {width} 列", index + 1, row.len())));
            }
            let mut cells: Vec<&str> = row.iter().map(String::as_str).collect();
            cells.resize(width, "");
            rows.push(cells);
        }
        let data = RosterData {
            title: &r.title,
            campaign_title: &r.campaign_title,
            unit_name: &r.unit_name,
            agency_name: &r.agency_name,
            printed_at: &r.printed_at,
            landscape: width > PORTRAIT_MAX_COLUMNS,
            columns: &r.columns,
            widths: column_widths(&r.columns, &rows),
            rows,
            note: r.note.as_deref(),
        };
        self.render(Template::Roster, &data)
    }

    /// Renders a fee receipt (收费收据) as PDF bytes: items with amounts in yuan, the
    /// total in figures and in capital numerals, cashier, date and the payee's stamp box.
    pub fn receipt(&self, r: &ReceiptDoc) -> Result<Vec<u8>, DocumentError> {
        let sum = r.items.iter().try_fold(0_i64, |sum, item| sum.checked_add(item.3));
        if sum != Some(r.total_fen) {
            return Err(DocumentError::Render(format!("收据合计 {} 元与各项金额之和不符", format_yuan(r.total_fen))));
        }
        let data = ReceiptData {
            receipt_no: &r.receipt_no,
            payer_unit: &r.payer_unit,
            agency_name: &r.agency_name,
            campaign_title: &r.campaign_title,
            items: r
                .items
                .iter()
                .map(|(name, count, unit_price, amount)| ReceiptItem {
                    name,
                    count: count.to_string(),
                    unit_price: format_yuan(*unit_price),
                    amount: format_yuan(*amount),
                })
                .collect(),
            total_yuan: format_yuan(r.total_fen),
            total_capital: chinese_capital(r.total_fen),
            cashier: &r.cashier,
            issued_at: &r.issued_at,
        };
        self.render(Template::Receipt, &data)
    }

    /// Renders one admission ticket (准考证) as a one-page A4 PDF: campaign and title,
    /// the candidate's data beside the photo (or an empty box labelled 照片), the
    /// subjects with date, time, centre and address, room and seat, the QR code of
    /// [`TicketDoc::qr_payload`] (as [`ticket_qr`] makes it), the numbered 考生须知, the
    /// optional pledge with a signature line, and the issuing agency and print time.
    ///
    /// An error if the photo is neither JPEG nor PNG, the payload does not fit in a QR
    /// code, or the ticket does not fit on one page (too many subjects or rules).
    pub fn admission_ticket(&self, t: &TicketDoc) -> Result<Vec<u8>, DocumentError> {
        self.admission_tickets(std::slice::from_ref(t))
    }

    /// Renders several admission tickets as the pages of one PDF, one page each and in
    /// order, for a test centre to print in one go. Same checks as
    /// [`admission_ticket`](Self::admission_ticket), naming the ticket at fault; at most
    /// [`MAX_TICKETS_PER_PDF`].
    ///
    /// About 2.2 ms a ticket (2.7 ms of CPU) in release builds on this project's 2-core
    /// machine, from 20 tickets a PDF up; one ticket alone costs about 7.5 ms, as every
    /// PDF has its fixed costs (its own font subset among them). typst already lays the
    /// pages out on every core, and two batches rendered at once took twice as long as one
    /// after the other (they contend for typst's shared memo cache), so to print
    /// thousands, render PDFs of 100 to 200 one after the other: bigger ones are no faster
    /// and take more memory. See `benches/tickets.rs` and the `time_ten_thousand_tickets`
    /// test.
    pub fn admission_tickets(&self, tickets: &[TicketDoc]) -> Result<Vec<u8>, DocumentError> {
        if tickets.len() > MAX_TICKETS_PER_PDF {
            return Err(DocumentError::Render(format!(
                "一次最多生成 {MAX_TICKETS_PER_PDF} 张准考证（本次 {} 张），请分批打印",
                tickets.len()
            )));
        }
        let rendered = self.render_tickets(tickets)?;
        if rendered.pages != tickets.len() {
            return Err(DocumentError::Render(format!(
                "{} 张准考证排成了 {} 页：每张应为一页，请减少科目或考生须知的条数",
                tickets.len(),
                rendered.pages
            )));
        }
        Ok(rendered.pdf)
    }

    /// Renders a training sign-in sheet (培训签到表) as PDF bytes: A4 landscape, the class's
    /// name, place, dates and organiser above a table of the enrolled (序号, 姓名, 单位, 工种)
    /// with an empty signature column per day; a class of more than
    /// [`SIGN_IN_DAYS_PER_TABLE`] days prints one such table per week, each with every person.
    pub fn sign_in_sheet(&self, s: &SignInDoc) -> Result<Vec<u8>, DocumentError> {
        if s.days.is_empty() {
            return Err(DocumentError::Render("签到表没有培训日期".to_owned()));
        }
        if s.days.len() > SIGN_IN_MAX_DAYS {
            return Err(DocumentError::Render(format!("签到表最多 {SIGN_IN_MAX_DAYS} 天（本次 {} 天）", s.days.len())));
        }
        let data = SignInData {
            title: &s.title,
            campaign_title: &s.campaign_title,
            class_name: &s.class_name,
            place: &s.place,
            organiser: &s.organiser,
            agency_name: &s.agency_name,
            dates: &s.dates,
            printed_at: &s.printed_at,
            parts: s.days.chunks(SIGN_IN_DAYS_PER_TABLE).collect(),
            rows: s
                .rows
                .iter()
                .enumerate()
                .map(|(i, r)| SignInRowData { number: (i + 1).to_string(), name: &r.name, unit: &r.unit, work_type: &r.work_type })
                .collect(),
        };
        self.render(Template::SignIn, &data)
    }

    /// Renders a room record (考场记录单) as PDF bytes: A4 portrait, the sitting's facts, a row
    /// per seat, the proctors' actions and their account, and the signature lines.
    pub fn room_record(&self, r: &RoomRecordDoc) -> Result<Vec<u8>, DocumentError> {
        self.render(Template::RoomRecord, r)
    }

    fn render_tickets(&self, tickets: &[TicketDoc]) -> Result<Rendered, DocumentError> {
        if tickets.is_empty() {
            return Err(DocumentError::Render("没有要打印的准考证".to_owned()));
        }
        let mut files = HashMap::with_capacity(tickets.len() * 2);
        let mut data = Vec::with_capacity(tickets.len());
        for (index, doc) in tickets.iter().enumerate() {
            let which = || format!("第 {} 张准考证（{}）", index + 1, doc.ticket_number);
            let photo_path = match &doc.photo {
                None => None,
                Some(bytes) => {
                    let extension = ticket::photo_extension(bytes)
                        .ok_or_else(|| DocumentError::Render(format!("{}：照片应为 JPEG 或 PNG 图片", which())))?;
                    // The index keeps each ticket's file apart; the extension is how typst
                    // knows the format without guessing.
                    let path = format!("/photo-{index}.{extension}");
                    files.insert(file_id(&path)?, Bytes::new(bytes.clone()));
                    Some(path)
                }
            };
            let qr = ticket_qr(&doc.qr_payload).map_err(|err| DocumentError::Render(format!("{}：{err}", which())))?;
            let qr_path = format!("/qr-{index}");
            files.insert(file_id(&qr_path)?, Bytes::new(qr.pixels));
            data.push(TicketData { doc, photo_path, qr_path, qr_side: qr.side });
        }
        self.render_files(Template::Ticket, &TicketsData { tickets: data }, files)
    }

    fn render(&self, template: Template, data: &impl Serialize) -> Result<Vec<u8>, DocumentError> {
        self.render_files(template, data, HashMap::new()).map(|rendered| rendered.pdf)
    }

    /// Renders with `files` (images) beside the data; also returns the page count and
    /// typst's warnings (the tests require there are none).
    fn render_files(&self, template: Template, data: &impl Serialize, files: HashMap<FileId, Bytes>) -> Result<Rendered, DocumentError> {
        let json = serde_json::to_vec(data).map_err(|err| DocumentError::Render(format!("数据序列化失败：{err}")))?;
        let world = DocWorld::new(Arc::clone(&self.shared), template, json).with_files(files);
        let Warned { output, warnings } = typst::compile(&world);
        let result = output.map_err(|errors| diagnostics("排版", &errors)).and_then(|document| {
            let options = PdfOptions { creator: Smart::Custom(None), ..PdfOptions::default() };
            let pdf = typst_pdf::pdf(&document, &options).map_err(|errors| diagnostics("导出", &errors))?;
            Ok((pdf, document.pages().len()))
        });
        // Drop memoized results not used in the last few compilations, so that a
        // long-running server's memory does not grow with every document.
        typst::comemo::evict(template.cache_age());
        let warnings = warnings.iter().map(|warning| warning.message.to_string()).collect();
        result.map(|(pdf, pages)| Rendered { pdf, pages, warnings })
    }
}

/// Relative widths for the roster's columns so that the table fills the page: each
/// column's longest text in half-em units (a CJK or full-width character counts 2, others
/// 1), clamped to 4..=40 so that one long remark cannot squeeze the ID numbers, plus 2
/// for the cell padding.
fn column_widths(columns: &[String], rows: &[Vec<&str>]) -> Vec<u32> {
    fn display_width(text: &str) -> u32 {
        text.chars().map(|c| if u32::from(c) >= 0x1100 { 2 } else { 1 }).sum()
    }
    let mut widths: Vec<u32> = columns.iter().map(|label| display_width(label)).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(display_width(cell));
        }
    }
    widths.into_iter().map(|width| width.clamp(4, 40) + 2).collect()
}

fn diagnostics(stage: &str, errors: &[SourceDiagnostic]) -> DocumentError {
    let mut message = format!("{stage}错误");
    for error in errors {
        let _ = write!(message, "；{}", error.message);
    }
    DocumentError::Render(message)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn documents_is_send_sync_and_clone() {
        fn check<T: Send + Sync + Clone + 'static>() {}
        check::<Documents>();
    }

    #[test]
    fn templates_compile_without_warnings() {
        let docs = Documents::new().unwrap();
        let roster = RosterDoc {
            title: "需现场审查人员名册".into(),
            columns: (1..=8).map(|i| format!("列{i}")).collect(),
            rows: vec![vec!["𠮷".into(); 8], vec!["䶮".into()]],
            note: Some("注".into()),
            ..RosterDoc::default()
        };
        let data = RosterData {
            title: &roster.title,
            campaign_title: "",
            unit_name: "",
            agency_name: "",
            printed_at: "",
            landscape: true,
            columns: &roster.columns,
            widths: vec![6; 8],
            rows: vec![vec![""; 8]],
            note: None,
        };
        let warnings = docs.render_files(Template::Roster, &data, HashMap::new()).unwrap().warnings;
        assert!(warnings.is_empty(), "{warnings:?}");
        docs.roster(&roster).unwrap();
        let receipt = ReceiptData {
            receipt_no: "1",
            payer_unit: "",
            agency_name: "",
            campaign_title: "",
            items: vec![ReceiptItem { name: "考核费", count: "1".into(), unit_price: "1.00".into(), amount: "1.00".into() }],
            total_yuan: "1.00".into(),
            total_capital: chinese_capital(100),
            cashier: "",
            issued_at: "",
        };
        let warnings = docs.render_files(Template::Receipt, &receipt, HashMap::new()).unwrap().warnings;
        assert!(warnings.is_empty(), "{warnings:?}");
        let ticket = TicketDoc {
            subjects: vec![TicketSubject::default(); 3],
            rules: default_rules(),
            pledge: Some("承诺".into()),
            ..TicketDoc::default()
        };
        let rendered = docs.render_tickets(&[ticket.clone(), TicketDoc::default()]).unwrap();
        assert!(rendered.warnings.is_empty(), "{:?}", rendered.warnings);
        assert_eq!(rendered.pages, 2);
    }

    #[test]
    fn sign_in_sheets_print_a_table_per_week() {
        let docs = Documents::new().unwrap();
        let row = SignInRow { name: "张𠮷".into(), unit: "郑州市第一人民医院".into(), work_type: "护理员".into() };
        let sheet = SignInDoc {
            title: "培训签到表".into(),
            class_name: "护理员四级培训班".into(),
            days: (1..=9).map(|d| format!("6月{d}日")).collect(),
            rows: vec![row; 3],
            ..SignInDoc::default()
        };
        let data = SignInData {
            title: "",
            campaign_title: "",
            class_name: "",
            place: "",
            organiser: "",
            agency_name: "",
            dates: "",
            printed_at: "",
            parts: sheet.days.chunks(SIGN_IN_DAYS_PER_TABLE).collect(),
            rows: Vec::new(),
        };
        let rendered = docs.render_files(Template::SignIn, &data, HashMap::new()).unwrap();
        assert!(rendered.warnings.is_empty(), "{:?}", rendered.warnings);
        assert_eq!(rendered.pages, 2, "9 days print as a week and two days");
        let pdf = docs.sign_in_sheet(&sheet).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(docs.sign_in_sheet(&SignInDoc::default()).is_err());
        let long = SignInDoc { days: vec!["1日".into(); 32], ..SignInDoc::default() };
        assert!(docs.sign_in_sheet(&long).unwrap_err().to_string().contains("最多 31 天"));
    }

    #[test]
    fn ticket_errors_name_the_ticket() {
        let docs = Documents::new().unwrap();
        assert!(docs.admission_tickets(&[]).is_err());
        let too_many = vec![TicketDoc::default(); MAX_TICKETS_PER_PDF + 1];
        assert!(docs.admission_tickets(&too_many).unwrap_err().to_string().contains("分批"));
        let gif = TicketDoc { ticket_number: "20204101000301227".into(), photo: Some(b"GIF89a".to_vec()), ..TicketDoc::default() };
        let err = docs.admission_tickets(&[TicketDoc::default(), gif]).unwrap_err().to_string();
        assert!(err.contains("第 2 张准考证（20204101000301227）") && err.contains("JPEG 或 PNG"), "{err}");
        let long = TicketDoc { qr_payload: "x".repeat(3000), ..TicketDoc::default() };
        assert!(docs.admission_ticket(&long).unwrap_err().to_string().contains("二维码"));
        let overflowing = TicketDoc { subjects: vec![TicketSubject::default(); 40], ..TicketDoc::default() };
        let err = docs.admission_ticket(&overflowing).unwrap_err().to_string();
        assert!(err.contains("每张应为一页"), "{err}");
    }

    #[test]
    fn column_widths_follow_the_longest_text() {
        let columns = ["序号", "身份证号码", "审核意见"].map(String::from);
        let long = "很长".repeat(40);
        let rows = vec![vec!["1", "410102197001017654", long.as_str()]];
        assert_eq!(column_widths(&columns, &rows), vec![6, 20, 42]);
    }

    #[test]
    fn rejects_rows_wider_than_the_header() {
        let docs = Documents::new().unwrap();
        let roster =
            RosterDoc { columns: vec!["姓名".into()], rows: vec![vec!["张三".into(), "多余".into()]], ..RosterDoc::default() };
        let err = docs.roster(&roster).unwrap_err();
        assert!(err.to_string().contains("第 1 行"), "{err}");
        let empty = RosterDoc::default();
        assert!(docs.roster(&empty).is_err());
    }

    #[test]
    fn rejects_a_total_that_is_not_the_sum() {
        let docs = Documents::new().unwrap();
        let receipt = ReceiptDoc { items: vec![("考核费".into(), 2, 5000, 10_000)], total_fen: 9_000, ..ReceiptDoc::default() };
        assert!(docs.receipt(&receipt).is_err());
    }
}
