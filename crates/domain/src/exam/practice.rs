//! Practice (模拟练习): papers drawn from the practice pool for candidates in training classes,
//! and the feedback they see after submitting.
//!
//! A practice paper is the real exam's interface with other items: [`draw`] picks up to
//! [`MAX_PRACTICE_ITEMS`] active items of the practice pool of one subject, level and work type
//! from a recorded seed, and the same seed then orders the items and options through
//! [`super::assembly::shuffle_for_candidate`], exactly as a candidate's real paper is
//! presented. Scoring is the real one ([`super::delivery::score_attempt`]); the score is shown
//! as points of the paper's total and on the 100-point scale of a real subject.
//!
//! Pure: the caller supplies the pool, the seed and the answers.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::ItemKind;
use super::assembly::{Form, FormItem};
use super::delivery::ItemScore;
use super::rng::ExamRng;
use crate::item_bank::OPTION_LABELS;

/// Items on one practice paper at most (a real subject has about 60; practice is shorter).
pub const MAX_PRACTICE_ITEMS: usize = 20;

/// One active item of the practice pool of the subject, level and work type practised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PracticePoolItem {
    pub item_id: i64,
    pub version: i32,
    pub kind: ItemKind,
    /// The item's own points, in tenths.
    pub points: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PracticeError {
    #[error("科目：本科目的练习题库中暂无可用试题，请稍后再试")]
    EmptyPool,
}

/// Draws a practice paper of up to `max` items (at most [`MAX_PRACTICE_ITEMS`]) from `pool`.
///
/// A pure function of the pool's contents and the seed, whatever order the pool is listed in: the
/// pool is put in item order (an item listed twice counts once, at its highest version), shuffled
/// with the exam's generator and cut to size, so the recorded seed and the items' versions
/// rebuild the same paper.
pub fn draw(pool: &[PracticePoolItem], max: usize, seed: u64) -> Result<Form, PracticeError> {
    let mut by_id: BTreeMap<i64, PracticePoolItem> = BTreeMap::new();
    for item in pool {
        by_id
            .entry(item.item_id)
            .and_modify(|kept| {
                if item.version > kept.version {
                    *kept = *item
                }
            })
            .or_insert(*item);
    }
    let mut items: Vec<PracticePoolItem> = by_id.into_values().collect();
    let max = max.clamp(1, MAX_PRACTICE_ITEMS);
    if items.is_empty() {
        return Err(PracticeError::EmptyPool);
    }
    ExamRng::new(seed).shuffle(&mut items);
    items.truncate(max);
    Ok(Form {
        number: 1,
        items: items.into_iter().map(|i| FormItem { item_id: i.item_id, version: i.version, kind: i.kind, points: i.points }).collect(),
    })
}

/// The key of one item as the candidate saw its options: display letters (`AC`), `A` or `B`
/// for true/false (正确, 错误), empty for subjective items.
pub fn shown_key(kind: ItemKind, option_order: &[u8], key: &[u8]) -> String {
    match kind {
        ItemKind::TrueFalse => key.iter().filter_map(|k| OPTION_LABELS.get(usize::from(*k))).copied().collect(),
        ItemKind::SingleChoice | ItemKind::MultipleChoice => option_order
            .iter()
            .enumerate()
            .filter(|(_, stored)| key.contains(stored))
            .filter_map(|(shown, _)| OPTION_LABELS.get(shown))
            .copied()
            .collect(),
        ItemKind::ShortAnswer | ItemKind::Essay => String::new(),
    }
}

/// How one item went (作答结果).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Correct,
    /// Some points: a multiple-choice item answered with a strict subset of its key under
    /// partial credit.
    Partial,
    Incorrect,
    Unanswered,
    /// A subjective item: not scored; the candidate compares their answer with the marking
    /// guide (评分要点).
    SelfAssess,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Correct => "correct",
            Verdict::Partial => "partial",
            Verdict::Incorrect => "incorrect",
            Verdict::Unanswered => "unanswered",
            Verdict::SelfAssess => "self_assess",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Verdict::Correct => "正确",
            Verdict::Partial => "部分正确",
            Verdict::Incorrect => "错误",
            Verdict::Unanswered => "未作答",
            Verdict::SelfAssess => "主观题，请对照评分要点自评（不计分）",
        }
    }
}

/// The verdict on one item from its score: full points are correct, some points partial.
pub fn verdict(points: u32, answer: &str, score: ItemScore) -> Verdict {
    match score {
        ItemScore::ForMarking => Verdict::SelfAssess,
        _ if answer.trim().is_empty() => Verdict::Unanswered,
        ItemScore::Scored(t) if t >= points && points > 0 => Verdict::Correct,
        ItemScore::Scored(0) => Verdict::Incorrect,
        ItemScore::Scored(_) => Verdict::Partial,
    }
}

