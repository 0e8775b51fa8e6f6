//! The unit admin's bulk registration (批量登记): an Excel file in the eligibility roster
//! template plus a 手机号码 column becomes one draft application per row, all rows or none.
//!
//! The file is read and every row and column checked before anything is written; a refused file
//! lists every problem by row and column. The drafts stay drafts: the photo, the integrity pledge
//! and the submission are the applicant's own acts.
//!
//! Dates: an Excel date cell is read as a date; a date typed as text is accepted in the forms
//! the roster already reads (2020-04-13, 2020/4/13, 2020.4.13, 2020年4月13日, and a year and
//! month alone as the first of the month), because personnel files are copied that way; any
//! other text (1990年13月, 九〇年) is an error naming the cell. Sex and birth date come from the
//! ID number; the columns, when filled, must agree with it.
use calamine::{Data, Reader, Xlsx};
use gongkao_domain::campaign::{Level, format_date, to_shanghai};
use gongkao_domain::id_number::IdNumber;
use gongkao_domain::person::Mobile;
use gongkao_domain::validation::FieldErrors;
use gongkao_storage::units::{self, NewApplicant};
use gongkao_storage::{StoreError, applications, audit};
use rust_xlsxwriter::{Format, Workbook};

use super::Actor;
use super::applications::{Draft, applicant_may_change, content, identity_facts, insert_draft};
use super::eligibility::{EXAMPLE_ROW, ROSTER_COLUMNS, cell_text, column_letter, facts_from_fields, parse_levels, roster_field};
use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::policy::Principal;

/// The mobile is the last column (X), after the 23 roster columns, so the first 23 columns are
/// the eligibility roster template unchanged and a unit can paste from a roster it already has.
pub const MOBILE_COLUMN: usize = ROSTER_COLUMNS.len();
const MOBILE_HEADER: &str = "手机号码";
/// One file is one transaction; 2,000 rows keeps it short and is more than most units employ.
pub const MAX_ROWS: usize = 2_000;
/// A refused file lists at most this many problems (a wrong file could yield tens of thousands).
const MAX_ERRORS: usize = 300;
const SHEET: &str = "申报人员";

fn header(i: usize) -> &'static str {
    if i == MOBILE_COLUMN { MOBILE_HEADER } else { ROSTER_COLUMNS.get(i).map_or("", |c| c.1) }
}

/// "第 3 行 B 列（身份证号码）：…", dropping a "身份证号码：" the domain message already starts with.
fn at(line: usize, col: usize, msg: &str) -> String {
    let name = header(col);
    let msg = msg.strip_prefix(&format!("{name}：")).unwrap_or(msg);
    format!("第 {line} 行 {} 列（{name}）：{msg}", column_letter(col))
}

/// How to fill each column, for the template's 填写说明 sheet.
fn instruction(key: &str) -> &'static str {
    match key {
        "name" => "必填。与身份证一致；生僻字（如 𠮷、䶮）直接输入即可",
        "id_number" => "必填。18 位，末位 X 大写或小写均可；请把该列设为文本，以免 Excel 改成科学计数",
        "sex" => "可不填（以身份证号码为准）；填写的须与身份证号码一致：男 或 女",
        "birth_date" => "可不填（以身份证号码为准）；填写的须与身份证号码一致",
        "staff_type" => "在岗正式工作人员 或 聘用工作人员",
        "levels" => "必填，每行只填一个等级：1 至 5（或 一级 至 五级）",
        "current_work_type" => "必填（申报工种不填时按现从事工种申报）",
        "applied_work_type" => "可不填，默认与现从事工种相同",
        "work_start_date" | "regularised_on" | "certificate_issued_on" => "日期",
        "in_post"
        | "years_at_level_continuous"
        | "unit_attests_high_skill"
        | "wage_approval_form_level2"
        | "cn_journal_paper"
        | "work_type_changed_by_car_reform" => "是 或 否",
        "education" => "小学、初中、高中、职高、技校、中专、大专、本科、研究生",
        "held_level" | "appointed_post_level" => "1 至 5，没有填 无",
        "certificate_source" => "考核取得、技能竞赛晋升、原有证书 或 破格晋升",
        "annual_appraisals" => "如 2015优秀,2016合格,2017合格,2018合格,2019合格",
        _ => "",
    }
}

