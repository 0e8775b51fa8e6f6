//! Rule sets: the data half of the evaluator. The *meaning* of each check lives in code
//! ([`Check`]); which checks a level needs, how they combine, and every threshold, date and list
//! live in versioned JSON files under `crates/domain/rulesets/`, one per campaign.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use sm3::{Digest, Sm3};
use time::{Date, Month};

use super::codes::coded_enum;
use super::facts::{AwardScope, CertificateSource, Education, Grade, StaffType};
use crate::campaign::format_date;
use crate::person::full_years;
use crate::retirement::ReachConvention;

/// The most routes one `any_of` may have; the trace keeps route outcomes inline to avoid
/// allocating on the hot path.
pub const MAX_ROUTES: usize = 6;

/// The most grounds one list may have; per-ground tallies are kept inline for the same reason.
pub const MAX_GROUNDS: usize = 16;

coded_enum! {
    /// How sure the reference is of a rule (reference §0); shown with every rule result so that
    /// a clerk knows which conditions are unconfirmed.
    pub enum Confidence {
        Off = ("OFF", "官方文本"),
        OffStar = ("OFF*", "官方文本（转载，来源未核实）"),
        Sec = ("SEC", "二手来源"),
        Inf = ("INF", "推断，待确认"),
        Missing = ("MISSING", "原文未公开"),
    }
}

/// A document a rule set cites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// Short key the rules use, e.g. `"2013-1"`.
    pub key: String,
    /// How a clerk names it: the document number, or the title when the number is unknown.
    pub name: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub date: Option<String>,
    pub confidence: Confidence,
    #[serde(default)]
    pub note: Option<String>,
}

/// Where a rule comes from: the cited document, the clause, and how sure the reference is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleMeta {
    pub doc: String,
    pub clause: String,
    pub confidence: Confidence,
    #[serde(skip)]
    pub(crate) doc_index: usize,
}

/// A date written relative to the campaign year (`"{Y}-09-30"`, `"{Y-1}-12-31"`) or fixed
/// (`"2020-04-02"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateSpec {
    Fixed(Date),
    CampaignYear { offset: i32, month: Month, day: u8 },
}

impl DateSpec {
    pub fn resolve(self, campaign_year: i32) -> Option<Date> {
        match self {
            DateSpec::Fixed(d) => Some(d),
            DateSpec::CampaignYear { offset, month, day } => Date::from_calendar_date(campaign_year.checked_add(offset)?, month, day).ok(),
        }
    }

    pub fn parse(s: &str) -> Option<DateSpec> {
        let s = s.trim();
        if let Some(rest) = s.strip_prefix("{Y") {
            let (offset, rest) = rest.split_once('}')?;
            let offset: i32 = if offset.is_empty() { 0 } else { offset.strip_prefix('+').unwrap_or(offset).parse().ok()? };
            let rest = rest.strip_prefix('-')?;
            let (m, d) = rest.split_once('-')?;
            let month = Month::try_from(m.parse::<u8>().ok()?).ok()?;
            let day: u8 = d.parse().ok()?;
            // Checked against a leap year so that "{Y}-02-29" is refused only where it fails.
            Date::from_calendar_date(2000, month, day).ok()?;
            return Some(DateSpec::CampaignYear { offset, month, day });
        }
        Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok().map(DateSpec::Fixed)
    }
}

impl fmt::Display for DateSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DateSpec::Fixed(d) => f.write_str(&format_date(*d)),
            DateSpec::CampaignYear { offset, month, day } => {
                let y = match offset {
                    0 => "{Y}".to_owned(),
                    o if *o > 0 => format!("{{Y+{o}}}"),
                    o => format!("{{Y{o}}}"),
                };
                write!(f, "{y}-{:02}-{:02}", u8::from(*month), day)
            }
        }
    }
}

impl Serialize for DateSpec {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DateSpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        DateSpec::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("bad date “{s}”: expected YYYY-MM-DD or {{Y}}-MM-DD")))
    }
}

