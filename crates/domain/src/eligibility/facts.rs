//! What the evaluator knows about one person, and the consistency checks on it.

use serde::{Deserialize, Serialize};
use time::Date;

use super::codes::coded_enum;
use crate::campaign::format_date;
use crate::id_number::IdNumber;
use crate::person::{Sex, add_years};
use crate::retirement::RetirementCategory;
use crate::work_type::validate_work_type_name;

time::serde::format_description!(pub(crate) ymd, Date, "[year]-[month]-[day]");

coded_enum! {
    /// Highest education. 高中, 职高, 技校 and 职专 are one rank because every rule that names
    /// one of them names all of them ("技工学校、职业中专或高中（含职业高中）以上").
    pub enum Education {
        Primary = ("primary", "小学"),
        JuniorHigh = ("junior_high", "初中", "初级中学"),
        SeniorHigh = ("senior_high", "高中及同等", "高中", "职高", "职业高中", "技校", "技工学校", "职专", "职业中专", "中专", "中等专业学校", "中技"),
        JuniorCollege = ("junior_college", "大专", "专科", "高职"),
        Bachelor = ("bachelor", "本科", "大学本科"),
        Postgraduate = ("postgraduate", "研究生", "硕士研究生", "博士研究生", "硕士", "博士"),
    }
}

coded_enum! {
    /// Annual appraisal grade (年度考核等次); civil-service names are aliases (reference §8).
    pub enum Grade {
        Excellent = ("excellent", "优秀"),
        Competent = ("competent", "合格", "称职"),
        BasicallyCompetent = ("basically_competent", "基本合格", "基本称职"),
        Incompetent = ("incompetent", "不合格", "不称职"),
        Ungraded = ("ungraded", "不定等次", "未定等次", "未参加考核"),
    }
}

impl Grade {
    /// Higher is better; `None` for an ungraded year, which is not on the scale at all.
    pub fn rank(self) -> Option<u8> {
        match self {
            Grade::Excellent => Some(3),
            Grade::Competent => Some(2),
            Grade::BasicallyCompetent => Some(1),
            Grade::Incompetent => Some(0),
            Grade::Ungraded => None,
        }
    }
}

coded_enum! {
    pub enum StaffType {
        Permanent = ("permanent", "在岗正式工作人员", "正式工作人员", "正式", "在编"),
        Contracted = ("contracted", "聘用工作人员", "聘用"),
        Other = ("other", "其他人员", "其他"),
    }
}

coded_enum! {
    /// How a certificate was obtained; only some channels count for pay (人薪发〔1994〕44号).
    pub enum CertificateSource {
        Exam = ("exam", "考核取得"),
        Competition = ("competition", "技能竞赛晋升"),
        Legacy = ("legacy", "原有证书", "技术等级岗位证书", "工人技师资格证书"),
        Exceptional = ("exceptional", "破格晋升", "破格"),
        OtherChannel = ("other_channel", "其他渠道"),
    }
}

coded_enum! {
    /// The level of the body that gave an honour or ran a competition; declared from lowest to
    /// highest so that `>=` means "at that level or above".
    pub enum AwardScope {
        Unit = ("unit", "单位级", "单位"),
        County = ("county", "县级", "县（市、区）级", "县(市、区)级"),
        Municipal = ("municipal", "省辖市级", "市级", "厅级", "省辖市（厅）级", "省辖市(厅)级"),
        Provincial = ("provincial", "省级", "省部级", "省（部）级", "省(部)级"),
        National = ("national", "国家级", "全国", "国家"),
    }
}

coded_enum! {
    pub enum SanctionKind {
        FalseInformation = ("false_information", "填报虚假材料信息", "虚假信息"),
    }
}

/// A skill-level certificate the person holds (机关事业单位工勤技能岗位等级证书 or an older
/// equivalent).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Certificate {
    /// 1–5 as printed; kept as a number so that a wrong value is reported, not rejected.
    pub level: u8,
    pub work_type: Option<String>,
    #[serde(with = "ymd::option")]
    pub issued_on: Option<Date>,
    pub source: Option<CertificateSource>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Appraisal {
    pub year: i32,
    pub grade: Grade,
}

/// An honour, competition placing, patent or other achievement; `kind` is a code that the rule
/// set's ground lists name (see `RuleSet::ground_lists`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Achievement {
    pub kind: String,
    pub scope: Option<AwardScope>,
    #[serde(with = "ymd::option")]
    pub date: Option<Date>,
    /// Prize rank (1 = first prize) or rank among inventors, where the ground asks for one.
    pub rank: Option<u32>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sanction {
    pub kind: SanctionKind,
    #[serde(default, with = "ymd::option")]
    pub decided_on: Option<Date>,
    /// Last day of the ban; when absent it is derived from the rule set's ban length.
    #[serde(default, with = "ymd::option")]
    pub bars_until: Option<Date>,
}

