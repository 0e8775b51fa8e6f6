//! The item bank's Excel template (试题导入模板) and its import: one item per row, all rows or
//! none, each problem named by row and column. Rows go through the same form parser as the
//! item page, so a row means exactly what the same values typed into the page would.
use calamine::{Reader, Xlsx};
use rust_xlsxwriter::{Format, Workbook};

use super::eligibility::{cell_text, column_letter};
use super::items::{self, ItemInput};
use crate::error::{AppError, AppResult};

const SHEET: &str = "试题";
pub const HEADERS: [&str; 18] = [
    "科目",
    "等级",
    "工种",
    "题型",
    "难度",
    "知识点",
    "分值",
    "题干",
    "选项A",
    "选项B",
    "选项C",
    "选项D",
    "选项E",
    "选项F",
    "选项G",
    "选项H",
    "答案",
    "评分要点",
];
const FIELDS: [&str; 18] = [
    "subject",
    "level",
    "work_type",
    "kind",
    "difficulty",
    "knowledge_point",
    "points",
    "stem",
    "option_a",
    "option_b",
    "option_c",
    "option_d",
    "option_e",
    "option_f",
    "option_g",
    "option_h",
    "key",
    "marking_guide",
];
const EXAMPLE: [&str; 18] = [
    "职业道德",
    "3",
    "",
    "单选题",
    "3",
    "爱岗敬业",
    "1",
    "下列做法中，体现爱岗敬业精神的是（　）。",
    "上班迟到早退",
    "认真履行岗位职责",
    "工作敷衍了事",
    "推诿扯皮",
    "",
    "",
    "",
    "",
    "B",
    "",
];

pub fn template() -> AppResult<Vec<u8>> {
    let xl = |e: rust_xlsxwriter::XlsxError| AppError::Internal(e.to_string());
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let ws = book.add_worksheet().set_name(SHEET).map_err(xl)?;
    for (i, h) in HEADERS.iter().enumerate() {
        let col = u16::try_from(i).unwrap_or(u16::MAX);
        ws.set_column_format(col, &text).map_err(xl)?;
        ws.set_column_width(col, if i == 7 { 40.0 } else { 12.0 }).map_err(xl)?;
        ws.write_string_with_format(0, col, *h, &bold).map_err(xl)?;
    }
    for (i, v) in EXAMPLE.iter().enumerate() {
        ws.write_string(1, u16::try_from(i).unwrap_or(u16::MAX), *v).map_err(xl)?;
    }
    ws.set_freeze_panes(1, 0).map_err(xl)?;
    let help = book.add_worksheet().set_name("填写说明").map_err(xl)?;
    help.set_column_width(0, 100).map_err(xl)?;
    let notes = [
        "每行一道试题。第 2 行为示例，请删除后从第 2 行起填写；表头不要修改、不要增删列；不要合并单元格，不要使用公式。",
        "科目：岗位技能、职业道德、职业能力、专业理论（一级）、主观试题闭卷考试（一级）。岗位技能、专业理论、主观试题须填工种（本年度工种目录中的名称）；职业道德、职业能力不填工种。",
        "等级：1 至 5。题型：单选题、多选题、判断题、简答题、论述题。难度：1（易）至 5（难）。分值：如 1 或 1.5。",
        "单选题、多选题填写选项 A 起的各选项，答案写选项字母（多选如 ACD）；判断题不填选项，答案写“正确”或“错误”；简答题、论述题不填选项和答案，须填评分要点。",
        "整个文件全部无误才会导入，导入的试题为草稿，须提交审核、由另一位审题员审核通过后才进入组卷题池。单个文件最多 5000 道。",
    ];
    for (r, n) in notes.iter().enumerate() {
        help.write_string(u32::try_from(r).unwrap_or(0), 0, *n).map_err(xl)?;
    }
    book.save_to_buffer().map_err(xl)
}

