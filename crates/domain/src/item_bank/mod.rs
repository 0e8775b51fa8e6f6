//! The item bank (题库): what an item is, what makes it valid, and its review life cycle.
//!
//! An item has metadata, kept in the clear because assembly selects on it (subject, level, work
//! type, kind, difficulty, knowledge point, points), and content (stem, options, key, marking
//! guide, images), which storage only ever holds encrypted. Every edit makes a new version;
//! papers keep the version they used, so an edit never changes a paper already assembled.
//!
//! Life cycle: draft → in review → active → retired. A second person reviews (审核) before an
//! item becomes active: the reviewer may not be the author of the version under review. An edit
//! of an active item makes a new draft version, which leaves the pool until it is approved.

pub mod qti;

use serde::{Deserialize, Serialize};

use crate::exam::{Difficulty, ItemKind, Subject};
use crate::validation::FieldErrors;

/// Points are held in tenths, so that 100 points is 1000 and half points are exact.
pub const POINTS_SCALE: u32 = 10;
pub const MAX_STEM_CHARS: usize = 4000;
pub const MAX_OPTION_CHARS: usize = 500;
pub const MAX_GUIDE_CHARS: usize = 8000;
pub const MAX_KNOWLEDGE_POINT_CHARS: usize = 50;
pub const MAX_IMAGES: usize = 4;
/// An image inside an item is content like the stem (encrypted with it), so it stays small.
pub const MAX_IMAGE_BYTES: usize = 512 * 1024;
/// Option labels shown to candidates and used as QTI identifiers.
pub const OPTION_LABELS: [&str; 8] = ["A", "B", "C", "D", "E", "F", "G", "H"];
/// The two fixed options of a true/false item.
pub const TRUE_FALSE_OPTIONS: [&str; 2] = ["正确", "错误"];

/// What assembly selects on; stored in the clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemMeta {
    pub subject: Subject,
    pub level: u8,
    /// Set for subjects per work type (岗位技能, level 1's theory); `None` for shared subjects.
    pub work_type: Option<String>,
    pub kind: ItemKind,
    pub difficulty: Difficulty,
    pub knowledge_point: String,
    /// Points in tenths (see [`POINTS_SCALE`]).
    pub points_tenths: u32,
}

/// An image shown with the stem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemImage {
    pub name: String,
    /// `image/png` or `image/jpeg`.
    pub content_type: String,
    #[serde(with = "bytes_base64")]
    pub bytes: Vec<u8>,
}

/// What only item-bank staff may read; stored encrypted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ItemContent {
    pub stem: String,
    /// Choice items: the options in authoring order; true/false: [`TRUE_FALSE_OPTIONS`].
    #[serde(default)]
    pub options: Vec<String>,
    /// Indexes into `options` of the correct options, ascending. Empty for subjective items.
    #[serde(default)]
    pub key: Vec<usize>,
    /// 评分要点: what an examiner awards points for; required for subjective items.
    #[serde(default)]
    pub marking_guide: String,
    #[serde(default)]
    pub images: Vec<ItemImage>,
}

impl ItemContent {
    /// The key as option letters, e.g. `ACD`.
    pub fn key_letters(&self) -> String {
        self.key.iter().filter_map(|i| OPTION_LABELS.get(*i)).copied().collect()
    }
}

/// Parses option letters (`A`, `a c d`, `A,C`, `正确`/`对`/`√`) into ascending indexes.
pub fn parse_key(kind: ItemKind, text: &str) -> Option<Vec<usize>> {
    let text = text.trim();
    if kind == ItemKind::TrueFalse {
        return match text {
            "正确" | "对" | "√" | "是" | "T" | "t" | "true" | "A" | "a" => Some(vec![0]),
            "错误" | "错" | "×" | "否" | "F" | "f" | "false" | "B" | "b" => Some(vec![1]),
            _ => None,
        };
    }
    let mut key = Vec::new();
    for c in text.chars() {
        if c.is_whitespace() || matches!(c, ',' | '，' | '、' | ';' | '；') {
            continue;
        }
        let index = OPTION_LABELS.iter().position(|l| l.eq_ignore_ascii_case(&c.to_string()))?;
        if !key.contains(&index) {
            key.push(index);
        }
    }
    key.sort_unstable();
    (!key.is_empty()).then_some(key)
}

