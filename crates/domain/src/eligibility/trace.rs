//! The evaluator's output: verdicts and the trace of every rule, with the facts and thresholds
//! used. Explanations are kept as data and rendered to Chinese only when displayed or
//! serialised, so that evaluating stays cheap while the trace stays complete.

use std::fmt::{self, Display, Write as _};

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use time::Date;

use super::codes::coded_enum;
use super::facts::{Achievement, Appraisal, Certificate, CertificateSource, Education, FactProblem, Grade, StaffType};
use super::ruleset::{AttestedFact, Comparison, Confidence, MAX_ROUTES, Membership, Route};
use crate::campaign::{Level, format_date};
use crate::person::Sex;
use crate::retirement::{RetirementCategory, StatutoryAge};

coded_enum! {
    pub enum Verdict {
        Eligible = ("eligible", "符合"),
        NotEligible = ("not_eligible", "不符合"),
        NeedsReview = ("needs_review", "需人工审核"),
    }
}

coded_enum! {
    pub enum Outcome {
        Passed = ("passed", "通过"),
        Failed = ("failed", "未通过"),
        NotDecidable = ("not_decidable", "无法判断"),
    }
}

impl Outcome {
    /// Outcome of an `all_of`: one failure decides; otherwise one unknown leaves it open.
    pub(crate) fn and(self, other: Outcome) -> Outcome {
        match (self, other) {
            (Outcome::Failed, _) | (_, Outcome::Failed) => Outcome::Failed,
            (Outcome::NotDecidable, _) | (_, Outcome::NotDecidable) => Outcome::NotDecidable,
            _ => Outcome::Passed,
        }
    }

    /// Outcome of an `any_of`: one pass decides; otherwise one unknown leaves it open.
    pub(crate) fn or(self, other: Outcome) -> Outcome {
        match (self, other) {
            (Outcome::Passed, _) | (_, Outcome::Passed) => Outcome::Passed,
            (Outcome::NotDecidable, _) | (_, Outcome::NotDecidable) => Outcome::NotDecidable,
            _ => Outcome::Failed,
        }
    }
}

/// The facts a rule can cite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactName {
    StaffType,
    InPost,
    Retired,
    Sex,
    BirthDate,
    Age,
    RetirementCategory,
    StatutoryAge,
    RetirementDate,
    ActualRetirementDate,
    SanctionDecidedOn,
    BarsUntil,
    WorkStartDate,
    WorkYears,
    RegularisedOn,
    Education,
    CurrentWorkType,
    AppliedWorkType,
    CarReform,
    Certificate,
    CertificateIssuedOn,
    YearsAtLevel,
    YearsContinuous,
    AppointedPostLevel,
    AppointedPostSince,
    Appraisals,
    ExcellentYears,
    Achievement,
    AchievementCount,
    Attestation,
    SpecialPolicy,
    Route,
}