/// The machine-scored points on the 100-point scale of a real subject, in tenths, rounded down
/// to the tenth (as partial credit is): `scored` of `objective_total`, both in tenths. A paper
/// with no machine-scored item has no such score.
pub fn percent_tenths(scored: u32, objective_total: u32) -> Option<u32> {
    if objective_total == 0 {
        return None;
    }
    u32::try_from(u64::from(scored.min(objective_total)) * 1000 / u64::from(objective_total)).ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::exam::assembly::shuffle_for_candidate;
    use crate::exam::delivery::{KeyedItem, MultipleChoiceScoring, score_item};

    fn pool(n: i64) -> Vec<PracticePoolItem> {
        (1..=n)
            .map(|i| PracticePoolItem {
                item_id: i,
                version: 1,
                kind: if i % 3 == 0 { ItemKind::TrueFalse } else { ItemKind::SingleChoice },
                points: 10,
            })
            .collect()
    }

    #[test]
    fn an_empty_pool_draws_nothing() {
        assert_eq!(draw(&[], 20, 1), Err(PracticeError::EmptyPool));
        assert!(PracticeError::EmptyPool.to_string().starts_with("科目："));
    }

    #[test]
    fn a_paper_is_at_most_twenty_distinct_items_of_the_pool() {
        let form = draw(&pool(50), 100, 7).unwrap();
        assert_eq!(form.items.len(), MAX_PRACTICE_ITEMS);
        let mut ids: Vec<i64> = form.items.iter().map(|i| i.item_id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), MAX_PRACTICE_ITEMS);
        assert!(ids.iter().all(|id| (1..=50).contains(id)));
        // A small pool gives all of itself.
        assert_eq!(draw(&pool(5), 20, 7).unwrap().items.len(), 5);
    }

    #[test]
    fn the_highest_version_of_an_item_listed_twice_is_used_once() {
        let mut p = pool(2);
        p.push(PracticePoolItem { item_id: 1, version: 3, kind: ItemKind::SingleChoice, points: 10 });
        let form = draw(&p, 20, 1).unwrap();
        assert_eq!(form.items.len(), 2);
        assert_eq!(form.items.iter().find(|i| i.item_id == 1).unwrap().version, 3);
    }

    proptest! {
        #[test]
        fn the_seed_rebuilds_the_paper_whatever_the_pool_order(seed in any::<u64>(), rot in 0usize..40) {
            let p = pool(40);
            let mut rotated = p.clone();
            rotated.rotate_left(rot);
            rotated.reverse();
            prop_assert_eq!(draw(&p, 20, seed).unwrap(), draw(&rotated, 20, seed).unwrap());
        }
    }

    #[test]
    fn the_key_is_shown_in_the_candidates_letters() {
        // Stored options 0..4 shown in the order 2, 0, 3, 1: stored key {0, 3} is shown B and C.
        assert_eq!(shown_key(ItemKind::MultipleChoice, &[2, 0, 3, 1], &[0, 3]), "BC");
        assert_eq!(shown_key(ItemKind::SingleChoice, &[2, 0, 3, 1], &[2]), "A");
        assert_eq!(shown_key(ItemKind::TrueFalse, &[], &[1]), "B");
        assert_eq!(shown_key(ItemKind::Essay, &[], &[]), "");
        // Whatever the shuffle, answering the shown key scores full points.
        let form = draw(&pool(9), 9, 3).unwrap();
        let counts: Vec<u8> = form.items.iter().map(|i| if i.kind == ItemKind::TrueFalse { 2 } else { 4 }).collect();
        let presentation = shuffle_for_candidate(&form, &counts, 3).unwrap();
        for shown in &presentation.items {
            let item = form.items[shown.form_index as usize];
            let keyed = KeyedItem { kind: item.kind, points: item.points, key: vec![1] };
            let answer = shown_key(item.kind, &shown.option_order, &keyed.key);
            assert_eq!(score_item(&keyed, &shown.option_order, &answer, MultipleChoiceScoring::AllOrNothing), ItemScore::Scored(10));
        }
    }

    #[test]
    fn verdicts_follow_the_score() {
        assert_eq!(verdict(20, "AB", ItemScore::Scored(20)), Verdict::Correct);
        assert_eq!(verdict(20, "A", ItemScore::Scored(10)), Verdict::Partial);
        assert_eq!(verdict(20, "C", ItemScore::Scored(0)), Verdict::Incorrect);
        assert_eq!(verdict(20, "", ItemScore::Scored(0)), Verdict::Unanswered);
        assert_eq!(verdict(50, "我的回答", ItemScore::ForMarking), Verdict::SelfAssess);
        assert_eq!(verdict(50, "", ItemScore::ForMarking), Verdict::SelfAssess);
    }

    #[test]
    fn the_percentage_is_on_the_hundred_point_scale_rounded_down() {
        assert_eq!(percent_tenths(150, 200), Some(750));
        assert_eq!(percent_tenths(10, 30), Some(333));
        assert_eq!(percent_tenths(30, 30), Some(1000));
        assert_eq!(percent_tenths(0, 0), None);
    }
}