/// Checks one item as a whole; every problem is named by its field, in Chinese.
pub fn validate(meta: &ItemMeta, content: &ItemContent) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::new();
    if !(1..=5).contains(&meta.level) {
        errors.push("level", "等级：应为一级至五级");
    }
    match (&meta.work_type, meta.subject.per_work_type()) {
        (None, true) => errors.push("work_type", format!("工种：{}的试题须指定工种", meta.subject.label())),
        (Some(w), true) if w.trim().is_empty() => errors.push("work_type", format!("工种：{}的试题须指定工种", meta.subject.label())),
        (Some(_), false) => errors.push("work_type", format!("工种：{}为各工种共用科目，不应指定工种", meta.subject.label())),
        _ => {}
    }
    if meta.level == 1 && !matches!(meta.subject, Subject::Theory | Subject::WrittenTest | Subject::Ethics) {
        errors.push("subject", format!("科目：一级（高级技师）不考{}", meta.subject.label()));
    }
    if meta.level != 1 && matches!(meta.subject, Subject::Theory | Subject::WrittenTest) {
        errors.push("subject", format!("科目：{}仅用于一级（高级技师）", meta.subject.label()));
    }
    if !meta.kind.is_objective() && !matches!(meta.subject, Subject::WrittenTest | Subject::Theory) {
        errors
            .push("kind", format!("题型：{}只用于一级专业理论或主观试题闭卷考试，{}为机考客观题", meta.kind.label(), meta.subject.label()));
    }
    let kp = meta.knowledge_point.trim();
    if kp.is_empty() {
        errors.push("knowledge_point", "知识点：请填写");
    } else if kp.chars().count() > MAX_KNOWLEDGE_POINT_CHARS {
        errors.push("knowledge_point", format!("知识点：不超过{MAX_KNOWLEDGE_POINT_CHARS}个字"));
    }
    if meta.points_tenths == 0 || meta.points_tenths > 100 * POINTS_SCALE {
        errors.push("points", "分值：应大于0且不超过100分");
    }
    let stem = content.stem.trim();
    if stem.is_empty() {
        errors.push("stem", "题干：请填写");
    } else if stem.chars().count() > MAX_STEM_CHARS {
        errors.push("stem", format!("题干：不超过{MAX_STEM_CHARS}个字"));
    }
    validate_options_and_key(meta.kind, content, &mut errors);
    if content.marking_guide.chars().count() > MAX_GUIDE_CHARS {
        errors.push("marking_guide", format!("评分要点：不超过{MAX_GUIDE_CHARS}个字"));
    }
    if content.images.len() > MAX_IMAGES {
        errors.push("images", format!("图片：每题最多{MAX_IMAGES}张"));
    }
    for image in &content.images {
        if image.bytes.len() > MAX_IMAGE_BYTES {
            errors.push("images", format!("图片：{}大小为{} KB，超过{} KB", image.name, image.bytes.len() / 1024, MAX_IMAGE_BYTES / 1024));
        }
        if !matches!(image.content_type.as_str(), "image/png" | "image/jpeg") {
            errors.push("images", format!("图片：{}应为PNG或JPEG格式", image.name));
        }
    }
    errors.into_result()
}