/// The bulk registration template: the header in bold with column widths, the ID number and
/// mobile columns formatted as text, one example row, and a 填写说明 sheet.
pub fn template() -> AppResult<Vec<u8>> {
    let xl = |e: rust_xlsxwriter::XlsxError| AppError::Internal(e.to_string());
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let ws = book.add_worksheet().set_name(SHEET).map_err(xl)?;
    for i in 0..=MOBILE_COLUMN {
        let col = u16::try_from(i).unwrap_or(u16::MAX);
        let width = ROSTER_COLUMNS.get(i).map_or(14.0, |c| c.2);
        if i == 1 || i == MOBILE_COLUMN {
            ws.set_column_format(col, &text).map_err(xl)?;
        }
        ws.set_column_width(col, width).map_err(xl)?;
        ws.write_string_with_format(0, col, header(i), &bold).map_err(xl)?;
    }
    for (i, v) in EXAMPLE_ROW.iter().enumerate() {
        ws.write_string(1, u16::try_from(i).unwrap_or(u16::MAX), *v).map_err(xl)?;
    }
    ws.write_string(1, u16::try_from(MOBILE_COLUMN).unwrap_or(u16::MAX), "13800000000").map_err(xl)?;
    ws.set_freeze_panes(1, 2).map_err(xl)?;

    let help = book.add_worksheet().set_name("填写说明").map_err(xl)?;
    let wrap = Format::new().set_text_wrap();
    help.set_column_width(0, 6).map_err(xl)?;
    help.set_column_width(1, 26).map_err(xl)?;
    help.set_column_width(2, 80).map_err(xl)?;
    let notes = [
        "每行一人，每人只申报一个等级。第 2 行为示例，请删除后从第 2 行起填写；表头不要修改、不要增删列。",
        "不要合并单元格，不要使用公式（请“选择性粘贴—数值”）。日期可用 Excel 日期格式，或写成 2020-04-13、2020/4/13、2020年4月13日；只写年月的按当月 1 日。",
        "整个文件全部无误才会导入；有错误时页面列出每一处错误（行、列、原因），一人也不导入，改正后重新上传。单个文件最多 2000 人。",
        "导入后为草稿：请通知本人注册或登录，上传照片、签署诚信承诺并自行提交；承诺须本人签署，单位不能代签。",
    ];
    let mut r = 0u32;
    for n in notes {
        help.write_string_with_format(r, 2, n, &wrap).map_err(xl)?;
        r += 1;
    }
    r += 1;
    help.write_string_with_format(r, 0, "列", &bold).map_err(xl)?;
    help.write_string_with_format(r, 1, "表头", &bold).map_err(xl)?;
    help.write_string_with_format(r, 2, "填写要求", &bold).map_err(xl)?;
    for i in 0..=MOBILE_COLUMN {
        r += 1;
        let how = if i == MOBILE_COLUMN {
            "必填。本人手机号码，11 位，以 1 开头；用于注册验证和通知"
        } else {
            ROSTER_COLUMNS.get(i).map_or("", |c| instruction(c.0))
        };
        help.write_string(r, 0, column_letter(i)).map_err(xl)?;
        help.write_string(r, 1, header(i)).map_err(xl)?;
        help.write_string_with_format(r, 2, if how.is_empty() { "按人事档案填写，可不填" } else { how }, &wrap).map_err(xl)?;
    }
    book.save_to_buffer().map_err(xl)
}

/// One checked row, ready to write.
struct Row {
    name: String,
    id: IdNumber,
    mobile: String,
    draft: Draft,
    /// The person already registered (of this unit, or with no unit yet), if any.
    existing: Option<units::Applicant>,
}

fn refused(errors: Vec<String>) -> AppError {
    let mut out = FieldErrors::new();
    let extra = errors.len().saturating_sub(MAX_ERRORS);
    for e in errors.into_iter().take(MAX_ERRORS) {
        out.push("file", e);
    }
    if extra > 0 {
        out.push("file", format!("另有 {extra} 处错误未列出，请先改正以上错误"));
    }
    AppError::Invalid(out)
}

