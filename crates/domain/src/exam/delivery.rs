//! Computer-based delivery (人机对话考试): the room's clock, the attempt's life cycle, what a
//! candidate's answer may be, objective scoring and the receipt's canonical form.
//!
//! Times are epoch milliseconds passed in by the caller; nothing here reads a clock.
//!
//! **The clock.** A room is started once (by its proctor, or at the sitting's time when the
//! campaign says so). Pausing the room stops every candidate's clock; the paused time is added
//! back. A candidate's time runs from the room's start, not from their own login: lateness does
//! not extend the exam (domain-rules §6.3). A proctor may give one candidate extra minutes (time
//! lost to an incident they recorded).
//!
//! **Scoring.** Points are tenths, as in the item bank, so a subject's score is an exact sum and
//! needs no rounding — except a multiple-choice item under partial credit (set per blueprint),
//! which gives the item's points in proportion to the correct options chosen, rounded **down**
//! to the tenth, when the answer is a strict subset of the key (少选按比例得分, 错选不得分). The
//! subject score is the sum of the item scores in tenths, shown with one decimal; nothing else
//! is rounded.
use serde::{Deserialize, Serialize};
use sm3::{Digest, Sm3};

use super::ItemKind;
use super::assembly::{Form, MAX_OPTIONS, Presentation};
use crate::item_bank::OPTION_LABELS;

/// The campaign's rules for delivery, with the defaults of comparable machine-exam rules
/// (domain-rules §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRules {
    /// Login refused, and the candidate absent, this many minutes after the room's start.
    pub late_entry_minutes: u32,
    /// No submission before this many minutes after the room's start.
    pub earliest_submit_minutes: u32,
    /// The proctor starts each room; otherwise rooms start by themselves at the sitting's time.
    pub proctor_starts: bool,
    /// Show the subject's score on screen after submission (Henan does, domain-rules §6.1).
    pub show_score: bool,
}

impl Default for DeliveryRules {
    fn default() -> Self {
        DeliveryRules { late_entry_minutes: 30, earliest_submit_minutes: 30, proctor_starts: true, show_score: true }
    }
}

/// The most minutes the late-entry and earliest-submit limits may be set to.
pub const MAX_RULE_MINUTES: u32 = 120;

/// Reads the campaign's rules from the settings form; every problem is named by its field.
pub fn parse_rules(get: impl Fn(&str) -> String) -> Result<DeliveryRules, crate::validation::FieldErrors> {
    let mut errors = crate::validation::FieldErrors::new();
    let mut minutes = |key: &str, label: &str| -> u32 {
        match get(key).trim().parse::<u32>() {
            Ok(n) if n <= MAX_RULE_MINUTES => n,
            _ => {
                errors.push(key, format!("{label}：应为0至{MAX_RULE_MINUTES}分钟"));
                0
            }
        }
    };
    let late_entry_minutes = minutes("late_entry_minutes", "开考后禁止入场时间");
    let earliest_submit_minutes = minutes("earliest_submit_minutes", "最早交卷时间");
    let rules = DeliveryRules {
        late_entry_minutes,
        earliest_submit_minutes,
        proctor_starts: get("proctor_starts") == "1",
        show_score: get("show_score") == "1",
    };
    errors.into_result().map(|()| rules)
}

/// How a multiple-choice item is scored: the blueprint's choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MultipleChoiceScoring {
    /// Full points for exactly the key, nothing otherwise.
    AllOrNothing,
    /// Full points for the key; for a strict subset of it, the points in proportion to the
    /// correct options chosen (rounded down to the tenth); nothing when any wrong option is
    /// chosen.
    PartialCredit,
}

impl MultipleChoiceScoring {
    pub fn of_blueprint(partial_credit: bool) -> MultipleChoiceScoring {
        if partial_credit { MultipleChoiceScoring::PartialCredit } else { MultipleChoiceScoring::AllOrNothing }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MultipleChoiceScoring::AllOrNothing => "all_or_nothing",
            MultipleChoiceScoring::PartialCredit => "partial_credit",
        }
    }
}

/// How long the proctor may start a room ahead of the sitting's time.
pub const EARLY_START_MINUTES: i64 = 10;
/// Saves arriving this long after the deadline are still taken: they were sent in time and
/// delayed on the way (the page stops sending at zero).
pub const SAVE_GRACE_MS: i64 = 15_000;
/// The longest text answer, in characters.
pub const MAX_TEXT_ANSWER_CHARS: usize = 5_000;
/// The most minutes one extension may give.
pub const MAX_EXTENSION_MINUTES: u32 = 60;