impl FactName {
    pub fn as_str(self) -> &'static str {
        match self {
            FactName::StaffType => "staff_type",
            FactName::InPost => "in_post",
            FactName::Retired => "retired",
            FactName::Sex => "sex",
            FactName::BirthDate => "birth_date",
            FactName::Age => "age",
            FactName::RetirementCategory => "retirement_category",
            FactName::StatutoryAge => "statutory_age",
            FactName::RetirementDate => "retirement_date",
            FactName::ActualRetirementDate => "actual_retirement_date",
            FactName::SanctionDecidedOn => "sanction_decided_on",
            FactName::BarsUntil => "bars_until",
            FactName::WorkStartDate => "work_start_date",
            FactName::WorkYears => "work_years",
            FactName::RegularisedOn => "regularised_on",
            FactName::Education => "education",
            FactName::CurrentWorkType => "current_work_type",
            FactName::AppliedWorkType => "applied_work_type",
            FactName::CarReform => "work_type_changed_by_car_reform",
            FactName::Certificate => "certificate",
            FactName::CertificateIssuedOn => "certificate_issued_on",
            FactName::YearsAtLevel => "years_at_level",
            FactName::YearsContinuous => "years_at_level_continuous",
            FactName::AppointedPostLevel => "appointed_post_level",
            FactName::AppointedPostSince => "appointed_post_since",
            FactName::Appraisals => "annual_appraisals",
            FactName::ExcellentYears => "excellent_years",
            FactName::Achievement => "achievement",
            FactName::AchievementCount => "achievement_count",
            FactName::Attestation => "attestation",
            FactName::SpecialPolicy => "special_policy",
            FactName::Route => "route",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            FactName::StaffType => "人员类别",
            FactName::InPost => "是否在岗",
            FactName::Retired => "是否已办理退休",
            FactName::Sex => "性别",
            FactName::BirthDate => "出生日期",
            FactName::Age => "年龄",
            FactName::RetirementCategory => "退休类别",
            FactName::StatutoryAge => "法定退休年龄",
            FactName::RetirementDate => "达到法定退休年龄日期",
            FactName::ActualRetirementDate => "实际退休日期",
            FactName::SanctionDecidedOn => "处理决定日期",
            FactName::BarsUntil => "禁止报考截止日期",
            FactName::WorkStartDate => "参加工作时间",
            FactName::WorkYears => "工作年限",
            FactName::RegularisedOn => "转正定级时间",
            FactName::Education => "文化程度",
            FactName::CurrentWorkType => "现从事岗位工种",
            FactName::AppliedWorkType => "申报工种",
            FactName::CarReform => "因公车改革变更工种",
            FactName::Certificate => "证书",
            FactName::CertificateIssuedOn => "证书取得时间",
            FactName::YearsAtLevel => "本工种本等级年限",
            FactName::YearsContinuous => "本等级年限是否连续",
            FactName::AppointedPostLevel => "聘任岗位等级",
            FactName::AppointedPostSince => "聘任时间",
            FactName::Appraisals => "年度考核结果",
            FactName::ExcellentYears => "优秀或优秀共产党员年度数",
            FactName::Achievement => "业绩或荣誉",
            FactName::AchievementCount => "符合条件的业绩或荣誉项数",
            FactName::Attestation => "证明材料",
            FactName::SpecialPolicy => "特殊政策",
            FactName::Route => "满足的途径",
        }
    }
}

/// A fact's value, borrowed from the person's facts or the rule set where possible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactValue<'a> {
    Missing,
    Date(Date),
    Int(i64),
    Years(i32),
    Bool(bool),
    Text(&'a str),
    Sex(Sex),
    Education(Education),
    StaffType(StaffType),
    Category(RetirementCategory),
    Age(StatutoryAge),
    Level(u8),
    Certificate(&'a Certificate),
    Achievement(&'a Achievement),
    /// The appraisals of the years `from..=to`, shown in year order.
    Appraisals {
        all: &'a [Appraisal],
        from: i32,
        to: i32,
    },
}

impl Display for FactValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FactValue::Missing => f.write_str("未填写"),
            FactValue::Date(d) => f.write_str(&format_date(*d)),
            FactValue::Int(n) => write!(f, "{n}"),
            FactValue::Years(n) => write!(f, "{n}年"),
            FactValue::Bool(b) => f.write_str(if *b { "是" } else { "否" }),
            FactValue::Text(t) => f.write_str(t),
            FactValue::Sex(s) => f.write_str(s.label()),
            FactValue::Education(e) => f.write_str(e.label()),
            FactValue::StaffType(s) => f.write_str(s.label()),
            FactValue::Category(c) => f.write_str(c.label()),
            FactValue::Age(a) => write!(f, "{a}"),
            FactValue::Level(l) => f.write_str(level_name(*l)),
            FactValue::Certificate(c) => write_certificate(f, c),
            FactValue::Achievement(a) => {
                f.write_str(&a.kind)?;
                if let Some(s) = a.scope {
                    write!(f, "（{}）", s.label())?;
                }
                if let Some(r) = a.rank {
                    write!(f, "第{r}名")?;
                }
                if let Some(d) = a.date {
                    write!(f, "，{}", format_date(d))?;
                }
                Ok(())
            }
            FactValue::Appraisals { all, from, to } => {
                let mut first = true;
                for year in *from..=*to {
                    if !first {
                        f.write_str("；")?;
                    }
                    first = false;
                    match worst_grade(all, year) {
                        Some(g) => write!(f, "{year}年{}", g.label())?,
                        None => write!(f, "{year}年未填写")?,
                    }
                }
                Ok(())
            }
        }
    }
}

/// The lowest grade recorded for a year, so that a duplicated year never helps the applicant
/// and the result does not depend on the order of the records.
pub(crate) fn worst_grade(all: &[Appraisal], year: i32) -> Option<Grade> {
    all.iter().filter(|a| a.year == year).map(|a| a.grade).min_by_key(|g| g.rank().map_or(-1, i16::from))
}