/// Everything the evaluator may use about one person. Every field is optional because a clerk
/// may not know it yet; a missing fact makes the rules that need it "无法判断", never "通过".
///
/// JSON form (one object; dates are `"YYYY-MM-DD"`; enum values accept the code or the Chinese
/// label shown; unknown fields are refused so that typos surface):
///
/// | field | type | meaning |
/// |---|---|---|
/// | `id_number` | string | 公民身份号码; used for birth date and sex when those are absent, and cross-checked when present |
/// | `sex` | `"male"`/`"男"`, `"female"`/`"女"` | |
/// | `birth_date` | date | |
/// | `retirement_category` | `"male"`, `"female55"`, `"female50"` (or the Chinese labels) | override of the default (women in worker posts: `female50`) |
/// | `actual_retirement_date` | date | overrides the computed retirement date |
/// | `staff_type` | `"permanent"` 在岗正式工作人员, `"contracted"` 聘用工作人员, `"other"` | |
/// | `in_post` | bool | 在岗 |
/// | `retired` | bool | 已办理退休手续 |
/// | `work_start_date` | date | 参加工作时间 |
/// | `regularised_on` | date | 转正定级时间 |
/// | `education` | `"primary"` 小学, `"junior_high"` 初中, `"senior_high"` 高中/职高/技校/职专/中专, `"junior_college"` 大专, `"bachelor"` 本科, `"postgraduate"` 研究生 | highest |
/// | `current_work_type` | string | the work type actually performed (现从事岗位工种) |
/// | `applied_work_type` | string | the work type applied for; absent means the current one |
/// | `work_type_changed_by_car_reform` | bool | 因公车改革从事岗位工种发生变化 |
/// | `certificates` | array of `{level: 1..5, work_type, issued_on, source: "exam"/"competition"/"legacy"/"exceptional"/"other_channel"}` | |
/// | `years_at_level_continuous` | bool | whether the years at the current level in this work type were continuous |
/// | `appointed_post_level` | 1..5 | level of the post the person is appointed (聘任) to |
/// | `appointed_post_since` | date | |
/// | `annual_appraisals` | array of `{year, grade: "excellent" 优秀 / "competent" 合格·称职 / "basically_competent" 基本合格·基本称职 / "incompetent" 不合格·不称职 / "ungraded" 不定等次}` | |
/// | `party_excellence_years` | array of years | years named 优秀共产党员 |
/// | `achievements` | array of `{kind, scope: "unit"/"county"/"municipal"/"provincial"/"national", date, rank, note}` | honours, competitions, patents; `kind` codes are listed in the rule set's `ground_lists` |
/// | `unit_attests_high_skill` | bool | the unit attests 较高技艺 (level-2 age relaxation) |
/// | `wage_approval_form_level2` | bool | 执行二级工资待遇的工资审批表 submitted (level 1, 2020) |
/// | `cn_journal_paper` | bool | a paper in a CN-numbered journal (level 1 before 2021) |
/// | `sanctions` | array of `{kind: "false_information", decided_on, bars_until}` | |
/// | `special_policies` | array of policy ids, e.g. `"2020-frontline-health"` | |
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PersonFacts {
    pub id_number: Option<String>,
    #[serde(deserialize_with = "sex_code_or_label")]
    pub sex: Option<Sex>,
    #[serde(with = "ymd::option")]
    pub birth_date: Option<Date>,
    pub retirement_category: Option<RetirementCategory>,
    #[serde(with = "ymd::option")]
    pub actual_retirement_date: Option<Date>,
    pub staff_type: Option<StaffType>,
    pub in_post: Option<bool>,
    pub retired: Option<bool>,
    #[serde(with = "ymd::option")]
    pub work_start_date: Option<Date>,
    #[serde(with = "ymd::option")]
    pub regularised_on: Option<Date>,
    pub education: Option<Education>,
    pub current_work_type: Option<String>,
    pub applied_work_type: Option<String>,
    pub work_type_changed_by_car_reform: bool,
    pub certificates: Vec<Certificate>,
    pub years_at_level_continuous: Option<bool>,
    pub appointed_post_level: Option<u8>,
    #[serde(with = "ymd::option")]
    pub appointed_post_since: Option<Date>,
    pub annual_appraisals: Vec<Appraisal>,
    pub party_excellence_years: Vec<i32>,
    pub achievements: Vec<Achievement>,
    pub unit_attests_high_skill: Option<bool>,
    pub wage_approval_form_level2: Option<bool>,
    pub cn_journal_paper: Option<bool>,
    pub sanctions: Vec<Sanction>,
    pub special_policies: Vec<String>,
}

