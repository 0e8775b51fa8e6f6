//! The exam's vocabulary shared by the item bank, paper assembly, seating and delivery:
//! subjects (科目), item kinds (题型) and difficulty (难度).
//!
//! Levels 5–2 sit three computer-based subjects of 100 points each (notice §四(一)):
//! 岗位技能 per work type and level, 职业道德 and 职业能力 per level and shared by all work
//! types. Level 1 sits a professional theory exam (专业理论, 2020) — from 2022 split into
//! 职业道德 and 专业基础知识 (domain-rules §5.4) — plus, until 2020, a closed-book written test.

use serde::{Deserialize, Serialize};

pub mod assembly;
pub mod blueprint;
pub mod delivery;
pub mod practice;
pub mod print_window;
mod rng;
pub mod seating;
pub mod sitting;
pub mod ticket;

/// A subject of the exam (科目).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    /// 岗位技能: per work type and level.
    PostSkills,
    /// 职业道德: per level, all work types.
    Ethics,
    /// 职业能力: per level, all work types.
    Competence,
    /// 专业理论 / 专业基础知识: level 1's theory exam, per work type.
    Theory,
    /// 主观试题闭卷考试: level 1's closed-book written test, per work type.
    WrittenTest,
}

impl Subject {
    pub const ALL: [Subject; 5] = [Subject::PostSkills, Subject::Ethics, Subject::Competence, Subject::Theory, Subject::WrittenTest];

    pub fn as_str(self) -> &'static str {
        match self {
            Subject::PostSkills => "post_skills",
            Subject::Ethics => "ethics",
            Subject::Competence => "competence",
            Subject::Theory => "theory",
            Subject::WrittenTest => "written_test",
        }
    }

    pub fn parse(s: &str) -> Option<Subject> {
        let s = s.trim();
        Subject::ALL.into_iter().find(|x| x.as_str() == s || x.label() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Subject::PostSkills => "岗位技能",
            Subject::Ethics => "职业道德",
            Subject::Competence => "职业能力",
            Subject::Theory => "专业理论",
            Subject::WrittenTest => "主观试题闭卷考试",
        }
    }

    /// Whether the subject's items belong to one work type (岗位技能, level 1's theory and
    /// written test) or are shared by every work type of the level.
    pub fn per_work_type(self) -> bool {
        matches!(self, Subject::PostSkills | Subject::Theory | Subject::WrittenTest)
    }

    /// The computer-based subjects a level sits, in the default order of the exam day.
    pub fn computer_based_for(level_number: u8) -> &'static [Subject] {
        if level_number == 1 { &[Subject::Theory] } else { &[Subject::PostSkills, Subject::Ethics, Subject::Competence] }
    }
}

/// The kind of an item (题型).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// 单选题: one correct option.
    SingleChoice,
    /// 多选题: two or more correct options.
    MultipleChoice,
    /// 判断题: 正确 / 错误.
    TrueFalse,
    /// 简答题: marked by an examiner against a marking guide.
    ShortAnswer,
    /// 论述题 / 案例分析题: marked by an examiner against a marking guide.
    Essay,
}

impl ItemKind {
    pub const ALL: [ItemKind; 5] =
        [ItemKind::SingleChoice, ItemKind::MultipleChoice, ItemKind::TrueFalse, ItemKind::ShortAnswer, ItemKind::Essay];

    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::SingleChoice => "single_choice",
            ItemKind::MultipleChoice => "multiple_choice",
            ItemKind::TrueFalse => "true_false",
            ItemKind::ShortAnswer => "short_answer",
            ItemKind::Essay => "essay",
        }
    }

    pub fn parse(s: &str) -> Option<ItemKind> {
        let s = s.trim();
        ItemKind::ALL.into_iter().find(|x| x.as_str() == s || x.label() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            ItemKind::SingleChoice => "单选题",
            ItemKind::MultipleChoice => "多选题",
            ItemKind::TrueFalse => "判断题",
            ItemKind::ShortAnswer => "简答题",
            ItemKind::Essay => "论述题",
        }
    }

    /// Scored by the machine at submission (choice and true/false) rather than by an examiner.
    pub fn is_objective(self) -> bool {
        matches!(self, ItemKind::SingleChoice | ItemKind::MultipleChoice | ItemKind::TrueFalse)
    }
}

/// Difficulty (难度), 1 (easiest) to 5 (hardest).
///
/// Deserialised through `TryFrom<u8>` so that a stored blueprint or item cannot smuggle in a
/// difficulty outside 1–5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Difficulty(u8);

impl TryFrom<u8> for Difficulty {
    type Error = String;

    fn try_from(value: u8) -> Result<Self, Self::Error> {
        Difficulty::new(value).ok_or_else(|| format!("难度：应为{}至{}，现为{value}", Difficulty::MIN, Difficulty::MAX))
    }
}

impl From<Difficulty> for u8 {
    fn from(difficulty: Difficulty) -> u8 {
        difficulty.0
    }
}

impl Difficulty {
    pub const MIN: u8 = 1;
    pub const MAX: u8 = 5;
    pub const MEDIUM: Difficulty = Difficulty(3);

    pub fn new(value: u8) -> Option<Difficulty> {
        (Self::MIN..=Self::MAX).contains(&value).then_some(Difficulty(value))
    }

    pub fn value(self) -> u8 {
        self.0
    }

    pub fn label(self) -> &'static str {
        match self.0 {
            1 => "易",
            2 => "较易",
            3 => "中",
            4 => "较难",
            _ => "难",
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_labels_round_trip() {
        for s in Subject::ALL {
            assert_eq!(Subject::parse(s.as_str()), Some(s));
            assert_eq!(Subject::parse(s.label()), Some(s));
        }
        for k in ItemKind::ALL {
            assert_eq!(ItemKind::parse(k.as_str()), Some(k));
            assert_eq!(ItemKind::parse(k.label()), Some(k));
        }
        assert_eq!(Subject::parse("数学"), None);
        assert_eq!(serde_json::to_string(&ItemKind::TrueFalse).unwrap(), "\"true_false\"");
    }

    #[test]
    fn levels_sit_their_subjects() {
        assert_eq!(Subject::computer_based_for(3).len(), 3);
        assert_eq!(Subject::computer_based_for(1), &[Subject::Theory]);
        assert!(Subject::PostSkills.per_work_type());
        assert!(!Subject::Ethics.per_work_type());
    }

    #[test]
    fn difficulty_is_bounded() {
        assert!(Difficulty::new(0).is_none());
        assert!(Difficulty::new(6).is_none());
        assert_eq!(Difficulty::new(3).unwrap().label(), "中");
        assert_eq!(serde_json::to_string(&Difficulty::new(4).unwrap()).unwrap(), "4");
        assert_eq!(serde_json::from_str::<Difficulty>("2").unwrap(), Difficulty::new(2).unwrap());
        assert!(serde_json::from_str::<Difficulty>("0").is_err());
        assert!(serde_json::from_str::<Difficulty>("6").is_err());
    }
}
