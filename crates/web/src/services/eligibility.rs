//! Eligibility checks outside the application form: one person through the API, a file of
//! JSON lines from the command line, and a unit's Excel roster annotated with verdicts.
use calamine::{Data, Reader, Xlsx};
use gongkao_domain::campaign::Level;
use gongkao_domain::eligibility::{
    Appraisal, Certificate, CertificateSource, Education, Evaluation, Grade, PersonFacts, RuleSet, StaffType, Verdict, evaluate,
};
use gongkao_domain::person::Sex;
use rust_xlsxwriter::{Format, Workbook};
use time::Date;

use crate::error::{AppError, AppResult};

/// One person to evaluate: the facts and the levels asked.
pub type Person = (PersonFacts, Vec<Level>);

/// The rule set of a campaign year, as shipped in the repository. Parsed (and fingerprinted)
/// once per process: every save and submission evaluates with it.
pub fn rule_set_for(rule_set_id: &str) -> AppResult<std::sync::Arc<RuleSet>> {
    static LOADED: std::sync::OnceLock<Vec<(&'static str, std::sync::Arc<RuleSet>)>> = std::sync::OnceLock::new();
    let loaded =
        LOADED.get_or_init(|| RuleSet::builtin_ids().filter_map(|id| RuleSet::builtin(id).map(|r| (id, std::sync::Arc::new(r)))).collect());
    loaded.iter().find(|(id, _)| *id == rule_set_id).map(|(_, r)| r.clone()).ok_or_else(|| {
        let known: Vec<&str> = RuleSet::builtin_ids().collect();
        AppError::field("campaign", format!("考核年度：没有规则集 {rule_set_id}（已有：{}）", known.join("、")))
    })
}

/// Parses "1,2,3" or "一级" style level lists; empty means all five.
pub fn parse_levels(input: &str) -> Result<Vec<Level>, String> {
    let parts: Vec<&str> = input.split([',', '，', ' ', '、']).map(str::trim).filter(|s| !s.is_empty()).collect();
    if parts.is_empty() {
        return Ok(Level::ALL.to_vec());
    }
    parts
        .iter()
        .map(|p| {
            let digit = p.trim_end_matches('级').chars().next().and_then(|c| match c {
                '1' | '一' => Some(1),
                '2' | '二' => Some(2),
                '3' | '三' => Some(3),
                '4' | '四' => Some(4),
                '5' | '五' => Some(5),
                _ => None,
            });
            digit.and_then(Level::from_number).ok_or_else(|| format!("等级“{p}”无效，应为 1 至 5"))
        })
        .collect()
}

/// One line of a facts file: either the facts themselves, or `{"facts": {...}, "levels": [..]}`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Wrapped {
    facts: PersonFacts,
    #[serde(default)]
    levels: Vec<u8>,
}

pub fn parse_facts_line(line: &str, default_levels: &[Level]) -> Result<Person, String> {
    let value: serde_json::Value = serde_json::from_str(line).map_err(|e| format!("不是有效的 JSON：{e}"))?;
    if value.get("facts").is_some() {
        let w: Wrapped = serde_json::from_value(value).map_err(|e| format!("字段有误：{e}"))?;
        let levels = if w.levels.is_empty() {
            default_levels.to_vec()
        } else {
            w.levels
                .iter()
                .map(|n| Level::from_number(*n).ok_or_else(|| format!("levels：等级 {n} 无效，应为 1 至 5")))
                .collect::<Result<_, _>>()?
        };
        return Ok((w.facts, levels));
    }
    let facts: PersonFacts = serde_json::from_value(value).map_err(|e| format!("字段有误：{e}"))?;
    Ok((facts, default_levels.to_vec()))
}

pub fn evaluate_json(facts: &PersonFacts, rules: &RuleSet, on: Date, levels: &[Level]) -> serde_json::Value {
    let evaluation = evaluate(facts, rules, on, levels);
    serde_json::to_value(&evaluation).unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }))
}