fn write_certificate(f: &mut fmt::Formatter<'_>, c: &Certificate) -> fmt::Result {
    f.write_str(level_name(c.level))?;
    f.write_str("证书")?;
    if let Some(w) = &c.work_type {
        write!(f, "（{w}）")?;
    }
    if let Some(d) = c.issued_on {
        write!(f, "，{}取得", format_date(d))?;
    }
    if let Some(s) = c.source {
        write!(f, "，{}", s.label())?;
    }
    Ok(())
}

pub(crate) fn level_name(level: u8) -> &'static str {
    Level::from_number(level).map_or("未知等级", Level::label)
}

fn level_short(level: u8) -> &'static str {
    Level::from_number(level).map_or("未知等级", Level::short_label)
}

/// Up to four facts, inline: no rule cites more, and an inline list keeps evaluation free of
/// per-rule allocations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FactList<'a> {
    items: [Option<(FactName, FactValue<'a>)>; 4],
    /// Set if a rule tried to cite more than fits; the tests assert it never happens.
    pub truncated: bool,
}

impl<'a> FactList<'a> {
    pub(crate) fn push(&mut self, name: FactName, value: FactValue<'a>) {
        match self.items.iter_mut().find(|slot| slot.is_none()) {
            Some(slot) => *slot = Some((name, value)),
            None => self.truncated = true,
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (FactName, FactValue<'a>)> + '_ {
        self.items.iter().flatten().copied()
    }

    pub fn len(&self) -> usize {
        self.iter().count()
    }

    pub fn is_empty(&self) -> bool {
        self.items.iter().all(Option::is_none)
    }

    pub fn get(&self, name: FactName) -> Option<FactValue<'a>> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }
}

impl Serialize for FactList<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        for (name, value) in self.iter() {
            seq.serialize_element(&FactEntry { name, value })?;
        }
        seq.end()
    }
}

struct FactEntry<'a> {
    name: FactName,
    value: FactValue<'a>,
}

impl Serialize for FactEntry<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("fact", self.name.as_str())?;
        map.serialize_entry("label", self.name.label())?;
        map.serialize_entry("value", &self.value.to_string())?;
        map.end()
    }
}

/// The threshold a rule compared against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Threshold<'a> {
    NotLaterThan(Date),
    Years { op: Comparison, years: u32 },
    Certificate(u8),
    Education(Education),
    Age { male: u32, female: u32 },
    PostLevel(u8),
    Appraisal { from: i32, to: i32, at_least: Grade },
    Excellent { from: i32, to: i32, min: u32 },
    Count { min: u32, list: &'a str },
    StaffTypes(&'a [StaffType]),
    Text(&'a str),
    MustBeTrue,
}

impl Display for Threshold<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Threshold::NotLaterThan(d) => write!(f, "不晚于{}", format_date(*d)),
            Threshold::Years { op: Comparison::AtLeast, years } => write!(f, "{years}年（含）以上"),
            Threshold::Years { op: Comparison::Below, years } => write!(f, "不满{years}年"),
            Threshold::Certificate(l) => write!(f, "持有{}证书", level_short(*l)),
            Threshold::Education(e) => write!(f, "{}及以上", e.label()),
            Threshold::Age { male, female } => write!(f, "男{male}周岁、女{female}周岁及以上"),
            Threshold::PostLevel(l) => write!(f, "聘任在{}及以上岗位", level_short(*l)),
            Threshold::Appraisal { from, to, at_least } => write!(f, "{from}至{to}年度均为{}及以上", at_least.label()),
            Threshold::Excellent { from, to, min } => write!(f, "{from}至{to}年度中至少{min}个年度为优秀或优秀共产党员"),
            Threshold::Count { min, list } => write!(f, "至少{min}项：{list}"),
            Threshold::StaffTypes(types) => {
                for (i, t) in types.iter().enumerate() {
                    if i > 0 {
                        f.write_str("、")?;
                    }
                    f.write_str(t.label())?;
                }
                Ok(())
            }
            Threshold::Text(t) => f.write_str(t),
            Threshold::MustBeTrue => f.write_str("须为“是”"),
        }
    }
}

impl Serialize for Threshold<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Where a rule comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source<'a> {
    pub document: &'a str,
    pub clause: &'a str,
    pub confidence: Confidence,
}