/// The date before which reaching retirement age excludes a person (reference §3, §10.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ExclusionCutoff {
    /// Excluded when retirement age is reached on or before `date`.
    OnOrBefore { date: DateSpec, label: String },
    /// The exact date is unknown but lies in `[from, to]` (e.g. a notice whose date was not
    /// found): before `from` excludes, after `to` does not, in between needs a person.
    UnknownBetween { from: DateSpec, to: DateSpec, label: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exclusion {
    pub cutoff: ExclusionCutoff,
    #[serde(flatten)]
    pub meta: RuleMeta,
}

/// How years are counted (reference §4.2; all INF, hence a parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum YearCounting {
    /// `Y − year(start) + 1`: calendar years counted inclusively, i.e. to 31 Dec of Y.
    YearInclusive,
    /// `Y − year(start)`: "passed in Y−5 or earlier" for five years at a level.
    YearDifference,
    /// Full years from the start date to a cut-off date.
    FullYearsToDate { cutoff: DateSpec },
}

impl YearCounting {
    /// Years from `start` under this mode in campaign `year`; `None` only if the cut-off does not
    /// resolve, which loading has already ruled out.
    pub fn count(self, start: Date, year: i32) -> Option<i32> {
        match self {
            YearCounting::YearInclusive => Some(year - start.year() + 1),
            YearCounting::YearDifference => Some(year - start.year()),
            YearCounting::FullYearsToDate { cutoff } => cutoff.resolve(year).map(|c| full_years(start, c)),
        }
    }