const MINUTE_MS: i64 = 60_000;

/// The room's clock for one sitting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RoomClock {
    pub started_at: Option<i64>,
    /// Set while the room is paused.
    pub paused_at: Option<i64>,
    /// Time spent paused before the current pause.
    pub paused_total_ms: i64,
}

impl RoomClock {
    pub fn is_started(&self) -> bool {
        self.started_at.is_some()
    }

    pub fn is_paused(&self) -> bool {
        self.paused_at.is_some()
    }

    /// Exam time run since the start, pauses excluded; 0 before the start.
    pub fn elapsed_ms(&self, now: i64) -> i64 {
        let Some(start) = self.started_at else { return 0 };
        let until = self.paused_at.unwrap_or(now);
        (until - start - self.paused_total_ms).max(0)
    }

    /// A candidate's remaining time; the full time before the start.
    pub fn remaining_ms(&self, now: i64, duration_ms: i64, extension_ms: i64) -> i64 {
        (duration_ms + extension_ms - self.elapsed_ms(now)).max(0)
    }

    /// When a candidate's time runs out if nothing changes; `None` before the start and while
    /// paused (the clock stands still).
    /// The clock as candidates live it: when the campaign lets rooms start by themselves, a room
    /// nobody started has started at the sitting's time.
    pub fn effective(self, now: i64, scheduled_start: i64, rules: &DeliveryRules) -> RoomClock {
        if !rules.proctor_starts && self.started_at.is_none() && now >= scheduled_start {
            return RoomClock { started_at: Some(scheduled_start), ..self };
        }
        self
    }

    pub fn deadline(&self, duration_ms: i64, extension_ms: i64) -> Option<i64> {
        if self.paused_at.is_some() {
            return None;
        }
        self.started_at.map(|s| s + self.paused_total_ms + duration_ms + extension_ms)
    }

    /// Starts the room: not before [`EARLY_START_MINUTES`] ahead of the sitting, not after its
    /// end, once.
    pub fn start(&mut self, now: i64, scheduled_start: i64, scheduled_end: i64) -> Result<(), String> {
        if self.started_at.is_some() {
            return Err("本考场已开考".to_owned());
        }
        if now < scheduled_start - EARLY_START_MINUTES * MINUTE_MS {
            return Err(format!("开考：最早可在考试开始前{EARLY_START_MINUTES}分钟开考"));
        }
        if now >= scheduled_end {
            return Err("开考：本场考试时间已过".to_owned());
        }
        self.started_at = Some(now);
        Ok(())
    }

    pub fn pause(&mut self, now: i64) -> Result<(), String> {
        match (self.started_at, self.paused_at) {
            (None, _) => Err("本考场尚未开考，无需暂停".to_owned()),
            (_, Some(_)) => Err("本考场已暂停".to_owned()),
            (Some(start), None) => {
                self.paused_at = Some(now.max(start));
                Ok(())
            }
        }
    }

    pub fn resume(&mut self, now: i64) -> Result<(), String> {
        let Some(paused_at) = self.paused_at else { return Err("本考场未暂停".to_owned()) };
        self.paused_total_ms += (now - paused_at).max(0);
        self.paused_at = None;
        Ok(())
    }
}

/// Whether a candidate may log in at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginWindow {
    /// Too early: the doors open this long before the sitting.
    NotYet,
    Open,
    /// The late-entry limit has passed: the candidate is absent (缺考).
    Closed,
}

/// How long before the sitting candidates may log in and wait.
pub const LOGIN_OPENS_MINUTES: i64 = 30;

pub fn login_window(room: &RoomClock, now: i64, scheduled_start: i64, scheduled_end: i64, rules: &DeliveryRules) -> LoginWindow {
    if now < scheduled_start - LOGIN_OPENS_MINUTES * MINUTE_MS {
        return LoginWindow::NotYet;
    }
    let late = i64::from(rules.late_entry_minutes) * MINUTE_MS;
    let closed = match room.started_at {
        Some(_) => room.elapsed_ms(now) > late,
        // A room not started by its proctor stays open to its candidates until the end.
        None => now >= scheduled_end,
    };
    if closed { LoginWindow::Closed } else { LoginWindow::Open }
}