impl Serialize for Source<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("document", self.document)?;
        map.serialize_entry("clause", self.clause)?;
        map.serialize_entry("confidence", self.confidence.as_str())?;
        map.serialize_entry("confidence_label", self.confidence.label())?;
        map.end()
    }
}

/// What was found about a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateFinding<'a> {
    Found {
        certificate: &'a Certificate,
        via_car_reform: bool,
        via_merge: bool,
    },
    /// Only in another work type.
    OtherWorkType {
        certificate: &'a Certificate,
    },
    /// Only from a channel that does not count.
    SourceNotAccepted {
        source: CertificateSource,
    },
    /// A candidate whose channel is not recorded.
    SourceUnknown {
        certificate: &'a Certificate,
    },
    None,
}

/// Why a rule came out as it did; rendered to Chinese together with the outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Explanation<'a> {
    Missing(FactName),
    StaffType {
        value: StaffType,
    },
    InPost {
        in_post: bool,
    },
    Retired {
        retired: Option<bool>,
    },
    RetirementAge {
        date: Date,
        actual: bool,
        cutoff: &'a str,
    },
    Ban {
        until: Option<Date>,
        decided_on: Option<Date>,
    },
    Catalogue {
        name: &'a str,
        membership: Membership,
        list: &'a str,
    },
    MatchesPost {
        applied: &'a str,
        current: &'a str,
    },
    Regularised {
        on: Date,
        cutoff: Date,
    },
    WorkYears {
        years: i32,
        op: Comparison,
        threshold: u32,
        counting: &'a str,
    },
    Certificate {
        level: u8,
        applied: &'a str,
        finding: CertificateFinding<'a>,
    },
    YearsAtLevel {
        level: u8,
        years: Option<i32>,
        threshold: u32,
        continuous_required: bool,
        continuous: Option<bool>,
        finding: CertificateFinding<'a>,
    },
    Education {
        value: Education,
        at_least: Education,
    },
    Age {
        sex: Sex,
        age: i32,
        threshold: u32,
    },
    Attested {
        fact: AttestedFact,
        value: Option<bool>,
    },
    AppointedPost {
        level: u8,
        required: u8,
    },
    AppraisalWindow {
        from: i32,
        to: i32,
        at_least: Grade,
        first_bad: Option<(i32, Grade)>,
        first_missing: Option<i32>,
    },
    ExcellentYears {
        from: i32,
        to: i32,
        count: u32,
        min: u32,
        unknown_years: u32,
    },
    Achievements {
        list: &'a str,
        sure: u32,
        review: u32,
        min: u32,
        matched: Option<&'a str>,
        after: Option<Date>,
        no_certificate: bool,
    },
    Level1WorkType {
        name: &'a str,
        membership: Membership,
        list: &'a str,
    },
    ManualReview {
        reason: &'a str,
    },
    AnyOf {
        routes: &'a [Route],
        outcomes: [Option<Outcome>; MAX_ROUTES],
    },
    LevelUndefined {
        level: u8,
    },
    ExceptionalPromotion {
        ground: &'a str,
        waived: &'a str,
    },
    InvalidFacts(FactProblem),
}