    pub fn describe(self, year: i32) -> String {
        match self {
            YearCounting::YearInclusive => format!("按自然年度计算至{year}年12月31日（含起始年度）"),
            YearCounting::YearDifference => format!("按{year}年减取得年份计算"),
            YearCounting::FullYearsToDate { cutoff } => match cutoff.resolve(year) {
                Some(c) => format!("按周年计算至{}", format_date(c)),
                None => format!("按周年计算至{cutoff}"),
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Counting {
    pub work_years: YearCounting,
    pub years_at_level: YearCounting,
    /// Whether years at a level in an earlier work type count after an approved change of work
    /// type (reference §4.2: open in Henan, allowed in 山西).
    #[serde(default)]
    pub merge_years_on_worktype_change: bool,
}

/// A list of work types, or all of a catalogue. `complete: false` marks a list the reference
/// only knows in part, so that an unlisted name is "unknown", not "not in the list".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum WorkTypeList {
    All { label: String },
    List { label: String, complete: bool, names: Vec<String> },
}

/// Whether a name is in a [`WorkTypeList`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership {
    In,
    NotIn,
    Unknown,
}

impl WorkTypeList {
    pub fn label(&self) -> &str {
        match self {
            WorkTypeList::All { label } | WorkTypeList::List { label, .. } => label,
        }
    }

    pub fn membership(&self, name: &str) -> Membership {
        match self {
            WorkTypeList::All { .. } => Membership::In,
            WorkTypeList::List { complete, names, .. } => {
                // Sorted when the rule set is loaded.
                if names.binary_search_by(|n| n.as_str().cmp(name)).is_ok() {
                    Membership::In
                } else if *complete {
                    Membership::NotIn
                } else {
                    Membership::Unknown
                }
            }
        }
    }

    fn normalise(&mut self) {
        if let WorkTypeList::List { names, .. } = self {
            for n in names.iter_mut() {
                *n = n.trim().to_owned();
            }
            names.sort();
            names.dedup();
        }
    }
}

/// 公车改革: drivers and car mechanics whose work type changed may apply in their current work
/// type up to `up_to_level`, their old certificates counting for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarReform {
    pub work_types: Vec<String>,
    /// The highest level (smallest number) the exception reaches; 2 in the notices.
    pub up_to_level: u8,
    #[serde(flatten)]
    pub meta: RuleMeta,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkTypeRules {
    pub catalogue: WorkTypeList,
    pub catalogue_rule: RuleMeta,
    pub matches_post_rule: RuleMeta,
    pub level1: WorkTypeList,
    pub car_reform: CarReform,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeRules {
    pub staff_types: Vec<StaffType>,
    pub staff_type_rule: RuleMeta,
    pub in_post_rule: RuleMeta,
    pub retired_rule: RuleMeta,
    /// Levels 5–2; a level may override it (level 1 under 2021/27).
    pub exclusion: Exclusion,
    pub reach_convention: ReachConvention,
    /// Warn those who reach retirement age within the campaign year (the notices leave the
    /// decision to them).
    pub retiring_warning: bool,
    /// Campaigns barred after the one whose application was voided.
    pub ban_years: i32,
    pub ban_rule: RuleMeta,
    /// The rule that makes contradictory facts a matter for the clerk.
    pub input_rule: RuleMeta,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateRules {
    pub accepted_sources: Vec<CertificateSource>,
    #[serde(flatten)]
    pub meta: RuleMeta,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppraisalRules {
    /// Whether an ungraded year (不定等次) breaks "each of the last N years 合格 or better"
    /// (reference §8, §15 item 15: open).
    pub ungraded_breaks_window: bool,
}

/// One ground of a list (an exemption, a 破格 ground, a listed achievement).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ground {
    pub code: String,
    pub label: String,
    /// Achievement `kind` codes that count for this ground.
    pub kinds: Vec<String>,
    #[serde(default)]
    pub min_scope: Option<AwardScope>,
    /// E.g. 3 for "third prize or better", 5 for "among the first five inventors".
    #[serde(default)]
    pub max_rank: Option<u32>,
    /// How many matching achievements make one ground (two utility-model patents).
    #[serde(default = "one")]
    pub min_count: u32,
    /// The ground's text is incomplete or needs judgement: meeting it means manual review.
    #[serde(default)]
    pub needs_review: bool,
}

fn one() -> u32 {
    1
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroundList {
    pub key: String,
    pub label: String,
    pub grounds: Vec<Ground>,
}

/// 破格 (exceptional promotion): grounds as data, and what they waive as data, because no Henan
/// text says what 破格 waives (reference §4.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExceptionalPromotion {
    pub enabled: bool,
    pub grounds: String,
    pub waives: Vec<CheckKind>,
    /// Whether 破格 may skip a level; no source allows it, so loading refuses waiving
    /// `holds_certificate` unless this is true.
    pub skip_level: bool,
    pub levels: Vec<u8>,
    /// Whether an application that relies on 破格 goes to a person.
    pub requires_review: bool,
    #[serde(flatten)]
    pub meta: RuleMeta,
    #[serde(skip)]
    pub(crate) grounds_index: usize,
}

/// A category announced separately (e.g. 2020 front-line health workers): it can add rules and
/// waive checks for the people flagged with its id, without code changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecialPolicy {
    pub id: String,
    pub label: String,
    /// Levels it applies to; empty means all.
    #[serde(default)]
    pub levels: Vec<u8>,
    #[serde(default)]
    pub adds: Vec<RuleNode>,
    #[serde(default)]
    pub waives: Vec<CheckKind>,
    #[serde(flatten)]
    pub meta: RuleMeta,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelRules {
    pub level: u8,
    #[serde(default)]
    pub exclusion: Option<Exclusion>,
    /// Shown as warnings: conditions the unit's review covers, e.g. 品德、业绩.
    #[serde(default)]
    pub notes: Vec<String>,
    pub requires: Vec<RuleNode>,
}

/// One node of a level's requirements: a check with its id and source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleNode {
    pub id: String,
    #[serde(flatten)]
    pub meta: RuleMeta,
    /// Optional conditions (reference §4.4, §5.3 "possibly") stay in the data, switched off.
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(flatten)]
    pub check: Check,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    pub id: String,
    pub label: String,
    pub all_of: Vec<RuleNode>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    AtLeast,
    Below,
}

/// Yes/no facts that only the unit's papers can establish.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttestedFact {
    UnitAttestsHighSkill,
    WageApprovalFormLevel2,
    CnJournalPaper,
}

/// The checks the code knows how to evaluate. A rule set composes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "check", rename_all = "snake_case")]
pub enum Check {
    /// 转正定级 on or before the cut-off.
    RegularisedBy {
        cutoff: DateSpec,
    },
    /// Working years (工作年限) compared with a threshold.
    WorkYears {
        op: Comparison,
        years: u32,
    },
    /// Holds a certificate of `level` in the work type applied for.
    HoldsCertificate {
        level: u8,
    },
    /// Years since that certificate, optionally continuous.
    YearsAtLevel {
        level: u8,
        years: u32,
        #[serde(default)]
        continuous: bool,
    },
    EducationAtLeast {
        at_least: Education,
    },
    /// Full years of age on the evaluation date.
    AgeAtLeast {
        male: u32,
        female: u32,
    },
    Attested {
        fact: AttestedFact,
    },
    /// Appointed (聘任) to a post of `level` or higher.
    AppointedPostLevel {
        level: u8,
    },
    /// Each of the `years` years before the campaign year graded `at_least` or better.
    AppraisalWindow {
        years: u32,
        at_least: Grade,
    },
    /// At least `min` years within the `window` years before the campaign year rated 优秀 or
    /// named 优秀共产党员.
    ExcellentYears {
        window: u32,
        min: u32,
    },
    /// At least `min` grounds of a ground list met, optionally after the certificate of a level.
    AchievementCount {
        list: String,
        min: u32,
        #[serde(default)]
        after_certificate_level: Option<u8>,
        #[serde(skip)]
        list_index: usize,
    },
    /// The work type is in the campaign's level-1 list.
    Level1WorkType,
    /// Always needs a person, with the reason given.
    ManualReview {
        reason: String,
    },
    /// At least one route passes; each route is an `all_of`.
    AnyOf {
        routes: Vec<Route>,
    },
}

/// The kind of a [`Check`], as named in `waives` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    RegularisedBy,
    WorkYears,
    HoldsCertificate,
    YearsAtLevel,
    EducationAtLeast,
    AgeAtLeast,
    Attested,
    AppointedPostLevel,
    AppraisalWindow,
    ExcellentYears,
    AchievementCount,
    Level1WorkType,
    ManualReview,
    AnyOf,
}

