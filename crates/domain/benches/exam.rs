//! Paper assembly and seating at the scale of a province.
//!
//! Requirements: 50 forms of a 100-item blueprint from a pool of 20,000 items in < 1 s; 100,000
//! candidates seated for 3 subjects on one day in < 5 s (the whole operation, database included;
//! the domain's share should be well under 1 s); 100,000 attempts of 100 items graded in < 2 s
//! (issue 6), on one core. Run with
//! `CARGO_TARGET_DIR=/work/wt-exam/target cargo bench -p gongkao-domain --bench exam`
//! (about a minute: 10 samples each, short warm-up and measurement).

use std::collections::{HashMap, HashSet};
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use gongkao_domain::campaign::Level;
use gongkao_domain::exam::assembly::{Form, PoolItem, assemble, shuffle_for_candidate};
use gongkao_domain::exam::blueprint::{Blueprint, BlueprintCell};
use gongkao_domain::exam::delivery::{KeyedItem, MultipleChoiceScoring, score_attempt};
use gongkao_domain::exam::seating::{Room, Seat, SeatingCandidate, SeatingPlan, Sitting, seat_candidates};
use gongkao_domain::exam::{Difficulty, ItemKind, Subject};
use time::macros::date;

const KNOWLEDGE_POINTS: [&str; 10] =
    ["安全生产", "电工基础", "电路分析", "电机原理", "低压电器", "照明线路", "仪表使用", "接地保护", "电缆敷设", "法律法规"];
const DIFFICULTIES: [u8; 3] = [2, 3, 4];
/// 20 判断, 50 单选 and 30 多选 of 1 point each.
const KINDS: [(ItemKind, u32); 3] = [(ItemKind::TrueFalse, 20), (ItemKind::SingleChoice, 50), (ItemKind::MultipleChoice, 30)];
const WORK_TYPES: [(&str, u64); 8] =
    [("电工", 18), ("汽车驾驶员", 22), ("中式烹调师", 12), ("保洁员", 15), ("绿化工", 9), ("水工", 6), ("计算机操作员", 10), ("收银员", 8)];

/// SplitMix64 as a hash, for synthetic data that does not depend on any library's generator.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn difficulty(value: u8) -> Difficulty {
    Difficulty::new(value).unwrap_or_else(|| panic!("difficulty {value}"))
}

/// Each kind's items spread over the 30 (knowledge point, difficulty) pairs: 80 cells.
fn blueprint() -> Blueprint {
    let mut cells = Vec::new();
    for (kind, total) in KINDS {
        let pairs = KNOWLEDGE_POINTS.len() * DIFFICULTIES.len();
        for p in 0..pairs {
            let count = total / pairs as u32 + u32::from((p as u32) < total % pairs as u32);
            if count > 0 {
                cells.push(BlueprintCell {
                    kind,
                    difficulty: difficulty(DIFFICULTIES[p % DIFFICULTIES.len()]),
                    knowledge_point: KNOWLEDGE_POINTS[p / DIFFICULTIES.len()].into(),
                    count,
                    points_per_item: 10,
                });
            }
        }
    }
    Blueprint::new(Subject::PostSkills, Level::L3, Some("电工".into()), cells)
}

/// 20,000 items: 20 % true/false, 50 % single choice, 30 % multiple choice, spread evenly over
/// the knowledge points and difficulties.
fn pool() -> Vec<PoolItem> {
    (0..20_000i64)
        .map(|i| {
            let kind = match i % 10 {
                0 | 1 => ItemKind::TrueFalse,
                2..=6 => ItemKind::SingleChoice,
                _ => ItemKind::MultipleChoice,
            };
            let pair = (mix(i as u64) % 30) as usize;
            PoolItem {
                item_id: 1_000_000 + i,
                version: 1,
                kind,
                difficulty: difficulty(DIFFICULTIES[pair % 3]),
                knowledge_point: KNOWLEDGE_POINTS[pair / 3].into(),
            }
        })
        .collect()
}

/// 100,000 candidates of 3,000 units, each unit of one or two work types, levels 2–5.
fn candidates() -> Vec<SeatingCandidate> {
    let weights: u64 = WORK_TYPES.iter().map(|(_, w)| w).sum();
    let work_type = |roll: u64| {
        let mut roll = roll % weights;
        for (name, w) in WORK_TYPES {
            if roll < w {
                return name;
            }
            roll -= w;
        }
        WORK_TYPES[0].0
    };
    (0..100_000i64)
        .map(|i| {
            let h = mix(i as u64 ^ 0x5eed);
            let unit_id = (h % 3_000) as i64 + 1;
            let unit_hash = mix(unit_id as u64);
            // Most of a unit's candidates share its main work type.
            let wt = if (h >> 20).is_multiple_of(4) { work_type(h >> 32) } else { work_type(unit_hash) };
            SeatingCandidate {
                candidate_id: 10_000_000 + i,
                unit_id,
                work_type: wt.into(),
                level: Level::from_number(2 + ((h >> 40) % 4) as u8).unwrap_or(Level::L4),
                subjects: vec![Subject::PostSkills, Subject::Ethics, Subject::Competence],
            }
        })
        .collect()
}

/// 3,334 rooms of 30 seats plus 2 spares: 100,020 seats for 100,000 candidates.
fn rooms() -> Vec<Room> {
    (0..3_334i64)
        .map(|r| Room {
            room_id: r + 1,
            centre_id: r / 900 + 1,
            seats: (1..=32).map(|number| Seat { number, spare: number > 30 }).collect(),
        })
        .collect()
}

