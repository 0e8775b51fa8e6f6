//! The exam blueprint (试卷蓝图): what one paper of a subject, level (and work type) contains.
//!
//! Points are integers in tenths of a point (`100分` = 1000) so that sums are exact and a
//! 0.5-point item needs no decimal type. A blueprint is stored as JSON; unknown fields are
//! refused so that a mistyped key in a hand-edited blueprint is an error instead of a silently
//! applied default.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::campaign::Level;
use crate::exam::{Difficulty, ItemKind, Subject};
use crate::validation::{FieldErrors, char_len};

/// Full marks of every subject, in tenths of a point (100分).
pub const FULL_MARKS_TENTHS: u64 = 1000;
pub const DEFAULT_DURATION_MINUTES: u32 = 90;
pub const MIN_DURATION_MINUTES: u32 = 10;
pub const MAX_DURATION_MINUTES: u32 = 240;
/// Out of 100 points.
pub const DEFAULT_PASS_MARK: u32 = 60;
pub const DEFAULT_FORMS_PER_SITTING: u32 = 4;
/// Parallel forms of one sitting are labelled and printed in the room record; more than this is
/// a typing mistake rather than a plan.
pub const MAX_FORMS_PER_SITTING: u32 = 20;
/// The item bank's limit: a cell names a knowledge point as items do.
pub const MAX_KNOWLEDGE_POINT_CHARS: usize = crate::item_bank::MAX_KNOWLEDGE_POINT_CHARS;

/// One row of the blueprint: how many items of one kind, difficulty and knowledge point, and
/// what each is worth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlueprintCell {
    pub kind: ItemKind,
    pub difficulty: Difficulty,
    /// 知识点, as named in the item bank; matched exactly after trimming.
    pub knowledge_point: String,
    pub count: u32,
    /// Points of each item, in tenths of a point.
    pub points_per_item: u32,
}

impl BlueprintCell {
    /// `单选题·难度3·安全生产`, the way staff name a cell in messages.
    pub fn label(&self) -> String {
        cell_label(self.kind, self.difficulty, &self.knowledge_point)
    }

    /// Points of the whole cell, in tenths.
    pub fn total_tenths(&self) -> u64 {
        u64::from(self.count) * u64::from(self.points_per_item)
    }

    /// The key items are matched on: two cells with the same key would compete for one pool.
    pub(crate) fn key(&self) -> (ItemKind, Difficulty, &str) {
        (self.kind, self.difficulty, self.knowledge_point.trim())
    }
}

pub(crate) fn cell_label(kind: ItemKind, difficulty: Difficulty, knowledge_point: &str) -> String {
    format!("{}·难度{}·{}", kind.label(), difficulty.value(), knowledge_point.trim())
}

/// 试卷蓝图 of one subject and level, and of one work type when the subject is per work type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Blueprint {
    pub subject: Subject,
    pub level: Level,
    /// Required exactly when `subject.per_work_type()`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_type: Option<String>,
    /// In the order items appear in an assembled form.
    pub cells: Vec<BlueprintCell>,
    #[serde(default = "default_duration")]
    pub duration_minutes: u32,
    /// In whole points out of 100: the published pass mark (合格分数线) is always whole.
    #[serde(default = "default_pass_mark")]
    pub pass_mark: u32,
    /// Whether a multiple-choice answer with some but not all correct options (and no wrong one)
    /// earns part of the item's points; by default it is all or nothing.
    #[serde(default)]
    pub multiple_choice_partial_credit: bool,
    /// How many parallel forms (A卷, B卷, …) are assembled for one sitting.
    #[serde(default = "default_forms_per_sitting")]
    pub forms_per_sitting: u32,
}

fn default_duration() -> u32 {
    DEFAULT_DURATION_MINUTES
}

fn default_pass_mark() -> u32 {
    DEFAULT_PASS_MARK
}

fn default_forms_per_sitting() -> u32 {
    DEFAULT_FORMS_PER_SITTING
}

impl Blueprint {
    /// A blueprint with the default duration, pass mark, scoring and number of forms.
    pub fn new(subject: Subject, level: Level, work_type: Option<String>, cells: Vec<BlueprintCell>) -> Blueprint {
        Blueprint {
            subject,
            level,
            work_type,
            cells,
            duration_minutes: DEFAULT_DURATION_MINUTES,
            pass_mark: DEFAULT_PASS_MARK,
            multiple_choice_partial_credit: false,
            forms_per_sitting: DEFAULT_FORMS_PER_SITTING,
        }
    }