/// The roster template: (form field, header, width). The order is the column order of the file;
/// the single-person form uses the same fields, so both read people the same way.
pub const ROSTER_COLUMNS: [(&str, &str, f64); 23] = [
    ("name", "姓名", 10.0),
    ("id_number", "身份证号码", 21.0),
    ("sex", "性别", 6.0),
    ("birth_date", "出生日期", 12.0),
    ("staff_type", "人员类别", 16.0),
    ("in_post", "是否在岗", 9.0),
    ("work_start_date", "参加工作时间", 13.0),
    ("regularised_on", "转正定级时间", 13.0),
    ("education", "文化程度", 10.0),
    ("current_work_type", "现从事工种", 14.0),
    ("applied_work_type", "申报工种", 14.0),
    ("levels", "申报等级", 9.0),
    ("held_level", "现等级", 8.0),
    ("certificate_work_type", "现等级证书工种", 14.0),
    ("certificate_issued_on", "现等级证书发证日期", 16.0),
    ("certificate_source", "证书取得方式", 12.0),
    ("years_at_level_continuous", "本工种本等级是否连续", 12.0),
    ("appointed_post_level", "聘任岗位等级", 12.0),
    ("annual_appraisals", "近五年年度考核", 36.0),
    ("unit_attests_high_skill", "单位认定技艺较高", 12.0),
    ("wage_approval_form_level2", "执行二级工资审批表（一级）", 14.0),
    ("cn_journal_paper", "CN刊物论文（一级）", 12.0),
    ("work_type_changed_by_car_reform", "因公车改革变更工种", 12.0),
];

/// Columns that hold dates: Excel may store them as day numbers.
const DATE_COLUMNS: [usize; 4] = [3, 6, 7, 14];

pub(crate) fn column_letter(i: usize) -> String {
    let mut n = i + 1;
    let mut s = String::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        s.insert(0, char::from(b'A' + u8::try_from(rem).unwrap_or(0)));
        n = (n - 1) / 26;
    }
    s
}

/// Excel stores dates as days since 1899-12-30 (with the 1900 leap-year bug before March 1900).
fn excel_serial_to_date(serial: f64) -> Option<Date> {
    let epoch = Date::from_calendar_date(1899, time::Month::December, 30).ok()?;
    let days = serial.floor();
    if !(1.0..=2_958_465.0).contains(&days) {
        return None;
    }
    epoch.checked_add(time::Duration::days(days as i64))
}

pub(crate) fn cell_text(c: Option<&Data>) -> String {
    match c {
        None | Some(Data::Empty) => String::new(),
        Some(Data::String(s)) => s.trim().to_owned(),
        Some(Data::Float(f)) if f.fract() == 0.0 => format!("{f:.0}"),
        Some(other) => other.to_string().trim().to_owned(),
    }
}

/// A roster cell as the text a person would have typed: date cells become `YYYY-MM-DD`.
pub(crate) fn roster_field(row: &[Data], i: usize) -> String {
    let c = row.get(i);
    if DATE_COLUMNS.contains(&i) {
        let serial = match c {
            Some(Data::DateTime(dt)) => Some(dt.as_f64()),
            Some(Data::Float(f)) => Some(*f),
            _ => None,
        };
        if let Some(date) = serial.and_then(excel_serial_to_date) {
            return gongkao_domain::campaign::format_date(date);
        }
    }
    cell_text(c)
}

fn parse_date_text(text: &str) -> Result<Option<Date>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    let t = text.replace(['/', '.', '年', '月'], "-").replace('日', "");
    let nums: Option<Vec<i32>> = t.split('-').filter(|p| !p.is_empty()).map(|p| p.parse().ok()).collect();
    let date = |y: i32, m: i32, d: i32| {
        u8::try_from(m)
            .ok()
            .and_then(|m| time::Month::try_from(m).ok())
            .and_then(|m| Date::from_calendar_date(y, m, u8::try_from(d).ok()?).ok())
    };
    match nums.as_deref() {
        Some([y, m, d]) => date(*y, *m, *d).map(Some).ok_or_else(|| format!("“{text}”不是有效日期")),
        // A month is enough for some dates in personnel files; take its first day.
        Some([y, m]) => date(*y, *m, 1).map(Some).ok_or_else(|| format!("“{text}”不是有效日期")),
        _ => Err(format!("“{text}”不是有效日期，请写成 2020-04-13")),
    }
}

fn yes_no(text: &str) -> Result<Option<bool>, String> {
    match text {
        "" => Ok(None),
        "是" | "有" | "Y" | "y" | "yes" | "true" | "√" | "1" => Ok(Some(true)),
        "否" | "无" | "N" | "n" | "no" | "false" | "×" | "0" => Ok(Some(false)),
        other => Err(format!("“{other}”应为 是 或 否")),
    }
}