impl Explanation<'_> {
    /// Chinese text for a clerk to read aloud.
    pub fn render(&self, outcome: Outcome, f: &mut impl fmt::Write) -> fmt::Result {
        let passed = outcome == Outcome::Passed;
        match self {
            Explanation::Missing(fact) => write!(f, "未填写“{}”，无法判断，请依据人事档案补录后重新审核。", fact.label()),
            Explanation::StaffType { value } => {
                if passed {
                    write!(f, "人员类别为“{}”，属于本年度考核对象范围。", value.label())
                } else {
                    write!(f, "人员类别为“{}”，不属于本年度考核对象范围。", value.label())
                }
            }
            Explanation::InPost { in_post } => {
                if *in_post {
                    f.write_str("本人在工勤技能岗位在岗，属于考核对象。")
                } else {
                    f.write_str("本人不在岗，不属于考核对象（考核对象为在岗人员）。")
                }
            }
            Explanation::Retired { retired } => match retired {
                Some(true) => f.write_str("本人已办理退休手续，不再列入考核范围。"),
                Some(false) => f.write_str("本人未办理退休手续。"),
                None => f.write_str("人事信息中未登记退休手续（是否已达退休年龄另行判断）。"),
            },
            Explanation::RetirementAge { date, actual, cutoff } => {
                let what = if *actual { "实际退休日期" } else { "达到法定退休年龄的日期" };
                match outcome {
                    Outcome::Passed => write!(f, "{what}为{}，在{cutoff}之后，未被排除。", format_date(*date)),
                    Outcome::Failed => write!(f, "{what}为{}，不晚于{cutoff}，不再列入考核范围。", format_date(*date)),
                    Outcome::NotDecidable => {
                        write!(f, "{what}为{}，而{cutoff}的确切日期未能确认，无法判断是否应排除，需人工核实。", format_date(*date))
                    }
                }
            }
            Explanation::Ban { until, decided_on } => match (outcome, until) {
                (Outcome::Failed, Some(u)) => write!(
                    f,
                    "因填报虚假材料信息被取消申报资格{}，禁止申报至{}，本次不得申报。",
                    decided_on.map(|d| format!("（{}决定）", format_date(d))).unwrap_or_default(),
                    format_date(*u)
                ),
                (Outcome::NotDecidable, _) => {
                    f.write_str("有填报虚假材料信息的处理记录，但处理日期和禁考期限均未填写，无法判断是否仍在禁考期内。")
                }
                (_, Some(u)) => write!(f, "曾有处理记录，禁考期已于{}届满，不影响本次申报。", format_date(*u)),
                (_, None) => f.write_str("无在期内的禁止申报处理记录。"),
            },
            Explanation::Catalogue { name, membership, list } => match membership {
                Membership::In => write!(f, "工种“{name}”在{list}中。"),
                Membership::NotIn => write!(f, "工种“{name}”不在{list}中，不能按该工种申报。"),
                Membership::Unknown => write!(f, "工种“{name}”不在系统已收录的{list}名单中，而该目录未完整收录，需人工核对目录。"),
            },
            Explanation::MatchesPost { applied, current } => {
                if passed {
                    write!(f, "申报工种“{applied}”与现从事岗位工种一致，符合对岗报考要求。")
                } else {
                    write!(f, "申报工种“{applied}”与现从事岗位工种“{current}”不一致，应按实际从事的工种对岗报考。")
                }
            }
            Explanation::Regularised { on, cutoff } => {
                if passed {
                    write!(f, "转正定级时间为{}，在{}之前（含当日），符合要求。", format_date(*on), format_date(*cutoff))
                } else {
                    write!(f, "转正定级时间为{}，晚于{}，不符合要求。", format_date(*on), format_date(*cutoff))
                }
            }
            Explanation::WorkYears { years, op, threshold, counting } => {
                let need = match op {
                    Comparison::AtLeast => format!("{threshold}年（含）以上"),
                    Comparison::Below => format!("不满{threshold}年"),
                };
                let verdict = if passed { "符合" } else { "不符合" };
                write!(f, "工作年限{counting}为{years}年，要求{need}，{verdict}。")
            }
            Explanation::Certificate { level, applied, finding } => {
                let l = level_short(*level);
                match finding {
                    CertificateFinding::Found { certificate, via_car_reform, via_merge } => {
                        write!(f, "持有{l}证书")?;
                        if let Some(w) = &certificate.work_type {
                            write!(f, "（{w}）")?;
                        }
                        if *via_car_reform {
                            write!(f, "，依公车改革例外可用于现从事工种“{applied}”的申报")?;
                        } else if *via_merge {
                            write!(f, "，按本年度规则可合并计入申报工种“{applied}”")?;
                        }
                        f.write_str("，符合要求。")
                    }
                    CertificateFinding::OtherWorkType { certificate } => write!(
                        f,
                        "持有的{l}证书为“{}”工种，与申报工种“{applied}”不同，不能作为本工种的{l}证书。",
                        certificate.work_type.as_deref().unwrap_or("未填写")
                    ),
                    CertificateFinding::SourceNotAccepted { source } => {
                        write!(f, "持有的{l}证书来源为“{}”，不属于本年度认可的证书，不能作为申报依据。", source.label())
                    }
                    CertificateFinding::SourceUnknown { .. } => {
                        write!(f, "持有{l}证书，但未填写证书来源，无法确认是否为认可的证书，需人工核对。")
                    }
                    CertificateFinding::None => write!(f, "未持有申报工种“{applied}”的{l}证书。"),
                }
            }
            Explanation::YearsAtLevel { level, years, threshold, continuous_required, continuous, finding } => {
                let l = level_short(*level);
                match (finding, years) {
                    (CertificateFinding::Found { certificate, .. }, Some(y)) => {
                        let since = certificate.issued_on.map(format_date).unwrap_or_default();
                        write!(f, "{since}取得{l}证书，按本年度计算本工种本等级年限为{y}年，要求满{threshold}年")?;
                        if *continuous_required {
                            match continuous {
                                Some(true) => f.write_str("且连续")?,
                                Some(false) => f.write_str("且须连续，但本人在该等级的工作年限有中断")?,
                                None => f.write_str("且须连续，但未填写是否连续，需人工核实")?,
                            }
                        }
                        f.write_str(match outcome {
                            Outcome::Passed => "，符合要求。",
                            Outcome::Failed => "，不符合要求。",
                            Outcome::NotDecidable => "。",
                        })
                    }
                    (CertificateFinding::Found { .. }, None) => write!(f, "未填写{l}证书的取得时间，无法计算本工种本等级年限。"),
                    (CertificateFinding::SourceUnknown { .. }, _) => {
                        write!(f, "{l}证书未填写来源，无法确认能否计算本等级年限，需人工核对。")
                    }
                    _ => write!(f, "未持有本工种{l}证书，不能按本等级年限计算。"),
                }
            }
            Explanation::Education { value, at_least } => {
                if passed {
                    write!(f, "文化程度为{}，达到{}及以上的要求。", value.label(), at_least.label())
                } else {
                    write!(f, "文化程度为{}，低于{}的要求。", value.label(), at_least.label())
                }
            }
            Explanation::Age { sex, age, threshold } => {
                let verdict = if passed { "符合" } else { "不符合" };
                write!(f, "{}，年龄{age}周岁，要求{threshold}周岁及以上，{verdict}。", sex.label())
            }
            Explanation::Attested { fact, value } => {
                let what = match fact {
                    AttestedFact::UnitAttestsHighSkill => "单位出具的具有较高技艺的证明",
                    AttestedFact::WageApprovalFormLevel2 => "主管部门盖章的执行二级（技师）工资待遇的工资审批表",
                    AttestedFact::CnJournalPaper => "在CN刊物上独立发表的本专业论文",
                };
                match value {
                    Some(true) => write!(f, "已提供{what}。"),
                    Some(false) => write!(f, "未提供{what}，不符合要求。"),
                    None => write!(f, "尚未确认是否已提供{what}，系统无法判断，需人工审核。"),
                }
            }
            Explanation::AppointedPost { level, required } => {
                if passed {
                    write!(f, "现聘任在{}岗位，达到聘任在{}岗位的要求。", level_short(*level), level_short(*required))
                } else {
                    write!(f, "现聘任在{}岗位，未聘任在{}及以上岗位。", level_short(*level), level_short(*required))
                }
            }
            Explanation::AppraisalWindow { from, to, at_least, first_bad, first_missing } => match (first_bad, first_missing) {
                (Some((year, grade)), _) => {
                    write!(f, "{year}年度考核为“{}”，不满足{from}至{to}年度均为{}及以上的要求。", grade.label(), at_least.label())
                }
                (None, Some(year)) => write!(f, "未填写{year}年度考核结果，无法判断{from}至{to}年度是否均为{}及以上。", at_least.label()),
                (None, None) => write!(f, "{from}至{to}年度考核均为{}及以上，符合要求。", at_least.label()),
            },
            Explanation::ExcellentYears { from, to, count, min, unknown_years } => match outcome {
                Outcome::Passed => write!(f, "{from}至{to}年度中有{count}个年度为优秀或优秀共产党员，达到至少{min}个年度的要求。"),
                Outcome::Failed => write!(f, "{from}至{to}年度中只有{count}个年度为优秀或优秀共产党员，少于要求的{min}个年度。"),
                Outcome::NotDecidable => {
                    write!(
                        f,
                        "{from}至{to}年度中已知{count}个年度为优秀或优秀共产党员，另有{unknown_years}个年度未填写考核结果，无法判断是否达到{min}个年度。"
                    )
                }
            },
            Explanation::Achievements { list, sure, review, min, matched, after, no_certificate } => {
                if *no_certificate {
                    return write!(f, "未持有相应证书或未填写取得时间，无法认定取得证书后的{list}。");
                }
                let since = after.map(|d| format!("（{}以后）", format_date(d))).unwrap_or_default();
                match outcome {
                    Outcome::Passed => write!(f, "具有{list}{since}{sure}项")?,
                    Outcome::Failed => write!(f, "未具有足够的{list}{since}：符合条件的{sure}项，要求至少{min}项")?,
                    Outcome::NotDecidable => write!(f, "{list}{since}确定符合的{sure}项，另有{review}项需人工认定，要求至少{min}项")?,
                }
                if let Some(m) = matched {
                    write!(f, "（如：{m}）")?;
                }
                f.write_str("。")
            }
            Explanation::Level1WorkType { name, membership, list } => match membership {
                Membership::In => write!(f, "工种“{name}”在{list}中，可以申报一级。"),
                Membership::NotIn => write!(f, "工种“{name}”不在{list}中，本年度不能申报一级。"),
                Membership::Unknown => write!(f, "工种“{name}”不在系统已收录的{list}中，而该名单未完整公开，需人工核对。"),
            },
            Explanation::ManualReview { reason } => f.write_str(reason),
            Explanation::AnyOf { routes, outcomes } => {
                let passed_route = routes.iter().zip(outcomes.iter()).find(|(_, o)| **o == Some(Outcome::Passed)).map(|(r, _)| r);
                if let Some(r) = passed_route {
                    write!(f, "满足途径“{}”", r.label)?;
                    let others: Vec<&str> = routes
                        .iter()
                        .zip(outcomes.iter())
                        .filter(|(_, o)| **o != Some(Outcome::Passed))
                        .map(|(r, _)| r.label.as_str())
                        .collect();
                    if !others.is_empty() {
                        write!(f, "；其他途径（{}）未满足，不影响结果", others.join("、"))?;
                    }
                    return f.write_str("。");
                }
                f.write_str("各途径均未满足：")?;
                for (i, (r, o)) in routes.iter().zip(outcomes.iter()).enumerate() {
                    if i > 0 {
                        f.write_str("；")?;
                    }
                    let o = o.map_or("未评估", |o| o.label());
                    write!(f, "途径“{}”{o}", r.label)?;
                }
                f.write_str("。详见各途径下的条件。")
            }
            Explanation::LevelUndefined { level } => write!(f, "本规则集未定义{}的申报条件，无法判断。", level_name(*level)),
            Explanation::ExceptionalPromotion { ground, waived } => {
                write!(f, "依破格条件“{ground}”免除了“{waived}”条件。河南省未见破格免除范围的原文，破格申报须人工审核确认。")
            }
            Explanation::InvalidFacts(p) => {
                write!(f, "数据矛盾（{}）：{}。请核对人事档案后更正，更正前不能认定符合条件。", p.field, p.reason)
            }
        }
    }
}