impl CheckKind {
    pub(crate) fn bit(self) -> u32 {
        1 << (self as u32)
    }

    pub fn label(self) -> &'static str {
        match self {
            CheckKind::RegularisedBy => "转正定级时间",
            CheckKind::WorkYears => "工作年限",
            CheckKind::HoldsCertificate => "持有下一级证书",
            CheckKind::YearsAtLevel => "本工种本等级工作年限",
            CheckKind::EducationAtLeast => "文化程度",
            CheckKind::AgeAtLeast => "年龄",
            CheckKind::Attested => "单位证明材料",
            CheckKind::AppointedPostLevel => "聘任岗位等级",
            CheckKind::AppraisalWindow => "年度考核",
            CheckKind::ExcellentYears => "优秀等次年度",
            CheckKind::AchievementCount => "业绩或荣誉",
            CheckKind::Level1WorkType => "一级考评工种",
            CheckKind::ManualReview => "人工审核",
            CheckKind::AnyOf => "途径",
        }
    }
}

impl Check {
    pub fn kind(&self) -> CheckKind {
        match self {
            Check::RegularisedBy { .. } => CheckKind::RegularisedBy,
            Check::WorkYears { .. } => CheckKind::WorkYears,
            Check::HoldsCertificate { .. } => CheckKind::HoldsCertificate,
            Check::YearsAtLevel { .. } => CheckKind::YearsAtLevel,
            Check::EducationAtLeast { .. } => CheckKind::EducationAtLeast,
            Check::AgeAtLeast { .. } => CheckKind::AgeAtLeast,
            Check::Attested { .. } => CheckKind::Attested,
            Check::AppointedPostLevel { .. } => CheckKind::AppointedPostLevel,
            Check::AppraisalWindow { .. } => CheckKind::AppraisalWindow,
            Check::ExcellentYears { .. } => CheckKind::ExcellentYears,
            Check::AchievementCount { .. } => CheckKind::AchievementCount,
            Check::Level1WorkType => CheckKind::Level1WorkType,
            Check::ManualReview { .. } => CheckKind::ManualReview,
            Check::AnyOf { .. } => CheckKind::AnyOf,
        }
    }
}