/// `Sex` itself only reads its codes; forms and spreadsheets write "男"/"女".
fn sex_code_or_label<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Sex>, D::Error> {
    let s: Option<String> = Option::deserialize(deserializer)?;
    s.map(|s| Sex::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown sex “{s}”, expected male/female/男/女")))).transpose()
}

impl PersonFacts {
    /// The birth date entered, or else the one in the ID number.
    pub fn effective_birth_date(&self) -> Option<Date> {
        self.birth_date.or_else(|| self.parsed_id().map(|id| id.birth_date()))
    }

    /// The sex entered, or else the one in the ID number.
    pub fn effective_sex(&self) -> Option<Sex> {
        self.sex.or_else(|| self.parsed_id().map(|id| id.sex()))
    }

    /// The explicit category, or the default for the sex.
    pub fn effective_retirement_category(&self) -> Option<RetirementCategory> {
        self.retirement_category.or_else(|| self.effective_sex().map(crate::retirement::default_category))
    }

    /// The work type applied for; "对岗报考" makes the current one the default.
    pub fn effective_applied_work_type(&self) -> Option<&str> {
        self.applied_work_type.as_deref().or(self.current_work_type.as_deref()).map(str::trim)
    }

    fn parsed_id(&self) -> Option<IdNumber> {
        self.id_number.as_deref().and_then(|s| IdNumber::parse(s).ok())
    }
}

/// One contradiction or impossible value in a person's facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FactProblem {
    /// Field path in [`PersonFacts`], e.g. `certificates[1].issued_on`.
    pub field: String,
    /// Chinese, to be read to the clerk.
    pub reason: String,
}

impl FactProblem {
    fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self { field: field.into(), reason: reason.into() }
    }
}

/// The youngest age at which work may have started (劳动法: 16 周岁).
const MIN_WORKING_AGE: i32 = 16;