/// The earliest-submit rule, with the message naming the time left until it.
pub fn may_submit(room: &RoomClock, now: i64, rules: &DeliveryRules) -> Result<(), String> {
    let earliest = i64::from(rules.earliest_submit_minutes) * MINUTE_MS;
    let elapsed = room.elapsed_ms(now);
    if elapsed < earliest {
        let wait = (earliest - elapsed + MINUTE_MS - 1) / MINUTE_MS;
        return Err(format!("交卷：开考{}分钟后方可交卷（还需{}分钟）", rules.earliest_submit_minutes, wait));
    }
    Ok(())
}

/// An attempt (one candidate in one sitting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptStatus {
    /// Logged in; identity confirmed or not; the room not yet started for them.
    Waiting,
    Answering,
    Submitted,
    /// 缺考: marked by the proctor, or never logged in before the late-entry limit.
    Absent,
    /// Ended by a violation whose category ends the attempt.
    Ended,
}

impl AttemptStatus {
    pub const ALL: [AttemptStatus; 5] =
        [AttemptStatus::Waiting, AttemptStatus::Answering, AttemptStatus::Submitted, AttemptStatus::Absent, AttemptStatus::Ended];

    pub fn as_str(self) -> &'static str {
        match self {
            AttemptStatus::Waiting => "waiting",
            AttemptStatus::Answering => "answering",
            AttemptStatus::Submitted => "submitted",
            AttemptStatus::Absent => "absent",
            AttemptStatus::Ended => "ended",
        }
    }

    pub fn parse(s: &str) -> Option<AttemptStatus> {
        AttemptStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            AttemptStatus::Waiting => "等待开考",
            AttemptStatus::Answering => "答题中",
            AttemptStatus::Submitted => "已交卷",
            AttemptStatus::Absent => "缺考",
            AttemptStatus::Ended => "违纪终止",
        }
    }

    pub fn is_final(self) -> bool {
        matches!(self, AttemptStatus::Submitted | AttemptStatus::Absent | AttemptStatus::Ended)
    }
}

/// What happens to an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AttemptEvent {
    /// The candidate confirmed their identity and the room is running: the paper opens.
    Begin,
    /// Submitted by the candidate, by the clock, or by the proctor at the end.
    Submit,
    MarkAbsent,
    /// A violation whose category ends the attempt.
    EndForViolation,
}

/// The attempt's life cycle. Final states absorb every event.
pub fn next(from: AttemptStatus, event: AttemptEvent) -> Result<AttemptStatus, String> {
    use AttemptEvent as E;
    use AttemptStatus as S;
    match (from, event) {
        (S::Waiting, E::Begin) => Ok(S::Answering),
        (S::Answering, E::Begin) => Ok(S::Answering),
        (S::Answering, E::Submit) => Ok(S::Submitted),
        (S::Waiting, E::MarkAbsent) => Ok(S::Absent),
        (S::Waiting | S::Answering, E::EndForViolation) => Ok(S::Ended),
        (S::Waiting, E::Submit) => Err("尚未开始答题，不能交卷".to_owned()),
        (S::Answering, E::MarkAbsent) => Err("考生已在答题，不能记为缺考".to_owned()),
        (s, _) => Err(format!("考生状态为“{}”，不能再变更", s.label())),
    }
}

/// A violation category (违纪违规类别), modelled on 人社部令第31号 (domain-rules §6.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ViolationCategory {
    pub code: &'static str,
    pub label: &'static str,
    /// The article of 人社部令第31号 it follows.
    pub article: &'static str,
    pub examples: &'static str,
    pub consequence: ViolationConsequence,
    /// The attempt ends at once (the candidate is removed from the room).
    pub ends_attempt: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ViolationConsequence {
    /// 当次该科目考试成绩无效.
    VoidSubject,
    /// 当次全部科目考试成绩无效.
    VoidSitting,
}

impl ViolationConsequence {
    pub fn label(self) -> &'static str {
        match self {
            ViolationConsequence::VoidSubject => "本科目成绩无效",
            ViolationConsequence::VoidSitting => "当次全部科目成绩无效",
        }
    }
}