/// A campaign's complete rule set. Immutable once a campaign opens: any change is a new
/// `version`, and the fingerprint (SM3 of the file) lets a stored evaluation prove which text it
/// used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    pub id: String,
    pub version: u32,
    pub campaign_year: i32,
    pub title: String,
    pub documents: Vec<Document>,
    pub scope: ScopeRules,
    pub counting: Counting,
    pub appraisal: AppraisalRules,
    pub certificates: CertificateRules,
    pub work_types: WorkTypeRules,
    pub ground_lists: Vec<GroundList>,
    pub exceptional_promotion: ExceptionalPromotion,
    #[serde(default)]
    pub special_policies: Vec<SpecialPolicy>,
    pub levels: Vec<LevelRules>,
    #[serde(skip)]
    fingerprint: String,
}

/// Why a rule set could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSetError(pub String);

impl fmt::Display for RuleSetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rule set: {}", self.0)
    }
}

impl std::error::Error for RuleSetError {}

const BUILTIN: [(&str, &str); 3] = [
    ("HN-GK-2020", include_str!("../../rulesets/HN-GK-2020.json")),
    ("HN-GK-2021", include_str!("../../rulesets/HN-GK-2021.json")),
    ("HN-GK-2023", include_str!("../../rulesets/HN-GK-2023.json")),
];