/// Whether the bytes are an Excel workbook rather than a QTI content package (both are zips).
pub fn is_workbook(bytes: &[u8]) -> bool {
    let Ok(zip) = zip::ZipArchive::new(std::io::Cursor::new(bytes)) else { return false };
    zip.file_names().any(|n| n.is_ok_and(|n| n == "xl/workbook.xml"))
}

fn invalid(messages: Vec<String>) -> AppError {
    let mut e = gongkao_domain::validation::FieldErrors::new();
    for m in messages {
        e.push("file", m);
    }
    AppError::Invalid(e)
}

/// Reads every row into an item, or says what is wrong with each.
pub fn read(bytes: &[u8], work_types: &[String]) -> AppResult<Vec<ItemInput>> {
    let one = |m: &str| invalid(vec![m.to_owned()]);
    let mut book: Xlsx<_> =
        Xlsx::new(std::io::Cursor::new(bytes)).map_err(|_| one("文件：不是有效的 Excel（.xlsx）文件，请使用下载的试题导入模板"))?;
    let sheet_name = book.sheet_names().first().cloned().ok_or_else(|| one("文件：工作簿中没有工作表"))?;
    let sheet = book.worksheet_range(&sheet_name).map_err(|_| one("文件：无法读取第一个工作表"))?;
    let formulas = book.worksheet_formula(&sheet_name).map_err(|_| one("文件：无法读取第一个工作表"))?;
    let merged = book.merge_cells_by_sheet_name(&sheet_name).map_err(|_| one("文件：无法读取第一个工作表"))?;
    let text = |r: u32, c: usize| cell_text(sheet.get_value((r, u32::try_from(c).unwrap_or(u32::MAX))));
    for (i, h) in HEADERS.iter().enumerate() {
        let found = text(0, i);
        if found != *h {
            return Err(one(&format!("文件：第 1 行 {} 列应为表头“{h}”（现为“{found}”），请使用下载的试题导入模板", column_letter(i))));
        }
    }
    let mut errors = Vec::new();
    for m in &merged {
        errors.push(format!("第 {} 行 {} 列：是合并单元格，请取消合并", m.start.0 + 1, column_letter(m.start.1 as usize)));
    }
    if let Some((r0, c0)) = formulas.start() {
        for (r, c, f) in formulas.used_cells() {
            if !f.trim().is_empty() {
                errors.push(format!("第 {} 行 {} 列：是公式“={f}”，请粘贴为数值", r0 as usize + r + 1, column_letter(c0 as usize + c)));
            }
        }
    }
    let last_row = sheet.end().map_or(0, |(r, _)| r);
    let rows: Vec<u32> = (1..=last_row).filter(|&r| (0..HEADERS.len()).any(|c| !text(r, c).is_empty())).collect();
    if rows.len() > items::MAX_ITEMS_PER_FILE {
        return Err(one(&format!("文件：有 {} 道试题，一个文件最多 {}", rows.len(), items::MAX_ITEMS_PER_FILE)));
    }
    if rows.is_empty() && errors.is_empty() {
        return Err(one("文件：表头下方没有试题，请从第 2 行起每行填写一道"));
    }
    let mut out = Vec::new();
    for r in rows {
        let pairs: Vec<(String, String)> = FIELDS.iter().enumerate().map(|(c, f)| ((*f).to_owned(), text(r, c))).collect();
        match items::parse_form(&pairs, work_types) {
            Ok(input) => out.push(input),
            Err(e) => {
                for fe in e {
                    let col = FIELDS.iter().position(|f| *f == fe.field).map(|c| format!(" {} 列", column_letter(c))).unwrap_or_default();
                    errors.push(format!("第 {} 行{col}：{}", r + 1, fe.message));
                }
            }
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(invalid(errors)) }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_template_imports_its_example() {
        let bytes = template().unwrap();
        assert!(is_workbook(&bytes));
        let items = read(&bytes, &[]).unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].content.key, vec![1]);
        assert_eq!(items[0].meta.knowledge_point, "爱岗敬业");
    }
}