fn level_number(text: &str) -> Result<Option<u8>, String> {
    if text.is_empty() || text == "无" {
        return Ok(None);
    }
    parse_levels(text).map(|l| l.first().map(|l| l.number()))
}

/// "2016优秀,2017合格" (any separator) → appraisals.
fn appraisals(text: &str) -> Result<Vec<Appraisal>, String> {
    let mut out = Vec::new();
    for part in text.split([',', '，', ';', '；', '、', ' ']).map(str::trim).filter(|p| !p.is_empty()) {
        let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
        let rest = part[digits.len()..].trim_start_matches([':', '：', '年']).trim();
        let year: i32 = digits.parse().map_err(|_| format!("“{part}”应写成 年份+等次，例如 2019优秀"))?;
        let grade = Grade::parse(rest).ok_or_else(|| format!("“{part}”中的等次应为 优秀、合格、基本合格、不合格 或 不定等次"))?;
        out.push(Appraisal { year, grade });
    }
    Ok(out)
}

/// Reads one person from their fields as text, indexed like [`ROSTER_COLUMNS`]. Every bad field
/// is reported with its column index and a Chinese reason; nothing half-read is returned.
pub fn facts_from_fields(field: impl Fn(usize) -> String) -> Result<Person, Vec<(usize, String)>> {
    let mut errors: Vec<(usize, String)> = Vec::new();
    let mut facts = PersonFacts::default();
    let opt = |s: String| Some(s).filter(|s| !s.is_empty());
    let date = |i: usize, errors: &mut Vec<(usize, String)>| match parse_date_text(&field(i)) {
        Ok(d) => d,
        Err(e) => {
            errors.push((i, e));
            None
        }
    };
    facts.birth_date = date(3, &mut errors);
    facts.work_start_date = date(6, &mut errors);
    facts.regularised_on = date(7, &mut errors);
    let issued_on = date(14, &mut errors);
    facts.id_number = opt(field(1));
    match field(2).as_str() {
        "" => {}
        s => match Sex::parse(s) {
            Some(x) => facts.sex = Some(x),
            None => errors.push((2, format!("“{s}”应为 男 或 女"))),
        },
    }
    match field(4).as_str() {
        "" => {}
        s => match StaffType::parse(s) {
            Some(t) => facts.staff_type = Some(t),
            None => errors.push((4, format!("“{s}”应为 在岗正式工作人员 或 聘用工作人员"))),
        },
    }
    let flag = |i: usize, errors: &mut Vec<(usize, String)>| match yes_no(&field(i)) {
        Ok(v) => v,
        Err(e) => {
            errors.push((i, e));
            None
        }
    };
    // A roster lists staff in post unless it says otherwise.
    facts.in_post = flag(5, &mut errors).or(Some(true));
    facts.years_at_level_continuous = flag(16, &mut errors);
    facts.unit_attests_high_skill = flag(19, &mut errors);
    facts.wage_approval_form_level2 = flag(20, &mut errors);
    facts.cn_journal_paper = flag(21, &mut errors);
    facts.work_type_changed_by_car_reform = flag(22, &mut errors).unwrap_or(false);
    match field(8).as_str() {
        "" => {}
        s => match Education::parse(s) {
            Some(e) => facts.education = Some(e),
            None => errors.push((8, format!("“{s}”应为 小学、初中、高中、职高、技校、中专、大专、本科 或 研究生"))),
        },
    }
    facts.current_work_type = opt(field(9));
    facts.applied_work_type = opt(field(10));
    let levels = match field(11).as_str() {
        "" => Level::ALL.to_vec(),
        s => parse_levels(s).unwrap_or_else(|e| {
            errors.push((11, e));
            Vec::new()
        }),
    };
    match level_number(&field(12)) {
        Ok(Some(level)) => {
            let source = match field(15).as_str() {
                "" => Some(CertificateSource::Exam),
                s => CertificateSource::parse(s).or_else(|| {
                    errors.push((15, format!("“{s}”应为 考核取得、技能竞赛晋升、原有证书 或 破格晋升")));
                    None
                }),
            };
            facts.certificates.push(Certificate {
                level,
                work_type: opt(field(13)).or_else(|| facts.current_work_type.clone()),
                issued_on,
                source,
            });
        }
        Ok(None) => {}
        Err(e) => errors.push((12, e)),
    }
    match level_number(&field(17)) {
        Ok(v) => facts.appointed_post_level = v,
        Err(e) => errors.push((17, e)),
    }
    match appraisals(&field(18)) {
        Ok(a) => facts.annual_appraisals = a,
        Err(e) => errors.push((18, e)),
    }
    if errors.is_empty() {
        Ok((facts, levels))
    } else {
        errors.sort_by_key(|(i, _)| *i);
        Err(errors)
    }
}