fn validate_options_and_key(kind: ItemKind, content: &ItemContent, errors: &mut FieldErrors) {
    let n = content.options.len();
    match kind {
        ItemKind::SingleChoice | ItemKind::MultipleChoice => {
            let min = if kind == ItemKind::SingleChoice { 2 } else { 3 };
            if n < min || n > OPTION_LABELS.len() {
                errors.push("options", format!("选项：{}应有{}至{}个选项，现有{}个", kind.label(), min, OPTION_LABELS.len(), n));
            }
            for (i, option) in content.options.iter().enumerate() {
                let label = OPTION_LABELS.get(i).copied().unwrap_or("?");
                if option.trim().is_empty() {
                    errors.push("options", format!("选项：选项{label}为空"));
                } else if option.chars().count() > MAX_OPTION_CHARS {
                    errors.push("options", format!("选项：选项{label}不超过{MAX_OPTION_CHARS}个字"));
                }
            }
            let mut trimmed: Vec<&str> = content.options.iter().map(|o| o.trim()).filter(|o| !o.is_empty()).collect();
            trimmed.sort_unstable();
            if trimmed.windows(2).any(|w| w[0] == w[1]) {
                errors.push("options", "选项：有内容相同的选项");
            }
            if content.key.iter().any(|&k| k >= n) {
                errors.push("key", "答案：答案中的选项不存在");
            } else if kind == ItemKind::SingleChoice && content.key.len() != 1 {
                errors.push("key", format!("答案：单选题应有且仅有1个正确选项，现有{}个", content.key.len()));
            } else if kind == ItemKind::MultipleChoice && (content.key.len() < 2 || content.key.len() >= n.max(1)) {
                errors.push("key", "答案：多选题应有至少2个正确选项，且不能全部选项都正确");
            }
        }
        ItemKind::TrueFalse => {
            if content.options != TRUE_FALSE_OPTIONS.map(str::to_owned) {
                errors.push("options", "选项：判断题的选项固定为“正确”“错误”");
            }
            if content.key.len() != 1 || content.key[0] > 1 {
                errors.push("key", "答案：判断题的答案应为“正确”或“错误”");
            }
        }
        ItemKind::ShortAnswer | ItemKind::Essay => {
            if n != 0 || !content.key.is_empty() {
                errors.push("options", format!("选项：{}没有选项和标准答案，请写在评分要点中", kind.label()));
            }
            if content.marking_guide.trim().is_empty() {
                errors.push("marking_guide", format!("评分要点：{}须填写评分要点", kind.label()));
            }
        }
    }
}

/// Which pool an item belongs to (题库类别), fixed when the item is created: the real exam's
/// pool (正式题库), from which paper forms are assembled, or the practice pool (练习题库), from
/// which candidates in training classes draw practice papers (模拟练习). The two never mix:
/// assembly selects only exam items, practice only practice items, so practising never shows a
/// candidate an item of the real exam.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ItemPool {
    #[default]
    Exam,
    Practice,
}

impl ItemPool {
    pub const ALL: [ItemPool; 2] = [ItemPool::Exam, ItemPool::Practice];

    pub fn as_str(self) -> &'static str {
        match self {
            ItemPool::Exam => "exam",
            ItemPool::Practice => "practice",
        }
    }

    pub fn parse(s: &str) -> Option<ItemPool> {
        let s = s.trim();
        ItemPool::ALL.into_iter().find(|x| x.as_str() == s || x.label() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            ItemPool::Exam => "正式题库",
            ItemPool::Practice => "练习题库",
        }
    }
}

/// Where an item stands (试题状态).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    Draft,
    InReview,
    Active,
    Retired,
}

impl ItemStatus {
    pub const ALL: [ItemStatus; 4] = [ItemStatus::Draft, ItemStatus::InReview, ItemStatus::Active, ItemStatus::Retired];

    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Draft => "draft",
            ItemStatus::InReview => "in_review",
            ItemStatus::Active => "active",
            ItemStatus::Retired => "retired",
        }
    }

    pub fn parse(s: &str) -> Option<ItemStatus> {
        ItemStatus::ALL.into_iter().find(|x| x.as_str() == s.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            ItemStatus::Draft => "草稿",
            ItemStatus::InReview => "待审核",
            ItemStatus::Active => "已启用",
            ItemStatus::Retired => "已停用",
        }
    }
}

/// What someone does to an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemAction {
    /// A new version of the content or metadata (命题人 or 审核人 correcting).
    Edit,
    SubmitForReview,
    Approve,
    /// Back to draft with a reason.
    Reject,
    Retire,
    /// A retired item back into review.
    Reinstate,
}

impl ItemAction {
    pub const ALL: [ItemAction; 6] =
        [ItemAction::Edit, ItemAction::SubmitForReview, ItemAction::Approve, ItemAction::Reject, ItemAction::Retire, ItemAction::Reinstate];