fn file_error(msg: &str) -> AppError {
    refused(vec![msg.to_owned()])
}

/// Reads and checks the whole file, then writes every row in one transaction. Returns how many
/// people were registered. `AppError::Invalid` carries every problem under the field `file`.
pub async fn import(state: &AppState, p: &Principal, actor: &Actor, bytes: Vec<u8>) -> AppResult<usize> {
    let unit_id = p.unit_id.ok_or(AppError::Forbidden)?;
    // The same window as the applicant's own filing: after the deadline nobody registers.
    let (campaign, rules) = applicant_may_change(state, None).await?;
    let db = state.store().conn();
    let unit = units::get(db, unit_id).await?.filter(|u| u.status == "active").ok_or(AppError::Forbidden)?;

    let mut book: Xlsx<_> =
        Xlsx::new(std::io::Cursor::new(bytes)).map_err(|_| file_error("文件：不是有效的 Excel（.xlsx）文件，请使用下载的模板"))?;
    let sheet_name = book.sheet_names().first().cloned().ok_or_else(|| file_error("文件：工作簿中没有工作表"))?;
    let sheet = book.worksheet_range(&sheet_name).map_err(|_| file_error("文件：无法读取第一个工作表"))?;
    let formulas = book.worksheet_formula(&sheet_name).map_err(|_| file_error("文件：无法读取第一个工作表"))?;
    let merged = book.merge_cells_by_sheet_name(&sheet_name).map_err(|_| file_error("文件：无法读取第一个工作表"))?;

    // Cells by absolute position: a sheet whose column A is empty must not shift the columns.
    let cell = |r: u32, c: usize| sheet.get_value((r, u32::try_from(c).unwrap_or(u32::MAX)));
    let text = |r: u32, c: usize| cell_text(cell(r, c));

    // The header first: a wrong template makes every other message meaningless.
    for i in 0..=MOBILE_COLUMN {
        let found = text(0, i);
        if found != header(i) {
            let shown = if found.is_empty() { "空白".to_owned() } else { format!("“{found}”") };
            return Err(file_error(&format!(
                "文件：第 1 行 {} 列应为表头“{}”（现为{shown}），请使用下载的批量登记模板",
                column_letter(i),
                header(i)
            )));
        }
    }
    let last_col = sheet.end().map_or(0, |(_, c)| c as usize);
    if let Some(extra) = (MOBILE_COLUMN + 1..=last_col).find(|&i| !text(0, i).is_empty()) {
        return Err(file_error(&format!(
            "文件：第 1 行 {} 列“{}”不是模板中的列，请使用下载的批量登记模板",
            column_letter(extra),
            text(0, extra)
        )));
    }

    let mut errors: Vec<String> = Vec::new();
    // Merged cells hold their value in the first cell only: the others would read as empty.
    for m in &merged {
        let (r, c) = m.start;
        errors.push(format!(
            "第 {} 行 {} 列：{}{}:{}{} 是合并单元格，请取消合并，每个单元格分别填写",
            r + 1,
            column_letter(c as usize),
            column_letter(c as usize),
            r + 1,
            column_letter(m.end.1 as usize),
            m.end.0 + 1
        ));
    }
    // A formula's cached value may be stale or absent: people must paste values.
    if let Some((r0, c0)) = formulas.start() {
        for (r, c, f) in formulas.used_cells() {
            if f.trim().is_empty() {
                continue;
            }
            let (row, col) = (r0 as usize + r, c0 as usize + c);
            let msg = format!("是公式“={f}”，请复制后“选择性粘贴—数值”");
            errors.push(if col <= MOBILE_COLUMN {
                at(row + 1, col, &msg)
            } else {
                format!("第 {} 行 {} 列：{msg}", row + 1, column_letter(col))
            });
        }
    }

    let last_row = sheet.end().map_or(0, |(r, _)| r);
    let data_rows: Vec<u32> =
        (1..=last_row).filter(|&r| (0..=MOBILE_COLUMN).any(|c| !matches!(cell(r, c), None | Some(Data::Empty)))).collect();
    if data_rows.len() > MAX_ROWS {
        return Err(file_error(&format!("文件：有 {} 行人员，一个文件最多 {MAX_ROWS} 行，请分成几个文件导入", data_rows.len())));
    }
    if data_rows.is_empty() && errors.is_empty() {
        return Err(file_error("文件：表头下方没有人员，请从第 2 行起每行填写一人"));
    }

    let now = state.now();
    let on = to_shanghai(now).date();
    let mut rows: Vec<Row> = Vec::with_capacity(data_rows.len());
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for r in data_rows {
        let line = r as usize + 1;
        let values: Vec<Data> = (0..=MOBILE_COLUMN).map(|c| cell(r, c).cloned().unwrap_or(Data::Empty)).collect();
        let field = |c: usize| roster_field(&values, c);
        let before = errors.len();

        let name = field(0);
        if name.is_empty() {
            errors.push(at(line, 0, "必填"));
        } else if name.chars().count() > 50 || name.chars().any(char::is_control) {
            errors.push(at(line, 0, "应为 1 至 50 个字，不能含换行等控制字符"));
        }
        let id = match IdNumber::parse(&field(1)) {
            Ok(id) => Some(id),
            Err(_) if field(1).is_empty() => {
                errors.push(at(line, 1, "必填"));
                None
            }
            Err(e) => {
                errors.push(at(line, 1, &e.to_string()));
                None
            }
        };
        if let Some(id) = &id {
            if id.as_str() == EXAMPLE_ROW[1] {
                errors.push(at(line, 1, "这是模板中的示例行，请删除后再导入"));
            } else if let Some(first) = seen.insert(id.as_str().to_owned(), line) {
                errors.push(at(line, 1, &format!("与第 {first} 行的身份证号码重复，每人只能登记一次")));
            }
        }
        let facts = match facts_from_fields(field) {
            Ok((facts, _)) => Some(facts),
            Err(es) => {
                errors.extend(es.iter().map(|(c, m)| at(line, *c, m)));
                None
            }
        };
        if let (Some(id), Some(facts)) = (&id, &facts) {
            if facts.sex.is_some_and(|s| s != id.sex()) {
                errors.push(at(line, 2, &format!("与身份证号码不一致（身份证号码为{}性）", id.sex().label())));
            }
            if facts.birth_date.is_some_and(|d| d != id.birth_date()) {
                errors.push(at(line, 3, &format!("与身份证号码不一致（身份证号码为 {}）", format_date(id.birth_date()))));
            }
        }
        // The roster accepts several levels to pre-check; an application is for exactly one.
        let level = match field(11).as_str() {
            "" => {
                errors.push(at(line, 11, "必填，每行填一个等级（1 至 5）"));
                None
            }
            s => match parse_levels(s) {
                Ok(l) if l.len() == 1 => l.first().copied(),
                Ok(_) => {
                    errors.push(at(line, 11, "每行只能申报一个等级，申报多个等级请分开登记"));
                    None
                }
                // facts_from_fields has already named a bad level.
                Err(_) => None,
            },
        };
        let work_type = Some(field(10)).filter(|w| !w.is_empty()).unwrap_or_else(|| field(9));
        if work_type.is_empty() {
            errors.push(at(line, 9, "必填，按实际从事的岗位工种填写"));
        }
        let mobile = match Mobile::parse(&field(MOBILE_COLUMN)) {
            Ok(m) => Some(m),
            Err(e) => {
                errors.push(at(line, MOBILE_COLUMN, &e.message));
                None
            }
        };

        // Who the person already is, only for a row that is otherwise valid.
        let mut existing = None;
        if let Some(id) = id.as_ref().filter(|_| errors.len() == before)
            && let Some(person) = units::applicant_by_id_number(db, id.as_str()).await?
        {
            if person.unit_id.is_some_and(|u| u != unit_id) {
                errors.push(at(line, 1, "此人已由其他单位登记，不能由本单位登记；如已调动，请本人联系工考管理机构"));
            } else if person.name != name {
                errors.push(at(line, 0, "与该身份证号码已登记的姓名不一致，请核对"));
            } else if let Some(live) = applications::live_for(db, campaign.id, person.id).await? {
                let status = gongkao_domain::application::ApplicationStatus::parse(&live.status).map_or("", |s| s.label());
                errors.push(at(line, 1, &format!("此人本年度已有申报，状态为“{status}”，不能重复登记")));
            } else {
                existing = Some(person);
            }
        }
        if errors.len() != before {
            continue;
        }
        let (Some(id), Some(facts), Some(level), Some(mobile)) = (id, facts, level, mobile) else { continue };
        let facts = identity_facts(facts, id.as_str(), id.sex().as_str());
        let draft = Draft { facts, level, unit_id, agency_code: unit.agency_code.clone(), work_type };
        rows.push(Row { name, id, mobile: mobile.as_str().to_owned(), draft, existing });
    }
    if !errors.is_empty() {
        return Err(refused(errors));
    }

    let tx = state.store().write().await?;
    let mut created = 0;
    for row in &rows {
        let applicant_id = match &row.existing {
            Some(person) => {
                if person.unit_id.is_none() {
                    units::link_applicant_to_unit(tx.conn(), person.id, unit_id).await.map_err(raced)?;
                }
                person.id
            }
            None => {
                created += 1;
                let cert = row.draft.facts.certificates.first();
                units::create_applicant(
                    tx.conn(),
                    NewApplicant {
                        id_number: row.id.as_str().to_owned(),
                        name: row.name.clone(),
                        sex: row.id.sex().as_str().to_owned(),
                        birth_date: format_date(row.id.birth_date()),
                        mobile: row.mobile.clone(),
                        unit_id: Some(unit_id),
                        work_type: row.draft.facts.current_work_type.clone(),
                        current_level: cert.map(|c| i32::from(c.level)),
                        work_start_date: row.draft.facts.work_start_date.map(format_date),
                        education: row.draft.facts.education.map(|e| e.label().to_owned()),
                    },
                    now,
                )
                .await
                .map_err(raced)?
            }
        };
        insert_draft(&tx, campaign.id, applicant_id, content(&row.draft, &rules, on), actor, "单位批量登记", now).await.map_err(
            |e| match e {
                AppError::Conflict(_) => raced(StoreError::Conflict),
                other => other,
            },
        )?;
    }
    let levels: Vec<String> = Level::ALL
        .iter()
        .filter_map(|l| {
            let n = rows.iter().filter(|r| r.draft.level == *l).count();
            (n > 0).then(|| format!("{}{n}人", l.short_label()))
        })
        .collect();
    audit::append(
        &tx,
        now,
        actor.record(
            "application.bulk_import",
            format!("unit:{unit_id}"),
            format!("批量登记 {} 人（新建人员 {created} 人；{}），均为草稿", rows.len(), levels.join("、")),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(rows.len())
}

/// Someone registered or filed for one of the people between the check and the write: the
/// transaction is rolled back, so nothing of the file is kept.
fn raced(e: StoreError) -> AppError {
    match e {
        StoreError::Conflict | StoreError::Duplicate(_) => {
            AppError::Conflict("文件中有人员刚刚被登记或已有申报，本次未导入任何人，请刷新后重新上传".to_owned())
        }
        other => other.into(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_row_and_column() {
        assert_eq!(at(3, 1, "身份证号码：校验位不正确，应为 X"), "第 3 行 B 列（身份证号码）：校验位不正确，应为 X");
        assert_eq!(at(2, MOBILE_COLUMN, "手机号码：应以13至19开头"), "第 2 行 X 列（手机号码）：应以13至19开头");
    }

    #[test]
    fn template_reads_back_with_its_header() {
        let bytes = template().unwrap();
        let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(book.sheet_names(), vec![SHEET.to_owned(), "填写说明".to_owned()]);
        let sheet = book.worksheet_range(SHEET).unwrap();
        for i in 0..=MOBILE_COLUMN {
            assert_eq!(cell_text(sheet.get_value((0, i as u32))), header(i));
        }
    }
}