    /// Sum of all cells, in tenths of a point.
    pub fn total_tenths(&self) -> u64 {
        self.cells.iter().map(BlueprintCell::total_tenths).sum()
    }

    /// Items in one form.
    pub fn item_count(&self) -> u64 {
        self.cells.iter().map(|c| u64::from(c.count)).sum()
    }

    /// Every problem at once, each message starting with the field's Chinese label.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        self.validate_subject(&mut errors);
        self.validate_cells(&mut errors);
        if !(MIN_DURATION_MINUTES..=MAX_DURATION_MINUTES).contains(&self.duration_minutes) {
            errors.push(
                "duration_minutes",
                format!("考试时长：应在{MIN_DURATION_MINUTES}至{MAX_DURATION_MINUTES}分钟之间，现为{}分钟", self.duration_minutes),
            );
        }
        if !(1..=100).contains(&self.pass_mark) {
            errors.push("pass_mark", format!("合格分数线：应在1至100分之间，现为{}分", self.pass_mark));
        }
        if !(1..=MAX_FORMS_PER_SITTING).contains(&self.forms_per_sitting) {
            errors
                .push("forms_per_sitting", format!("每场试卷套数：应在1至{MAX_FORMS_PER_SITTING}套之间，现为{}套", self.forms_per_sitting));
        }
        errors.into_result()
    }

    fn validate_subject(&self, errors: &mut FieldErrors) {
        let level_fits = match self.subject {
            Subject::PostSkills | Subject::Competence => self.level != Level::L1,
            Subject::Theory | Subject::WrittenTest => self.level == Level::L1,
            // Level 1 sits 职业道德 too from 2022 on.
            Subject::Ethics => true,
        };
        if !level_fits {
            errors.push("subject", format!("科目：{}不考{}", self.level.short_label(), self.subject.label()));
        }
        let work_type = self.work_type.as_deref().map(str::trim).filter(|w| !w.is_empty());
        match (self.subject.per_work_type(), work_type) {
            (true, None) => errors.push("work_type", format!("工种：{}按工种出题，应填写工种", self.subject.label())),
            (false, Some(_)) => errors.push("work_type", format!("工种：{}各工种共用试卷，不应填写工种", self.subject.label())),
            _ => {}
        }
    }

    fn validate_cells(&self, errors: &mut FieldErrors) {
        if self.cells.is_empty() {
            errors.push("cells", "试题构成：至少应有一行");
            return;
        }
        let subjective_allowed = matches!(self.subject, Subject::WrittenTest | Subject::Theory);
        let mut seen = HashSet::new();
        for (i, cell) in self.cells.iter().enumerate() {
            let row = i + 1;
            let label = cell.label();
            let kp = cell.knowledge_point.trim();
            if kp.is_empty() {
                errors.push(&format!("cells.{i}.knowledge_point"), format!("知识点：第{row}行不能为空"));
            } else if char_len(kp) > MAX_KNOWLEDGE_POINT_CHARS {
                errors.push(&format!("cells.{i}.knowledge_point"), format!("知识点：第{row}行不能超过{MAX_KNOWLEDGE_POINT_CHARS}个字"));
            }
            if cell.count == 0 {
                errors.push(&format!("cells.{i}.count"), format!("题量：第{row}行（{label}）应大于0"));
            }
            if cell.points_per_item == 0 {
                errors.push(&format!("cells.{i}.points_per_item"), format!("每题分值：第{row}行（{label}）应大于0"));
            }
            if !cell.kind.is_objective() && !subjective_allowed {
                errors.push(
                    &format!("cells.{i}.kind"),
                    format!("题型：第{row}行为{}，{}是人机对话考试，只能用客观题", cell.kind.label(), self.subject.label()),
                );
            }
            // The closed-book written test is subjective by definition (主观试题); objective
            // items there would be marked by nobody.
            if cell.kind.is_objective() && self.subject == Subject::WrittenTest {
                errors.push(
                    &format!("cells.{i}.kind"),
                    format!("题型：第{row}行为{}，{}只能用简答题或论述题", cell.kind.label(), self.subject.label()),
                );
            }
            if !seen.insert(cell.key()) {
                errors.push(&format!("cells.{i}"), format!("试题构成：第{row}行（{label}）与前面的行重复，请合并"));
            }
        }
        let total = self.total_tenths();
        if total != FULL_MARKS_TENTHS {
            errors.push("total", format!("总分：各题分值之和应为100分，现为{}分", format_points(total)));
        }
    }

    pub fn to_json(&self) -> String {
        // A struct of strings, numbers and unit enums always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a stored blueprint and validates it.
    pub fn from_json(json: &str) -> Result<Blueprint, FieldErrors> {
        let blueprint: Blueprint = serde_json::from_str(json).map_err(|e| {
            let mut errors = FieldErrors::new();
            errors.push("blueprint", format!("试卷蓝图：格式不正确（{e}）"));
            errors
        })?;
        blueprint.validate()?;
        Ok(blueprint)
    }
}