    pub fn as_str(self) -> &'static str {
        match self {
            ItemAction::Edit => "edit",
            ItemAction::SubmitForReview => "submit",
            ItemAction::Approve => "approve",
            ItemAction::Reject => "reject",
            ItemAction::Retire => "retire",
            ItemAction::Reinstate => "reinstate",
        }
    }

    pub fn parse(s: &str) -> Option<ItemAction> {
        ItemAction::ALL.into_iter().find(|x| x.as_str() == s.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            ItemAction::Edit => "修改",
            ItemAction::SubmitForReview => "提交审核",
            ItemAction::Approve => "审核通过",
            ItemAction::Reject => "退回修改",
            ItemAction::Retire => "停用",
            ItemAction::Reinstate => "重新送审",
        }
    }
}

/// Who acts on the item, relative to the version under review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemActor {
    /// 命题员: writes and submits.
    Writer,
    /// 审题员: approves, rejects, retires; may correct a draft too.
    Reviewer,
}

/// The next status, or a Chinese reason why not. `actor_wrote_version` is true when the actor
/// wrote the version that would be approved: nobody approves their own item.
pub fn next(from: ItemStatus, action: ItemAction, actor: ItemActor, actor_wrote_version: bool) -> Result<ItemStatus, String> {
    use ItemAction as A;
    use ItemStatus as S;
    let to = match (from, action) {
        (S::Draft | S::Active, A::Edit) => S::Draft,
        (S::InReview, A::Edit) => return Err("试题正在审核中，请先由审核人退回后再修改".to_owned()),
        (S::Retired, A::Edit) => return Err("试题已停用，不能修改".to_owned()),
        (S::Draft, A::SubmitForReview) => S::InReview,
        (S::InReview, A::Approve) => S::Active,
        (S::InReview, A::Reject) => S::Draft,
        (S::Draft | S::InReview | S::Active, A::Retire) => S::Retired,
        (S::Retired, A::Reinstate) => S::InReview,
        (from, action) => return Err(format!("试题当前为“{}”，不能{}", from.label(), action.label())),
    };
    let reviewer_only = matches!(action, A::Approve | A::Reject | A::Retire | A::Reinstate);
    if reviewer_only && actor != ItemActor::Reviewer {
        return Err(format!("{}须由审题员操作", action.label()));
    }
    if action == A::Approve && actor_wrote_version {
        return Err("不能审核自己编写或修改的试题，须由另一位审题员审核".to_owned());
    }
    Ok(to)
}