/// The result of one rule for one person and level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleResult<'a> {
    pub rule_id: &'a str,
    /// The route of an `any_of` this rule belongs to, if any.
    pub route: Option<&'a str>,
    pub outcome: Outcome,
    pub facts_used: FactList<'a>,
    pub threshold: Option<Threshold<'a>>,
    pub explanation: Explanation<'a>,
    pub source: Source<'a>,
    /// Set when the rule was not met but a policy or 破格 waived it; the outcome is then Passed.
    pub waived_by: Option<&'a str>,
}

impl RuleResult<'_> {
    /// The explanation in Chinese, ready to read aloud.
    pub fn explanation_text(&self) -> String {
        let mut s = String::new();
        // Writing to a String cannot fail.
        let _ = self.write_explanation(&mut s);
        s
    }

    fn write_explanation(&self, f: &mut impl fmt::Write) -> fmt::Result {
        match self.waived_by {
            Some(by) => {
                // The original finding is rendered as it was, so the trace shows what was waived.
                self.explanation.render(Outcome::Failed, f)?;
                write!(f, "该条件依“{by}”予以免除。")
            }
            None => self.explanation.render(self.outcome, f),
        }
    }
}

impl Serialize for RuleResult<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("rule_id", self.rule_id)?;
        if let Some(r) = self.route {
            map.serialize_entry("route", r)?;
        }
        map.serialize_entry("outcome", self.outcome.as_str())?;
        map.serialize_entry("outcome_label", self.outcome.label())?;
        map.serialize_entry("facts_used", &self.facts_used)?;
        map.serialize_entry("threshold", &self.threshold)?;
        map.serialize_entry("explanation", &self.explanation_text())?;
        map.serialize_entry("source", &self.source)?;
        if let Some(w) = self.waived_by {
            map.serialize_entry("waived_by", w)?;
        }
        map.end()
    }
}