/// Tenths of a point as staff write them: `95`, `95.5`.
pub fn format_points(tenths: u64) -> String {
    if tenths.is_multiple_of(10) { format!("{}", tenths / 10) } else { format!("{}.{}", tenths / 10, tenths % 10) }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(v: u8) -> Difficulty {
        Difficulty::new(v).unwrap()
    }

    fn cell(kind: ItemKind, difficulty: u8, kp: &str, count: u32, points_per_item: u32) -> BlueprintCell {
        BlueprintCell { kind, difficulty: d(difficulty), knowledge_point: kp.into(), count, points_per_item }
    }

    /// 20 判断 × 1分 + 50 单选 × 1分 + 30 多选 × 1分 = 100分.
    fn post_skills() -> Blueprint {
        Blueprint::new(
            Subject::PostSkills,
            Level::L3,
            Some("电工".into()),
            vec![
                cell(ItemKind::TrueFalse, 2, "安全生产", 20, 10),
                cell(ItemKind::SingleChoice, 3, "安全生产", 30, 10),
                cell(ItemKind::SingleChoice, 3, "电工基础", 20, 10),
                cell(ItemKind::MultipleChoice, 4, "电工基础", 30, 10),
            ],
        )
    }

    #[test]
    fn a_sound_blueprint_passes_with_defaults() {
        let b = post_skills();
        assert_eq!(b.validate(), Ok(()));
        assert_eq!(b.total_tenths(), 1000);
        assert_eq!(b.item_count(), 100);
        assert_eq!((b.duration_minutes, b.pass_mark, b.forms_per_sitting), (90, 60, 4));
        assert!(!b.multiple_choice_partial_credit);
    }

    #[test]
    fn total_must_be_exactly_100_points() {
        let mut b = post_skills();
        b.cells[0].count = 15;
        let errors = b.validate().unwrap_err();
        assert_eq!(errors.get("total"), Some("总分：各题分值之和应为100分，现为95分"));
        b.cells[0].points_per_item = 11;
        assert_eq!(b.validate().unwrap_err().get("total"), Some("总分：各题分值之和应为100分，现为96.5分"));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let mut b = post_skills();
        b.cells[1].count = 0;
        b.cells[2].points_per_item = 0;
        b.cells[3].knowledge_point = "  ".into();
        b.cells.push(cell(ItemKind::TrueFalse, 2, " 安全生产 ", 1, 10));
        b.cells.push(cell(ItemKind::Essay, 4, "案例", 1, 10));
        b.duration_minutes = 5;
        b.pass_mark = 0;
        b.forms_per_sitting = 0;
        b.work_type = None;
        let errors = b.validate().unwrap_err();
        assert_eq!(errors.get("cells.1.count"), Some("题量：第2行（单选题·难度3·安全生产）应大于0"));
        assert_eq!(errors.get("cells.2.points_per_item"), Some("每题分值：第3行（单选题·难度3·电工基础）应大于0"));
        assert_eq!(errors.get("cells.3.knowledge_point"), Some("知识点：第4行不能为空"));
        assert_eq!(errors.get("cells.4"), Some("试题构成：第5行（判断题·难度2·安全生产）与前面的行重复，请合并"));
        assert_eq!(errors.get("cells.5.kind"), Some("题型：第6行为论述题，岗位技能是人机对话考试，只能用客观题"));
        assert_eq!(errors.get("duration_minutes"), Some("考试时长：应在10至240分钟之间，现为5分钟"));
        assert_eq!(errors.get("pass_mark"), Some("合格分数线：应在1至100分之间，现为0分"));
        assert_eq!(errors.get("forms_per_sitting"), Some("每场试卷套数：应在1至20套之间，现为0套"));
        assert_eq!(errors.get("work_type"), Some("工种：岗位技能按工种出题，应填写工种"));
        assert!(errors.get("total").is_some());
    }

    #[test]
    fn bounds_are_inclusive() {
        let mut b = post_skills();
        for (duration, pass) in [(10, 1), (240, 100)] {
            b.duration_minutes = duration;
            b.pass_mark = pass;
            assert_eq!(b.validate(), Ok(()));
        }
        b.duration_minutes = 241;
        b.pass_mark = 101;
        let errors = b.validate().unwrap_err();
        assert_eq!(errors.len(), 2);
    }

    #[test]
    fn subjective_items_only_in_theory_and_written_test() {
        let mut theory = Blueprint::new(
            Subject::Theory,
            Level::L1,
            Some("电工".into()),
            vec![cell(ItemKind::SingleChoice, 3, "原理", 60, 10), cell(ItemKind::ShortAnswer, 4, "原理", 4, 100)],
        );
        assert_eq!(theory.validate(), Ok(()));
        theory.level = Level::L2;
        assert_eq!(theory.validate().unwrap_err().get("subject"), Some("科目：二级不考专业理论"));

        let written = Blueprint::new(
            Subject::WrittenTest,
            Level::L1,
            Some("电工".into()),
            vec![cell(ItemKind::Essay, 5, "案例分析", 2, 300), cell(ItemKind::TrueFalse, 1, "常识", 40, 10)],
        );
        assert_eq!(written.validate().unwrap_err().get("cells.1.kind"), Some("题型：第2行为判断题，主观试题闭卷考试只能用简答题或论述题"));

        let ethics =
            Blueprint::new(Subject::Ethics, Level::L4, Some("电工".into()), vec![cell(ItemKind::ShortAnswer, 3, "职业守则", 10, 100)]);
        let errors = ethics.validate().unwrap_err();
        assert_eq!(errors.get("work_type"), Some("工种：职业道德各工种共用试卷，不应填写工种"));
        assert_eq!(errors.get("cells.0.kind"), Some("题型：第1行为简答题，职业道德是人机对话考试，只能用客观题"));
    }

    #[test]
    fn empty_blueprint_is_refused() {
        let b = Blueprint::new(Subject::Ethics, Level::L5, None, vec![]);
        assert_eq!(b.validate().unwrap_err().get("cells"), Some("试题构成：至少应有一行"));
    }

    #[test]
    fn json_round_trip_and_defaults() {
        let mut b = post_skills();
        b.multiple_choice_partial_credit = true;
        b.duration_minutes = 120;
        let json = b.to_json();
        assert_eq!(Blueprint::from_json(&json).unwrap(), b);

        let minimal = r#"{"subject":"ethics","level":"L4","cells":[
            {"kind":"single_choice","difficulty":3,"knowledge_point":"职业守则","count":100,"points_per_item":10}]}"#;
        let b = Blueprint::from_json(minimal).unwrap();
        assert_eq!((b.duration_minutes, b.pass_mark, b.forms_per_sitting, b.work_type), (90, 60, 4, None));
        assert!(!b.multiple_choice_partial_credit);
    }

    #[test]
    fn bad_json_is_a_chinese_error() {
        let typo = r#"{"subject":"ethics","level":"L4","duration_minute":120,"cells":[]}"#;
        let errors = Blueprint::from_json(typo).unwrap_err();
        assert!(errors.get("blueprint").unwrap().starts_with("试卷蓝图：格式不正确"));
        let bad_difficulty = r#"{"subject":"ethics","level":"L4","cells":[
            {"kind":"single_choice","difficulty":9,"knowledge_point":"x","count":100,"points_per_item":10}]}"#;
        assert!(Blueprint::from_json(bad_difficulty).is_err());
        let invalid = r#"{"subject":"ethics","level":"L4","cells":[
            {"kind":"single_choice","difficulty":3,"knowledge_point":"x","count":99,"points_per_item":10}]}"#;
        assert_eq!(Blueprint::from_json(invalid).unwrap_err().get("total"), Some("总分：各题分值之和应为100分，现为99分"));
    }

    #[test]
    fn points_are_written_like_staff_write_them() {
        assert_eq!(format_points(1000), "100");
        assert_eq!(format_points(955), "95.5");
        assert_eq!(format_points(5), "0.5");
    }
}