fn sittings() -> Vec<Sitting> {
    let day = date!(2020 - 06 - 20);
    [Subject::PostSkills, Subject::Ethics, Subject::Competence]
        .into_iter()
        .enumerate()
        .map(|(i, subject)| Sitting { sitting_id: i as i64 + 1, subject, date: day, slot: i as u8 + 1 })
        .collect()
}

/// How well units are spread, printed once so a change to the seating order shows in the output.
fn report_unit_spread(candidates: &[SeatingCandidate], plan: &SeatingPlan) {
    let unit_of: HashMap<i64, i64> = candidates.iter().map(|c| (c.candidate_id, c.unit_id)).collect();
    let mut per_room_unit: HashMap<(i64, i64), u32> = HashMap::new();
    let mut rooms_of_unit: HashMap<i64, HashSet<i64>> = HashMap::new();
    for a in plan.assignments.iter().filter(|a| a.sitting_id == 1) {
        let unit = unit_of[&a.candidate_id];
        *per_room_unit.entry((a.room_id, unit)).or_default() += 1;
        rooms_of_unit.entry(unit).or_default().insert(a.room_id);
    }
    let most = per_room_unit.values().max().copied().unwrap_or(0);
    let in_one_room = rooms_of_unit.values().filter(|rooms| rooms.len() == 1).count();
    // Assignments come in room order and seat order within a sitting.
    let first_sitting: Vec<_> = plan.assignments.iter().filter(|a| a.sitting_id == 1).collect();
    let neighbours = first_sitting
        .windows(2)
        .filter(|w| w[0].room_id == w[1].room_id && unit_of[&w[0].candidate_id] == unit_of[&w[1].candidate_id])
        .count();
    eprintln!(
        "seating: at most {most} candidates of one unit share a room; {in_one_room} of {} units sit in a single room; \
         {neighbours} pairs of neighbours from one unit",
        rooms_of_unit.len()
    );
}

fn bench(c: &mut Criterion) {
    let blueprint = blueprint();
    if let Err(e) = blueprint.validate() {
        panic!("bench blueprint invalid: {e}");
    }
    let pool = pool();
    let forms = match assemble(&pool, &blueprint, 50, 2020) {
        Ok(forms) => forms,
        Err(e) => panic!("bench pool too small: {e}"),
    };
    assert!(forms.iter().all(|f| f.items.len() == 100 && f.total_tenths() == 1000));
    let form: &Form = &forms[0];
    let option_counts: Vec<u8> = form.items.iter().map(|i| if i.kind == ItemKind::TrueFalse { 0 } else { 4 }).collect();

    let (candidates, rooms, sittings) = (candidates(), rooms(), sittings());
    match seat_candidates(&candidates, &rooms, &sittings) {
        Ok(plan) => {
            assert!(plan.assignments.len() == 300_000 && plan.split.is_empty());
            report_unit_spread(&candidates, &plan);
        }
        Err(e) => panic!("bench rooms too few: {e}"),
    }

    let mut group = c.benchmark_group("exam");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    group.bench_function("assemble_50_forms_of_100_items_from_20000", |b| {
        b.iter(|| assemble(black_box(&pool), black_box(&blueprint), 50, black_box(2020)).map(|f| f.len()))
    });
    group.bench_function("seat_100000_candidates_3_subjects_one_day", |b| {
        b.iter(|| seat_candidates(black_box(&candidates), black_box(&rooms), black_box(&sittings)).map(|p| p.assignments.len()))
    });
    group.bench_function("shuffle_one_100_item_form_for_a_candidate", |b| {
        b.iter(|| shuffle_for_candidate(black_box(form), black_box(&option_counts), black_box(77)).map(|p| p.items.len()))
    });
    // Grading: 100,000 attempts of a 100-item form, each from its recorded seed (the
    // presentation is rebuilt, as a re-check does) with answers in shown letters.
    let keys: Vec<KeyedItem> = form
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| KeyedItem {
            kind: item.kind,
            points: item.points,
            key: match item.kind {
                ItemKind::MultipleChoice => vec![0, 2],
                _ => vec![(i % 2) as u8],
            },
        })
        .collect();
    let answers: Vec<Vec<&str>> = (0..16u64)
        .map(|v| {
            form.items
                .iter()
                .enumerate()
                .map(|(i, item)| match (item.kind, mix(v * 1000 + i as u64) % 4) {
                    (ItemKind::MultipleChoice, 0) => "AC",
                    (ItemKind::MultipleChoice, 1) => "BD",
                    (_, 0 | 1) => "A",
                    (_, 2) => "B",
                    _ => "",
                })
                .collect()
        })
        .collect();
    group.bench_function("grade_100000_attempts_of_100_items", |b| {
        b.iter(|| {
            let mut total = 0u64;
            for attempt in 0..100_000u64 {
                let presentation = match shuffle_for_candidate(form, &option_counts, mix(attempt)) {
                    Ok(p) => p,
                    Err(e) => panic!("{e}"),
                };
                let given = &answers[(attempt % 16) as usize];
                match score_attempt(form, &keys, &presentation, given, MultipleChoiceScoring::AllOrNothing) {
                    Ok(s) => total += u64::from(s.objective_tenths),
                    Err(e) => panic!("{e}"),
                }
            }
            black_box(total)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