/// Serde helper: binary as base64 inside JSON content.
mod bytes_base64 {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text.as_bytes()).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn meta(kind: ItemKind) -> ItemMeta {
        ItemMeta {
            subject: Subject::PostSkills,
            level: 3,
            work_type: Some("汽车驾驶员".to_owned()),
            kind,
            difficulty: Difficulty::new(3).unwrap(),
            knowledge_point: "安全驾驶".to_owned(),
            points_tenths: 10,
        }
    }

    fn single() -> ItemContent {
        ItemContent {
            stem: "车辆在雨天行驶时应当？".to_owned(),
            options: vec!["加速".into(), "降低车速".into(), "紧急制动".into(), "关闭灯光".into()],
            key: vec![1],
            ..Default::default()
        }
    }

    #[test]
    fn a_good_single_choice_item_passes() {
        validate(&meta(ItemKind::SingleChoice), &single()).unwrap();
        assert_eq!(single().key_letters(), "B");
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut m = meta(ItemKind::SingleChoice);
        m.work_type = None;
        m.knowledge_point = " ".into();
        m.points_tenths = 0;
        let c = ItemContent { stem: "".into(), options: vec!["甲".into(), "甲".into()], key: vec![0, 1], ..Default::default() };
        let errors = validate(&m, &c).unwrap_err();
        for field in ["work_type", "knowledge_point", "points", "stem", "options", "key"] {
            assert!(errors.get(field).is_some(), "{field}: {errors}");
        }
        assert!(errors.get("key").unwrap().contains("单选题应有且仅有1个"));
    }

    #[test]
    fn kinds_have_their_shapes() {
        let mut multi = single();
        multi.key = vec![0];
        assert!(validate(&meta(ItemKind::MultipleChoice), &multi).unwrap_err().get("key").is_some());
        multi.key = vec![0, 1, 2, 3];
        assert!(validate(&meta(ItemKind::MultipleChoice), &multi).is_err(), "all options correct");
        multi.key = vec![0, 2];
        validate(&meta(ItemKind::MultipleChoice), &multi).unwrap();

        let tf = ItemContent {
            stem: "夜间会车应使用近光灯。".into(),
            options: TRUE_FALSE_OPTIONS.map(str::to_owned).to_vec(),
            key: vec![0],
            ..Default::default()
        };
        validate(&meta(ItemKind::TrueFalse), &tf).unwrap();

        let mut essay_meta = meta(ItemKind::Essay);
        let essay = ItemContent { stem: "论述……".into(), marking_guide: "要点一……".into(), ..Default::default() };
        assert!(validate(&essay_meta, &essay).unwrap_err().get("kind").is_some(), "essay in a CBT subject");
        essay_meta.subject = Subject::WrittenTest;
        essay_meta.level = 1;
        validate(&essay_meta, &essay).unwrap();
        let no_guide = ItemContent { marking_guide: String::new(), ..essay };
        assert!(validate(&essay_meta, &no_guide).unwrap_err().get("marking_guide").is_some());
    }

    #[test]
    fn shared_subjects_take_no_work_type() {
        let mut m = meta(ItemKind::SingleChoice);
        m.subject = Subject::Ethics;
        assert!(validate(&m, &single()).unwrap_err().get("work_type").unwrap().contains("共用"));
        m.work_type = None;
        validate(&m, &single()).unwrap();
    }

    #[test]
    fn keys_parse_from_what_people_type() {
        assert_eq!(parse_key(ItemKind::MultipleChoice, "a, c、D"), Some(vec![0, 2, 3]));
        assert_eq!(parse_key(ItemKind::SingleChoice, "Z"), None);
        assert_eq!(parse_key(ItemKind::SingleChoice, ""), None);
        assert_eq!(parse_key(ItemKind::TrueFalse, "对"), Some(vec![0]));
        assert_eq!(parse_key(ItemKind::TrueFalse, "×"), Some(vec![1]));
    }

    #[test]
    fn nobody_approves_their_own_item() {
        use ItemActor::*;
        assert_eq!(next(ItemStatus::Draft, ItemAction::SubmitForReview, Writer, true), Ok(ItemStatus::InReview));
        assert!(next(ItemStatus::InReview, ItemAction::Approve, Reviewer, true).unwrap_err().contains("不能审核自己"));
        assert!(next(ItemStatus::InReview, ItemAction::Approve, Writer, false).unwrap_err().contains("审题员"));
        assert_eq!(next(ItemStatus::InReview, ItemAction::Approve, Reviewer, false), Ok(ItemStatus::Active));
        assert_eq!(next(ItemStatus::Active, ItemAction::Edit, Writer, true), Ok(ItemStatus::Draft));
        assert!(next(ItemStatus::Retired, ItemAction::Edit, Reviewer, false).is_err());
    }

    proptest! {
        /// Random walks never leave the diagram, and only an approval by someone other than
        /// the version's author makes an item active.
        #[test]
        fn random_walks_follow_the_diagram(steps in prop::collection::vec((0usize..6, any::<bool>(), any::<bool>()), 1..50)) {
            let mut status = ItemStatus::Draft;
            for (a, reviewer, own) in steps {
                let action = ItemAction::ALL[a];
                let actor = if reviewer { ItemActor::Reviewer } else { ItemActor::Writer };
                match next(status, action, actor, own) {
                    Ok(to) => {
                        if to == ItemStatus::Active {
                            prop_assert_eq!(status, ItemStatus::InReview);
                            prop_assert!(reviewer && !own);
                        }
                        if status == ItemStatus::Retired {
                            prop_assert_eq!(action, ItemAction::Reinstate);
                        }
                        status = to;
                    }
                    Err(reason) => prop_assert!(!reason.is_empty()),
                }
            }
        }
    }
}