/// Finds facts that contradict each other or cannot be true on `on`. The evaluator turns each
/// into a "无法判断" result, so a person with contradictory facts is never found eligible.
pub fn validate_facts(facts: &PersonFacts, on: Date) -> Vec<FactProblem> {
    let mut problems = Vec::new();
    let d = format_date;

    if let Some(raw) = facts.id_number.as_deref() {
        match IdNumber::parse(raw) {
            Err(e) => problems.push(FactProblem::new("id_number", e.to_string())),
            Ok(id) => {
                if let Some(birth) = facts.birth_date
                    && birth != id.birth_date()
                {
                    problems.push(FactProblem::new(
                        "birth_date",
                        format!("出生日期 {} 与身份证号码中的出生日期 {} 不一致", d(birth), d(id.birth_date())),
                    ));
                }
                if let Some(sex) = facts.sex
                    && sex != id.sex()
                {
                    problems
                        .push(FactProblem::new("sex", format!("性别“{}”与身份证号码表示的性别“{}”不一致", sex.label(), id.sex().label())));
                }
            }
        }
    }

    let birth = facts.effective_birth_date();
    if let Some(b) = birth
        && b > on
    {
        problems.push(FactProblem::new("birth_date", format!("出生日期 {} 晚于评估日期 {}", d(b), d(on))));
    }
    if let (Some(category), Some(sex)) = (facts.retirement_category, facts.effective_sex())
        && category.sex() != sex
    {
        problems.push(FactProblem::new("retirement_category", format!("退休类别“{}”与性别“{}”矛盾", category.label(), sex.label())));
    }
    if let (Some(actual), Some(b)) = (facts.actual_retirement_date, birth)
        && actual <= b
    {
        problems.push(FactProblem::new("actual_retirement_date", format!("退休日期 {} 不晚于出生日期 {}", d(actual), d(b))));
    }

    if let Some(start) = facts.work_start_date {
        if start > on {
            problems.push(FactProblem::new("work_start_date", format!("参加工作时间 {} 晚于评估日期 {}", d(start), d(on))));
        }
        if let Some(b) = birth
            && start < add_years(b, MIN_WORKING_AGE)
        {
            problems.push(FactProblem::new(
                "work_start_date",
                format!("参加工作时间 {} 早于年满{MIN_WORKING_AGE}周岁之日 {}", d(start), d(add_years(b, MIN_WORKING_AGE))),
            ));
        }
        if let Some(reg) = facts.regularised_on
            && reg < start
        {
            problems.push(FactProblem::new("regularised_on", format!("转正定级时间 {} 早于参加工作时间 {}", d(reg), d(start))));
        }
    }

    for (name, value) in [("current_work_type", &facts.current_work_type), ("applied_work_type", &facts.applied_work_type)] {
        if let Some(v) = value
            && let Err(e) = validate_work_type_name(v)
        {
            problems.push(FactProblem::new(name, e.message));
        }
    }

    for (i, c) in facts.certificates.iter().enumerate() {
        if !(1..=5).contains(&c.level) {
            problems.push(FactProblem::new(format!("certificates[{i}].level"), format!("证书等级“{}”无效，应为1至5级", c.level)));
        }
        if let Some(issued) = c.issued_on {
            if let Some(b) = birth
                && issued <= b
            {
                problems.push(FactProblem::new(
                    format!("certificates[{i}].issued_on"),
                    format!("证书发证日期 {} 不晚于出生日期 {}", d(issued), d(b)),
                ));
            }
            if issued > on {
                problems.push(FactProblem::new(
                    format!("certificates[{i}].issued_on"),
                    format!("证书发证日期 {} 晚于评估日期 {}", d(issued), d(on)),
                ));
            }
        }
        if let Some(wt) = &c.work_type
            && let Err(e) = validate_work_type_name(wt)
        {
            problems.push(FactProblem::new(format!("certificates[{i}].work_type"), e.message));
        }
    }

    if let Some(level) = facts.appointed_post_level
        && !(1..=5).contains(&level)
    {
        problems.push(FactProblem::new("appointed_post_level", format!("聘任岗位等级“{level}”无效，应为1至5级")));
    }
    if let Some(since) = facts.appointed_post_since
        && since > on
    {
        problems.push(FactProblem::new("appointed_post_since", format!("聘任时间 {} 晚于评估日期 {}", d(since), d(on))));
    }

    for (i, a) in facts.annual_appraisals.iter().enumerate() {
        if a.year > on.year() {
            problems.push(FactProblem::new(format!("annual_appraisals[{i}].year"), format!("{}年度考核结果晚于评估年度", a.year)));
        }
        if let Some(b) = birth
            && a.year < b.year() + MIN_WORKING_AGE
        {
            problems
                .push(FactProblem::new(format!("annual_appraisals[{i}].year"), format!("{}年度考核早于年满{MIN_WORKING_AGE}周岁", a.year)));
        }
        // Reported once per year, at its first record, so the list does not depend on record order.
        let first_of_year = !facts.annual_appraisals.iter().take(i).any(|earlier| earlier.year == a.year);
        if first_of_year && facts.annual_appraisals.iter().any(|other| other.year == a.year && other.grade != a.grade) {
            problems.push(FactProblem::new(format!("annual_appraisals[{i}]"), format!("{}年度有两个不同的考核等次", a.year)));
        }
    }
    for (i, y) in facts.party_excellence_years.iter().enumerate() {
        if *y > on.year() {
            problems.push(FactProblem::new(format!("party_excellence_years[{i}]"), format!("优秀共产党员年度 {y} 晚于评估年度")));
        }
    }

    for (i, a) in facts.achievements.iter().enumerate() {
        if let Some(date) = a.date {
            if date > on {
                problems.push(FactProblem::new(
                    format!("achievements[{i}].date"),
                    format!("业绩或荣誉日期 {} 晚于评估日期 {}", d(date), d(on)),
                ));
            }
            if let Some(b) = birth
                && date <= b
            {
                problems.push(FactProblem::new(
                    format!("achievements[{i}].date"),
                    format!("业绩或荣誉日期 {} 不晚于出生日期 {}", d(date), d(b)),
                ));
            }
        }
        if a.kind.trim().is_empty() {
            problems.push(FactProblem::new(format!("achievements[{i}].kind"), "业绩或荣誉类别不能为空"));
        }
    }

    for (i, s) in facts.sanctions.iter().enumerate() {
        if let Some(decided) = s.decided_on {
            if decided > on {
                problems.push(FactProblem::new(
                    format!("sanctions[{i}].decided_on"),
                    format!("处理决定日期 {} 晚于评估日期 {}", d(decided), d(on)),
                ));
            }
            if let Some(until) = s.bars_until
                && until < decided
            {
                problems.push(FactProblem::new(
                    format!("sanctions[{i}].bars_until"),
                    format!("禁考截止日期 {} 早于处理决定日期 {}", d(until), d(decided)),
                ));
            }
        }
    }

    problems
}