/// Something a clerk should tell the applicant that does not change the verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning<'a> {
    RetiresDuringCampaignYear { date: Date, year: i32 },
    AlreadyHoldsLevel { level: u8 },
    Note(&'a str),
    UnknownPolicy(&'a str),
}

impl Warning<'_> {
    pub fn code(&self) -> &'static str {
        match self {
            Warning::RetiresDuringCampaignYear { .. } => "retires_during_campaign_year",
            Warning::AlreadyHoldsLevel { .. } => "already_holds_level",
            Warning::Note(_) => "note",
            Warning::UnknownPolicy(_) => "unknown_policy",
        }
    }
}

impl Display for Warning<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::RetiresDuringCampaignYear { date, year } => write!(
                f,
                "本人将于{}（{year}年度内）达到法定退休年龄或办理退休，应充分了解单位岗位空缺情况及有关聘用政策后自主决定是否申报。",
                format_date(*date)
            ),
            Warning::AlreadyHoldsLevel { level } => write!(f, "本人已持有{}或更高等级的证书，请确认是否需要申报。", level_short(*level)),
            Warning::Note(t) => f.write_str(t),
            Warning::UnknownPolicy(id) => write!(f, "所标记的特殊政策“{id}”不属于本年度规则集，未予适用。"),
        }
    }
}