fn row_facts(row: &[Data], line: usize) -> Result<Person, Vec<String>> {
    facts_from_fields(|i| roster_field(row, i)).map_err(|errors| {
        errors
            .into_iter()
            .map(|(i, msg)| format!("第 {line} 行 {} 列（{}）：{msg}", column_letter(i), ROSTER_COLUMNS.get(i).map_or("", |c| c.1)))
            .collect()
    })
}

/// The single-person form: the same fields as the roster, by name.
pub fn facts_from_form(pairs: &[(String, String)]) -> Result<Person, gongkao_domain::validation::FieldErrors> {
    let get = |i: usize| {
        let key = ROSTER_COLUMNS.get(i).map_or("", |c| c.0);
        pairs.iter().filter(|(k, _)| k == key).map(|(_, v)| v.trim()).filter(|v| !v.is_empty()).collect::<Vec<_>>().join(",")
    };
    facts_from_fields(get).map_err(|errors| {
        let mut out = gongkao_domain::validation::FieldErrors::new();
        for (i, msg) in errors {
            let (key, label, _) = ROSTER_COLUMNS.get(i).copied().unwrap_or(("", "", 0.0));
            out.push(key, format!("{label}：{msg}"));
        }
        out
    })
}

/// Short text of a verdict for the roster: for every level asked, the verdict, and for the
/// levels not found eligible the rules that failed or could not be decided.
fn summarise(e: &Evaluation<'_>) -> (String, String) {
    let mut verdicts = Vec::new();
    let mut reasons = Vec::new();
    for lv in &e.levels {
        verdicts.push(format!("{}：{}", lv.level.short_label(), lv.verdict.label()));
        if lv.verdict != Verdict::Eligible {
            for r in lv.results.iter().filter(|r| r.outcome != gongkao_domain::eligibility::Outcome::Passed && r.route.is_none()) {
                reasons.push(format!("{}：{}", lv.level.short_label(), r.explanation_text()));
            }
        }
    }
    for p in &e.input_problems {
        reasons.push(format!("资料矛盾（{}）：{}", p.field, p.reason));
    }
    (verdicts.join("；"), reasons.join("\n"))
}

pub struct RosterReport {
    pub bytes: Vec<u8>,
    pub rows: usize,
    pub eligible_rows: usize,
    pub rows_with_errors: usize,
}