/// The categories the proctor picks from, as data.
pub const VIOLATIONS: [ViolationCategory; 5] = [
    ViolationCategory {
        code: "ordinary",
        label: "一般违纪",
        article: "人社部令第31号第六条",
        examples: "未按规定放置物品、未在指定座位考试、开考前或考试结束后答题、交头接耳、不听从考试工作人员安排等",
        consequence: ViolationConsequence::VoidSubject,
        ends_attempt: false,
    },
    ViolationCategory {
        code: "serious",
        label: "严重违纪",
        article: "人社部令第31号第七条",
        examples: "抄袭或协助他人抄袭、传递试题或草稿纸、持伪造证件参考、使用通讯或电子设备等",
        consequence: ViolationConsequence::VoidSitting,
        ends_attempt: true,
    },
    ViolationCategory {
        code: "especially_serious",
        label: "特别严重违纪",
        article: "人社部令第31号第八条",
        examples: "串通作弊、有组织作弊、代替他人或让他人代替参加考试等",
        consequence: ViolationConsequence::VoidSitting,
        ends_attempt: true,
    },
    ViolationCategory {
        code: "disorder",
        label: "扰乱考场秩序",
        article: "人社部令第31号第九条",
        examples: "扰乱考场秩序、威胁或妨碍考试工作人员履行职责等，责令离开考场",
        consequence: ViolationConsequence::VoidSitting,
        ends_attempt: true,
    },
    ViolationCategory {
        code: "identical_answers",
        label: "雷同答卷",
        article: "人社部令第31号第十一条",
        examples: "同一科目作答内容经认定雷同",
        consequence: ViolationConsequence::VoidSubject,
        ends_attempt: false,
    },
];

pub fn violation(code: &str) -> Option<&'static ViolationCategory> {
    VIOLATIONS.iter().find(|v| v.code == code)
}

/// What the candidate sees of one item: kind and number of options shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShownItem {
    pub kind: ItemKind,
    /// Options shown; 2 for true/false, 0 for subjective items.
    pub option_count: u8,
}

/// Normalises an answer to what is stored: option letters in display order (`A`, `ACD`), or the
/// text of a subjective answer. An empty answer clears the item.
pub fn normalise_answer(item: ShownItem, raw: &str) -> Result<String, String> {
    if !item.kind.is_objective() {
        let count = raw.chars().count();
        if count > MAX_TEXT_ANSWER_CHARS {
            return Err(format!("作答：不超过{MAX_TEXT_ANSWER_CHARS}个字（现为{count}个字）"));
        }
        return Ok(raw.to_owned());
    }
    let mut chosen: Vec<usize> = Vec::new();
    for c in raw.chars() {
        let Some(index) = letter_index(c) else {
            return Err(format!("作答：“{c}”不是选项字母"));
        };
        if index >= usize::from(item.option_count) {
            return Err(format!("作答：本题只有{}个选项，没有选项{}", item.option_count, OPTION_LABELS[index]));
        }
        if !chosen.contains(&index) {
            chosen.push(index);
        }
    }
    chosen.sort_unstable();
    if chosen.len() > 1 && item.kind != ItemKind::MultipleChoice {
        return Err(format!("作答：{}只能选一个选项", item.kind.label()));
    }
    Ok(chosen.into_iter().map(|i| OPTION_LABELS[i]).collect())
}

/// `A`–`H` (either case) as 0–7.
fn letter_index(c: char) -> Option<usize> {
    let i = (c.to_ascii_uppercase() as u32).wrapping_sub('A' as u32) as usize;
    (i < OPTION_LABELS.len()).then_some(i)
}

/// One item of a form with its key, for scoring. Built by the caller from the item bank's
/// content at the recorded version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyedItem {
    pub kind: ItemKind,
    pub points: u32,
    /// Stored option indexes of the key, ascending; empty for subjective items.
    pub key: Vec<u8>,
}

/// One item's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ItemScore {
    /// Machine-scored, in tenths.
    Scored(u32),
    /// A subjective item left for online marking.
    ForMarking,
}

/// An attempt's objective result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptScore {
    /// Per display position.
    pub items: Vec<ItemScore>,
    /// Sum of the machine-scored items, in tenths.
    pub objective_tenths: u32,
    /// Items answered (non-empty).
    pub answered: u32,
    /// Subjective items awaiting marking.
    pub for_marking: u32,
}