impl RuleSet {
    /// Ids of the rule sets shipped in the repository.
    pub fn builtin_ids() -> impl Iterator<Item = &'static str> {
        BUILTIN.iter().map(|(id, _)| *id)
    }

    /// A shipped rule set by id; `None` for an unknown id (or a shipped file that does not load,
    /// which the tests rule out).
    pub fn builtin(id: &str) -> Option<RuleSet> {
        let (_, text) = BUILTIN.iter().find(|(k, _)| *k == id)?;
        RuleSet::from_json(text).ok()
    }

    /// The embedded text of a shipped rule set, for display and archiving.
    pub fn builtin_source(id: &str) -> Option<&'static str> {
        BUILTIN.iter().find(|(k, _)| *k == id).map(|(_, t)| *t)
    }

    /// SM3 of the source text, hex.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    pub fn document<'a>(&'a self, meta: &'a RuleMeta) -> &'a str {
        self.documents.get(meta.doc_index).map_or(meta.doc.as_str(), |d| d.name.as_str())
    }

    pub fn level_rules(&self, level: u8) -> Option<&LevelRules> {
        self.levels.iter().find(|l| l.level == level)
    }

    pub fn ground_list(&self, index: usize) -> Option<&GroundList> {
        self.ground_lists.get(index)
    }

    /// Parses and checks a rule set; every reference inside it must resolve, so that evaluation
    /// never meets a dangling name.
    pub fn from_json(text: &str) -> Result<RuleSet, RuleSetError> {
        let mut rs: RuleSet = serde_json::from_str(text).map_err(|e| RuleSetError(e.to_string()))?;
        rs.fingerprint = hex::encode(Sm3::digest(text.as_bytes()));
        rs.check_and_resolve()?;
        Ok(rs)
    }

    fn check_and_resolve(&mut self) -> Result<(), RuleSetError> {
        let err = |m: String| Err(RuleSetError(m));
        if self.version == 0 {
            return err("version starts at 1".into());
        }
        if !(2000..=2100).contains(&self.campaign_year) {
            return err(format!("campaign_year {} is implausible", self.campaign_year));
        }
        let mut docs = HashMap::new();
        for (i, d) in self.documents.iter().enumerate() {
            if docs.insert(d.key.clone(), i).is_some() {
                return err(format!("duplicate document key {}", d.key));
            }
        }
        let mut lists = HashMap::new();
        for (i, l) in self.ground_lists.iter().enumerate() {
            if lists.insert(l.key.clone(), i).is_some() {
                return err(format!("duplicate ground list {}", l.key));
            }
            if l.grounds.len() > MAX_GROUNDS {
                return err(format!("ground list {}: at most {MAX_GROUNDS} grounds", l.key));
            }
            if l.grounds.iter().any(|g| g.min_count == 0 || g.kinds.is_empty()) {
                return err(format!("ground list {}: every ground needs kinds and min_count ≥ 1", l.key));
            }
        }
        let year = self.campaign_year;
        let resolve = |meta: &mut RuleMeta| -> Result<(), RuleSetError> {
            meta.doc_index = *docs.get(&meta.doc).ok_or_else(|| RuleSetError(format!("unknown document key {}", meta.doc)))?;
            if meta.clause.trim().is_empty() {
                return Err(RuleSetError(format!("empty clause for document {}", meta.doc)));
            }
            Ok(())
        };
        let date_ok = |spec: DateSpec| spec.resolve(year).ok_or_else(|| RuleSetError(format!("date {spec} does not resolve for {year}")));
        let cutoff_ok = |c: &ExclusionCutoff| -> Result<(), RuleSetError> {
            match c {
                ExclusionCutoff::OnOrBefore { date, .. } => date_ok(*date).map(|_| ()),
                ExclusionCutoff::UnknownBetween { from, to, .. } => {
                    if date_ok(*from)? > date_ok(*to)? {
                        return Err(RuleSetError("unknown_between: from is after to".into()));
                    }
                    Ok(())
                }
            }
        };
        let counting_ok = |c: YearCounting| match c {
            YearCounting::FullYearsToDate { cutoff } => date_ok(cutoff).map(|_| ()),
            _ => Ok(()),
        };

        let s = &mut self.scope;
        for m in
            [&mut s.staff_type_rule, &mut s.in_post_rule, &mut s.retired_rule, &mut s.exclusion.meta, &mut s.ban_rule, &mut s.input_rule]
        {
            resolve(m)?;
        }
        cutoff_ok(&s.exclusion.cutoff)?;
        if !(0..=10).contains(&s.ban_years) {
            return err("ban_years must be 0..=10".into());
        }
        counting_ok(self.counting.work_years)?;
        counting_ok(self.counting.years_at_level)?;
        resolve(&mut self.certificates.meta)?;
        let w = &mut self.work_types;
        resolve(&mut w.catalogue_rule)?;
        resolve(&mut w.matches_post_rule)?;
        resolve(&mut w.car_reform.meta)?;
        if !(1..=5).contains(&w.car_reform.up_to_level) {
            return err("car_reform.up_to_level must be 1..=5".into());
        }
        w.catalogue.normalise();
        w.level1.normalise();

        let ep = &mut self.exceptional_promotion;
        resolve(&mut ep.meta)?;
        ep.grounds_index = *lists.get(&ep.grounds).ok_or_else(|| RuleSetError(format!("unknown ground list {}", ep.grounds)))?;
        if !ep.skip_level && ep.waives.contains(&CheckKind::HoldsCertificate) {
            return err("exceptional_promotion waives holds_certificate but skip_level is false".into());
        }
        if ep.levels.iter().any(|l| !(1..=5).contains(l)) {
            return err("exceptional_promotion.levels must be 1..=5".into());
        }

        let mut ids = HashSet::new();
        let mut walk = NodeWalker { resolve: &resolve, date_ok: &date_ok, lists: &lists, ids: &mut ids };
        let mut seen_levels = HashSet::new();
        for l in &mut self.levels {
            if !(1..=5).contains(&l.level) || !seen_levels.insert(l.level) {
                return err(format!("level {} is invalid or duplicated", l.level));
            }
            if let Some(ex) = &mut l.exclusion {
                (walk.resolve)(&mut ex.meta)?;
                cutoff_ok(&ex.cutoff)?;
            }
            for n in &mut l.requires {
                walk.node(n)?;
            }
        }
        let mut policy_ids = HashSet::new();
        for p in &mut self.special_policies {
            if !policy_ids.insert(p.id.clone()) {
                return err(format!("duplicate special policy {}", p.id));
            }
            (walk.resolve)(&mut p.meta)?;
            if p.levels.iter().any(|l| !(1..=5).contains(l)) {
                return err(format!("special policy {}: levels must be 1..=5", p.id));
            }
            for n in &mut p.adds {
                walk.node(n)?;
            }
        }
        Ok(())
    }
}