/// Reads a roster in the template, evaluates every row, and returns the same rows with the
/// verdict, the reasons and the rule set appended. A row with a bad cell is not evaluated: its
/// verdict is 资料有误 and the reasons name the row and column.
pub fn annotate_roster(input: &[u8], rules: &RuleSet, on: Date) -> AppResult<RosterReport> {
    let mut book: Xlsx<_> =
        Xlsx::new(std::io::Cursor::new(input.to_vec())).map_err(|_| AppError::field("file", "文件：不是有效的 Excel（.xlsx）文件"))?;
    let sheet = book
        .worksheet_range_at(0)
        .ok_or_else(|| AppError::field("file", "文件：工作簿中没有工作表"))?
        .map_err(|_| AppError::field("file", "文件：无法读取第一个工作表"))?;
    let mut rows = sheet.rows();
    let header: Vec<String> = rows.next().map(|r| r.iter().map(|c| cell_text(Some(c))).collect()).unwrap_or_default();
    for (i, (_, name, _)) in ROSTER_COLUMNS.iter().enumerate() {
        if header.get(i).map(String::as_str) != Some(*name) {
            return Err(AppError::field("file", format!("文件：第 1 行 {} 列应为表头“{name}”，请使用下载的名册模板", column_letter(i))));
        }
    }
    let mut out = Workbook::new();
    let ws = out.add_worksheet();
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap();
    let extra = [("审核结论", 30.0), ("说明（未通过或需人工审核的原因）", 80.0), ("规则集", 16.0)];
    let xl = |e: rust_xlsxwriter::XlsxError| AppError::Internal(e.to_string());
    let headers = ROSTER_COLUMNS.iter().map(|(_, h, w)| (*h, *w)).chain(extra.iter().copied());
    for (i, (name, width)) in headers.enumerate() {
        let col = u16::try_from(i).unwrap_or(u16::MAX);
        ws.set_column_width(col, width).map_err(xl)?;
        ws.write_string_with_format(0, col, name, &bold).map_err(xl)?;
    }
    let (mut count, mut eligible, mut with_errors) = (0, 0, 0);
    for (index, row) in rows.enumerate() {
        if row.iter().all(|c| matches!(c, Data::Empty)) {
            continue;
        }
        let line = index + 2;
        let r = u32::try_from(line - 1).unwrap_or(u32::MAX);
        count += 1;
        for i in 0..ROSTER_COLUMNS.len() {
            ws.write_string(r, u16::try_from(i).unwrap_or(u16::MAX), cell_text(row.get(i))).map_err(xl)?;
        }
        let base = u16::try_from(ROSTER_COLUMNS.len()).unwrap_or(u16::MAX);
        let (verdict, reasons) = match row_facts(row, line) {
            Ok((facts, levels)) => {
                let e = evaluate(&facts, rules, on, &levels);
                if e.levels.iter().any(|l| l.verdict == Verdict::Eligible) {
                    eligible += 1;
                }
                summarise(&e)
            }
            Err(errors) => {
                with_errors += 1;
                ("资料有误".to_owned(), errors.join("\n"))
            }
        };
        ws.write_string(r, base, verdict).map_err(xl)?;
        ws.write_string_with_format(r, base + 1, reasons, &wrap).map_err(xl)?;
        ws.write_string(r, base + 2, format!("{} v{}", rules.id, rules.version)).map_err(xl)?;
    }
    ws.set_freeze_panes(1, 2).map_err(xl)?;
    Ok(RosterReport { bytes: out.save_to_buffer().map_err(xl)?, rows: count, eligible_rows: eligible, rows_with_errors: with_errors })
}

/// An empty roster with the template's header and one example row.
pub fn roster_template() -> AppResult<Vec<u8>> {
    let xl = |e: rust_xlsxwriter::XlsxError| AppError::Internal(e.to_string());
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    let bold = Format::new().set_bold();
    for (i, (_, name, width)) in ROSTER_COLUMNS.iter().enumerate() {
        let col = u16::try_from(i).unwrap_or(u16::MAX);
        ws.set_column_width(col, *width).map_err(xl)?;
        ws.write_string_with_format(0, col, *name, &bold).map_err(xl)?;
    }
    for (i, v) in EXAMPLE_ROW.iter().enumerate() {
        ws.write_string(1, u16::try_from(i).unwrap_or(u16::MAX), *v).map_err(xl)?;
    }
    book.save_to_buffer().map_err(xl)
}

/// The template's example row; the bulk registration refuses it if it is left in the file.
pub(crate) const EXAMPLE_ROW: [&str; 23] = [
    "张三",
    "410102198001010018",
    "男",
    "1980-01-01",
    "在岗正式工作人员",
    "是",
    "1999-07-01",
    "2000-07-01",
    "高中",
    "汽车驾驶员",
    "汽车驾驶员",
    "3",
    "4",
    "汽车驾驶员",
    "2010-10-20",
    "考核取得",
    "是",
    "4",
    "2015优秀,2016合格,2017合格,2018合格,2019合格",
    "",
    "",
    "",
    "否",
];

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_columns() {
        assert_eq!(parse_levels("3").unwrap(), vec![Level::L3]);
        assert_eq!(parse_levels("二级, 三级").unwrap(), vec![Level::L2, Level::L3]);
        assert_eq!(parse_levels("").unwrap().len(), 5);
        assert!(parse_levels("6").is_err());
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(excel_serial_to_date(43_934.0), Date::from_calendar_date(2020, time::Month::April, 13).ok());
        assert_eq!(appraisals("2018优秀，2019：合格").unwrap().len(), 2);
        assert!(appraisals("2019良好").is_err());
    }
}