/// Why an attempt cannot be scored: the stored paper does not fit together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScoringError {
    #[error("评分：试卷与答题顺序不一致（第{0}题）")]
    Mismatch(usize),
}

/// Scores one item. `answer` is the stored answer (display letters); `option_order` maps
/// display positions to stored options.
pub fn score_item(item: &KeyedItem, option_order: &[u8], answer: &str, rule: MultipleChoiceScoring) -> ItemScore {
    if !item.kind.is_objective() {
        return ItemScore::ForMarking;
    }
    // Options as a bit set: no allocation per item, which matters at 100,000 attempts.
    let mut chosen: u16 = 0;
    for c in answer.chars() {
        let stored = letter_index(c).and_then(|shown| match item.kind {
            // True/false options are never shuffled.
            ItemKind::TrueFalse => u8::try_from(shown).ok(),
            _ => option_order.get(shown).copied(),
        });
        if let Some(o) = stored.filter(|o| *o < 16) {
            chosen |= 1 << o;
        }
    }
    if chosen == 0 {
        return ItemScore::Scored(0);
    }
    let key = item.key.iter().filter(|k| **k < 16).fold(0u16, |acc, k| acc | (1 << k));
    if chosen == key {
        return ItemScore::Scored(item.points);
    }
    let subset = chosen & !key == 0;
    if item.kind == ItemKind::MultipleChoice && rule == MultipleChoiceScoring::PartialCredit && subset {
        return ItemScore::Scored(item.points * chosen.count_ones() / key.count_ones().max(1));
    }
    ItemScore::Scored(0)
}

/// Scores an attempt: `keys[i]` belongs to `form.items[i]`; `answers[p]` is the stored answer
/// at display position `p` (empty when unanswered). Reproducible: the same inputs give the same
/// score.
pub fn score_attempt(
    form: &Form,
    keys: &[KeyedItem],
    presentation: &Presentation,
    answers: &[&str],
    rule: MultipleChoiceScoring,
) -> Result<AttemptScore, ScoringError> {
    if keys.len() != form.items.len() || presentation.items.len() != form.items.len() {
        return Err(ScoringError::Mismatch(0));
    }
    let mut out = AttemptScore { items: Vec::with_capacity(keys.len()), objective_tenths: 0, answered: 0, for_marking: 0 };
    for (position, shown) in presentation.items.iter().enumerate() {
        let item = keys.get(shown.form_index as usize).ok_or(ScoringError::Mismatch(position + 1))?;
        let answer = answers.get(position).copied().unwrap_or("");
        if !answer.trim().is_empty() {
            out.answered += 1;
        }
        let score = score_item(item, &shown.option_order, answer, rule);
        match score {
            ItemScore::Scored(t) => out.objective_tenths += t,
            ItemScore::ForMarking => out.for_marking += 1,
        }
        out.items.push(score);
    }
    Ok(out)
}

/// `87.5`, `100`, `0`: tenths shown with one decimal only when needed.
pub fn format_tenths(tenths: u32) -> String {
    if tenths.is_multiple_of(10) { format!("{}", tenths / 10) } else { format!("{}.{}", tenths / 10, tenths % 10) }
}

/// The facts a receipt covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptFacts<'a> {
    pub attempt_id: i64,
    pub ticket_no: &'a str,
    pub sitting_id: i64,
    pub submitted_at: i64,
    /// (display position, stored answer) of every answered item, by position.
    pub answers: &'a [(u32, &'a str)],
}

/// The canonical bytes of a receipt: length-prefixed fields, so no answer text can forge a
/// boundary.
pub fn receipt_canonical(f: &ReceiptFacts<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut field = |s: &str| {
        out.extend_from_slice(s.len().to_string().as_bytes());
        out.push(b':');
        out.extend_from_slice(s.as_bytes());
        out.push(b'\n');
    };
    field("gongkao-receipt-v1");
    field(&f.attempt_id.to_string());
    field(f.ticket_no);
    field(&f.sitting_id.to_string());
    field(&f.submitted_at.to_string());
    for (position, answer) in f.answers {
        field(&position.to_string());
        field(answer);
    }
    out
}

/// SM3 of the canonical receipt, hex.
pub fn receipt_digest(f: &ReceiptFacts<'_>) -> String {
    hex::encode(Sm3::digest(receipt_canonical(f)))
}