type Resolver<'r> = dyn Fn(&mut RuleMeta) -> Result<(), RuleSetError> + 'r;
type DateCheck<'r> = dyn Fn(DateSpec) -> Result<Date, RuleSetError> + 'r;

struct NodeWalker<'w, 'r> {
    resolve: &'w Resolver<'r>,
    date_ok: &'w DateCheck<'r>,
    lists: &'w HashMap<String, usize>,
    ids: &'w mut HashSet<String>,
}

impl NodeWalker<'_, '_> {
    fn node(&mut self, n: &mut RuleNode) -> Result<(), RuleSetError> {
        if !self.ids.insert(n.id.clone()) {
            return Err(RuleSetError(format!("duplicate rule id {}", n.id)));
        }
        (self.resolve)(&mut n.meta)?;
        let level_ok =
            |l: u8| if (1..=5).contains(&l) { Ok(()) } else { Err(RuleSetError(format!("rule {}: level {l} is invalid", n.id))) };
        match &mut n.check {
            Check::RegularisedBy { cutoff } => {
                (self.date_ok)(*cutoff)?;
            }
            Check::HoldsCertificate { level } | Check::YearsAtLevel { level, .. } | Check::AppointedPostLevel { level } => {
                level_ok(*level)?
            }
            Check::AchievementCount { list, list_index, after_certificate_level, .. } => {
                *list_index =
                    *self.lists.get(list.as_str()).ok_or_else(|| RuleSetError(format!("rule {}: unknown ground list {list}", n.id)))?;
                if let Some(l) = after_certificate_level {
                    level_ok(*l)?;
                }
            }
            Check::AppraisalWindow { years, .. } | Check::ExcellentYears { window: years, .. } => {
                if !(1..=10).contains(years) {
                    return Err(RuleSetError(format!("rule {}: window must be 1..=10 years", n.id)));
                }
            }
            Check::AnyOf { routes } => {
                if routes.is_empty() || routes.len() > MAX_ROUTES {
                    return Err(RuleSetError(format!("rule {}: any_of needs 1..={MAX_ROUTES} routes", n.id)));
                }
                for r in routes.iter_mut() {
                    if !self.ids.insert(r.id.clone()) {
                        return Err(RuleSetError(format!("duplicate route id {}", r.id)));
                    }
                    if r.all_of.is_empty() {
                        return Err(RuleSetError(format!("route {} is empty", r.id)));
                    }
                    for child in &mut r.all_of {
                        self.node(child)?;
                    }
                }
            }
            Check::WorkYears { .. }
            | Check::EducationAtLeast { .. }
            | Check::AgeAtLeast { .. }
            | Check::Attested { .. }
            | Check::Level1WorkType
            | Check::ManualReview { .. } => {}
        }
        Ok(())
    }
}