impl Serialize for Warning<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("code", self.code())?;
        map.serialize_entry("message", &self.to_string())?;
        map.end()
    }
}

/// The verdict for one level, with the full trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelVerdict<'a> {
    pub level: Level,
    pub verdict: Verdict,
    pub results: Vec<RuleResult<'a>>,
    pub warnings: Vec<Warning<'a>>,
}

impl LevelVerdict<'_> {
    pub fn result(&self, rule_id: &str) -> Option<&RuleResult<'_>> {
        self.results.iter().find(|r| r.rule_id == rule_id)
    }

    /// A plain-text report for a clerk: verdict, then one line per rule, then warnings.
    pub fn report(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "{}：{}", self.level.label(), self.verdict.label());
        for r in &self.results {
            let _ = write!(s, "  [{}] {}：", r.outcome.label(), r.rule_id);
            let _ = r.write_explanation(&mut s);
            let _ = writeln!(s, "（{} {}，{}）", r.source.document, r.source.clause, r.source.confidence.as_str());
        }
        for w in &self.warnings {
            let _ = writeln!(s, "  提示：{w}");
        }
        s
    }
}

impl Serialize for LevelVerdict<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(6))?;
        map.serialize_entry("level", &self.level.number())?;
        map.serialize_entry("level_label", self.level.label())?;
        map.serialize_entry("verdict", self.verdict.as_str())?;
        map.serialize_entry("verdict_label", self.verdict.label())?;
        map.serialize_entry("results", &self.results)?;
        map.serialize_entry("warnings", &self.warnings)?;
        map.end()
    }
}

/// One evaluation of one person against one rule set on one date. It records the rule set's id,
/// version and fingerprint so that a stored evaluation says exactly which rules it applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation<'a> {
    pub rule_set_id: &'a str,
    pub rule_set_version: u32,
    pub rule_set_fingerprint: &'a str,
    pub campaign_year: i32,
    pub evaluated_on: Date,
    pub input_problems: Vec<FactProblem>,
    pub levels: Vec<LevelVerdict<'a>>,
}

impl Evaluation<'_> {
    pub fn level(&self, level: Level) -> Option<&LevelVerdict<'_>> {
        self.levels.iter().find(|l| l.level == level)
    }
}

impl Serialize for Evaluation<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(7))?;
        map.serialize_entry("rule_set_id", self.rule_set_id)?;
        map.serialize_entry("rule_set_version", &self.rule_set_version)?;
        map.serialize_entry("rule_set_fingerprint", self.rule_set_fingerprint)?;
        map.serialize_entry("campaign_year", &self.campaign_year)?;
        map.serialize_entry("evaluated_on", &format_date(self.evaluated_on))?;
        map.serialize_entry("input_problems", &self.input_problems)?;
        map.serialize_entry("levels", &self.levels)?;
        map.end()
    }
}