/// Options a shown choice item has, checked against the bank's limit.
pub fn shown_option_count(kind: ItemKind, stored_options: usize) -> u8 {
    match kind {
        ItemKind::TrueFalse => 2,
        ItemKind::SingleChoice | ItemKind::MultipleChoice => u8::try_from(stored_options).unwrap_or(MAX_OPTIONS).min(MAX_OPTIONS),
        _ => 0,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::exam::assembly::{FormItem, PresentedItem};

    const MIN: i64 = 60_000;

    #[test]
    fn pausing_stops_every_clock_and_gives_the_time_back() {
        let mut room = RoomClock::default();
        let duration = 90 * MIN;
        assert_eq!(room.remaining_ms(0, duration, 0), duration);
        room.start(1_000 * MIN, 1_000 * MIN, 1_090 * MIN).unwrap();
        assert_eq!(room.remaining_ms(1_010 * MIN, duration, 0), 80 * MIN);
        room.pause(1_010 * MIN).unwrap();
        assert_eq!(room.remaining_ms(1_030 * MIN, duration, 0), 80 * MIN, "the clock stands still while paused");
        assert_eq!(room.deadline(duration, 0), None);
        room.resume(1_030 * MIN).unwrap();
        assert_eq!(room.remaining_ms(1_030 * MIN, duration, 0), 80 * MIN);
        assert_eq!(room.deadline(duration, 5 * MIN), Some(1_000 * MIN + 20 * MIN + 95 * MIN));
        assert!(room.resume(1_031 * MIN).is_err());
        assert!(room.start(1_031 * MIN, 1_000 * MIN, 1_090 * MIN).is_err());
    }

    #[test]
    fn a_room_starts_in_its_time_only() {
        let mut room = RoomClock::default();
        assert!(room.pause(0).is_err());
        assert_eq!(room.start(989 * MIN, 1_000 * MIN, 1_090 * MIN).unwrap_err(), "开考：最早可在考试开始前10分钟开考");
        assert!(room.start(1_090 * MIN, 1_000 * MIN, 1_090 * MIN).is_err());
        assert!(room.start(990 * MIN, 1_000 * MIN, 1_090 * MIN).is_ok());
    }

    #[test]
    fn late_entry_and_earliest_submission() {
        let rules = DeliveryRules::default();
        let mut room = RoomClock::default();
        assert_eq!(login_window(&room, 969 * MIN, 1_000 * MIN, 1_090 * MIN, &rules), LoginWindow::NotYet);
        assert_eq!(login_window(&room, 970 * MIN, 1_000 * MIN, 1_090 * MIN, &rules), LoginWindow::Open);
        room.start(1_000 * MIN, 1_000 * MIN, 1_090 * MIN).unwrap();
        assert_eq!(login_window(&room, 1_030 * MIN, 1_000 * MIN, 1_090 * MIN, &rules), LoginWindow::Open);
        assert_eq!(login_window(&room, 1_030 * MIN + 1, 1_000 * MIN, 1_090 * MIN, &rules), LoginWindow::Closed);
        assert_eq!(may_submit(&room, 1_010 * MIN, &rules).unwrap_err(), "交卷：开考30分钟后方可交卷（还需20分钟）");
        assert!(may_submit(&room, 1_030 * MIN, &rules).is_ok());
        // A pause moves both limits.
        room.pause(1_005 * MIN).unwrap();
        room.resume(1_015 * MIN).unwrap();
        assert!(may_submit(&room, 1_030 * MIN, &rules).is_err());
        assert_eq!(login_window(&room, 1_040 * MIN, 1_000 * MIN, 1_090 * MIN, &rules), LoginWindow::Open);
    }

    #[test]
    fn rules_are_read_by_field_and_rooms_may_start_by_themselves() {
        let form = |late: &'static str, earliest: &'static str| {
            move |k: &str| match k {
                "late_entry_minutes" => late.to_owned(),
                "earliest_submit_minutes" => earliest.to_owned(),
                "show_score" => "1".to_owned(),
                _ => String::new(),
            }
        };
        let rules = parse_rules(form("15", "45")).unwrap();
        assert_eq!(rules, DeliveryRules { late_entry_minutes: 15, earliest_submit_minutes: 45, proctor_starts: false, show_score: true });
        let e = parse_rules(form("x", "121")).unwrap_err();
        assert_eq!(e.get("late_entry_minutes"), Some("开考后禁止入场时间：应为0至120分钟"));
        assert_eq!(e.get("earliest_submit_minutes"), Some("最早交卷时间：应为0至120分钟"));
        let room = RoomClock::default();
        assert_eq!(room.effective(999, 1_000, &rules).started_at, None);
        assert_eq!(room.effective(1_000, 1_000, &rules).started_at, Some(1_000));
        assert_eq!(room.effective(5_000, 1_000, &DeliveryRules::default()).started_at, None, "the proctor starts by default");
    }

    #[test]
    fn partial_credit_is_proportional() {
        let item = KeyedItem { kind: ItemKind::MultipleChoice, points: 60, key: vec![0, 2, 4] };
        let order = [0u8, 1, 2, 3, 4];
        assert_eq!(score_item(&item, &order, "AC", MultipleChoiceScoring::PartialCredit), ItemScore::Scored(40));
        assert_eq!(score_item(&item, &order, "A", MultipleChoiceScoring::PartialCredit), ItemScore::Scored(20));
        assert_eq!(score_item(&item, &order, "AB", MultipleChoiceScoring::PartialCredit), ItemScore::Scored(0));
        assert_eq!(score_item(&item, &order, "AC", MultipleChoiceScoring::AllOrNothing), ItemScore::Scored(0));
        assert_eq!(score_item(&item, &order, "ACE", MultipleChoiceScoring::AllOrNothing), ItemScore::Scored(60));
    }

    #[test]
    fn answers_are_normalised_or_refused_by_field() {
        let single = ShownItem { kind: ItemKind::SingleChoice, option_count: 4 };
        let multi = ShownItem { kind: ItemKind::MultipleChoice, option_count: 5 };
        assert_eq!(normalise_answer(single, "c").unwrap(), "C");
        assert_eq!(normalise_answer(single, "").unwrap(), "");
        assert_eq!(normalise_answer(single, "AB").unwrap_err(), "作答：单选题只能选一个选项");
        assert_eq!(normalise_answer(single, "E").unwrap_err(), "作答：本题只有4个选项，没有选项E");
        assert_eq!(normalise_answer(multi, "ECA").unwrap(), "ACE");
        assert_eq!(normalise_answer(multi, "A1").unwrap_err(), "作答：“1”不是选项字母");
        let essay = ShownItem { kind: ItemKind::Essay, option_count: 0 };
        assert_eq!(normalise_answer(essay, "  答案 ").unwrap(), "  答案 ");
        assert!(normalise_answer(essay, &"字".repeat(5_001)).unwrap_err().contains("现为5001个字"));
    }

    fn form() -> (Form, Vec<KeyedItem>) {
        let items = vec![
            FormItem { item_id: 1, version: 1, kind: ItemKind::SingleChoice, points: 20 },
            FormItem { item_id: 2, version: 1, kind: ItemKind::MultipleChoice, points: 35 },
            FormItem { item_id: 3, version: 1, kind: ItemKind::TrueFalse, points: 10 },
            FormItem { item_id: 4, version: 1, kind: ItemKind::Essay, points: 935 },
        ];
        let keys = vec![
            KeyedItem { kind: ItemKind::SingleChoice, points: 20, key: vec![2] },
            KeyedItem { kind: ItemKind::MultipleChoice, points: 35, key: vec![0, 3] },
            KeyedItem { kind: ItemKind::TrueFalse, points: 10, key: vec![1] },
            KeyedItem { kind: ItemKind::Essay, points: 935, key: vec![] },
        ];
        (Form { number: 1, items }, keys)
    }

    #[test]
    fn scoring_maps_shown_options_back_to_the_key() {
        let (form, keys) = form();
        let presentation = Presentation {
            candidate_seed: 7,
            items: vec![
                PresentedItem { form_index: 2, option_order: vec![] },
                PresentedItem { form_index: 0, option_order: vec![3, 2, 1, 0] },
                PresentedItem { form_index: 1, option_order: vec![3, 1, 0, 2] },
                PresentedItem { form_index: 3, option_order: vec![] },
            ],
        };
        // Shown B of item 0 is stored 2 (the key); shown A,C of item 1 are stored 3,0 (the key).
        let all = score_attempt(&form, &keys, &presentation, &["B", "B", "AC", "文字"], MultipleChoiceScoring::AllOrNothing).unwrap();
        assert_eq!(all.objective_tenths, 65);
        assert_eq!((all.answered, all.for_marking), (4, 1));
        let subset = score_attempt(&form, &keys, &presentation, &["A", "B", "A", ""], MultipleChoiceScoring::PartialCredit).unwrap();
        assert_eq!(subset.items[2], ItemScore::Scored(17), "one of two correct options: half of 3.5, rounded down to the tenth");
        assert_eq!(subset.objective_tenths, 20 + 17);
        let wrong = score_attempt(&form, &keys, &presentation, &["A", "B", "AB", ""], MultipleChoiceScoring::PartialCredit).unwrap();
        assert_eq!(wrong.items[2], ItemScore::Scored(0), "a wrong option voids partial credit");
        assert_eq!(format_tenths(875), "87.5");
        assert_eq!(format_tenths(1000), "100");
    }

    #[test]
    fn receipts_bind_every_answer() {
        let answers = [(0u32, "A"), (1, "BC")];
        let facts = ReceiptFacts { attempt_id: 1, ticket_no: "T1", sitting_id: 2, submitted_at: 3, answers: &answers };
        let d = receipt_digest(&facts);
        assert_eq!(d.len(), 64);
        let other = [(0u32, "A"), (1, "B")];
        assert_ne!(d, receipt_digest(&ReceiptFacts { answers: &other, ..facts.clone() }));
        // A boundary cannot be forged inside an answer.
        let forged = [(0u32, "A\n1:1\n1:BC")];
        assert_ne!(d, receipt_digest(&ReceiptFacts { answers: &forged, ..facts }));
    }

    fn status() -> impl Strategy<Value = AttemptStatus> {
        prop::sample::select(AttemptStatus::ALL.to_vec())
    }

    fn event() -> impl Strategy<Value = AttemptEvent> {
        prop::sample::select(vec![AttemptEvent::Begin, AttemptEvent::Submit, AttemptEvent::MarkAbsent, AttemptEvent::EndForViolation])
    }

    proptest! {
        #[test]
        fn final_states_absorb_and_submission_needs_answering(from in status(), events in prop::collection::vec(event(), 0..20)) {
            let mut s = from;
            for e in events {
                let before = s;
                match next(s, e) {
                    Ok(after) => {
                        prop_assert!(!before.is_final(), "a final state moved");
                        if after == AttemptStatus::Submitted { prop_assert_eq!(before, AttemptStatus::Answering); }
                        if after == AttemptStatus::Absent { prop_assert_eq!(before, AttemptStatus::Waiting); }
                        s = after;
                    }
                    Err(msg) => prop_assert!(!msg.is_empty()),
                }
            }
        }

        #[test]
        fn pauses_never_change_the_remaining_time(pauses in prop::collection::vec((1i64..600_000, 1i64..600_000), 0..8)) {
            let duration = 90 * MIN;
            let mut room = RoomClock::default();
            room.start(0, 0, duration).unwrap();
            let mut now = 0;
            for (run, pause) in pauses {
                now += run;
                let before = room.remaining_ms(now, duration, 0);
                room.pause(now).unwrap();
                now += pause;
                prop_assert_eq!(room.remaining_ms(now, duration, 0), before);
                room.resume(now).unwrap();
                prop_assert_eq!(room.remaining_ms(now, duration, 0), before);
                if before > 0 {
                    prop_assert_eq!(room.deadline(duration, 0), Some(now + before));
                }
            }
        }

        #[test]
        fn partial_credit_never_exceeds_the_item(points in 1u32..200, key in prop::collection::btree_set(0u8..6, 1..6), chosen in prop::collection::btree_set(0u8..6, 0..6)) {
            let item = KeyedItem { kind: ItemKind::MultipleChoice, points, key: key.into_iter().collect() };
            let order: Vec<u8> = (0..6).collect();
            let answer: String = chosen.iter().map(|i| OPTION_LABELS[usize::from(*i)]).collect();
            for rule in [MultipleChoiceScoring::AllOrNothing, MultipleChoiceScoring::PartialCredit] {
                match score_item(&item, &order, &answer, rule) {
                    ItemScore::Scored(t) => prop_assert!(t <= points),
                    ItemScore::ForMarking => prop_assert!(false),
                }
            }
        }
    }
}
