//! Seating (编排考场): which sitting, room and seat each candidate takes for each subject.
//!
//! The model, and the choices made where the rules leave room:
//!
//! * **Seats.** Rooms are filled in the order given (give them in the order the centre numbers
//!   them), seats by number. Spare seats (备用座位) are never assigned: they are kept free for a
//!   computer that fails during the sitting.
//! * **Sittings.** A sitting is one subject at one time slot (`date`, `slot`). Every room is
//!   available to every sitting given. Two sittings at the same date and slot would share the
//!   rooms, which this planner does not model, so that input is refused: plan concurrent
//!   sittings in separate calls over separate rooms. Because no two sittings overlap, a
//!   candidate's sittings never clash, and each subject's capacity is exactly its sittings'
//!   seats — so the plan fails **if and only if** some subject needs more seats than its
//!   sittings have, and the error names each such subject with the seats missing.
//! * **One seat for the day.** A candidate takes all subjects on one date, in one room and seat,
//!   whenever a date has a sitting of each of their subjects and a seat free in all of them.
//!   Otherwise their subjects are spread (same date and seat preferred, then the same room) and
//!   the candidate is listed in [`SeatingPlan::split`] for staff to check.
//! * **Work types together.** Candidates are taken in blocks of one work type (in pinyin order)
//!   and level, and seats are filled in order, so each block occupies a contiguous run of seats.
//!   Blocks do not start a new room: a room shared by two work types is normal in a CBT exam,
//!   and starting rooms afresh would waste seats.
//! * **Units spread.** Within a block, the j-th of a unit's k candidates is placed at relative
//!   position (j + φ)/k, where the phase φ in [0, 1) differs from unit to unit (the r-th unit of
//!   the block gets the fractional part of r/golden ratio). Each unit is thus spaced evenly through
//!   its block, so every room of the block gets about its share of each unit and a unit shares a
//!   room with itself only as much as its size forces; the phases keep small units from all
//!   landing at the same place (with φ = ½ for all, every one-candidate unit would sit in the
//!   middle of the block and leave the large units' members next to each other at the ends).
//!   A last pass separates two neighbours of one unit that rounding left side by side, moving a
//!   candidate at most a few seats. A unit that is most of its block still seats some members side
//!   by side, and one that is most of a block that fits one room stays in that room: keeping work
//!   types together comes first.
//! * **Determinism.** The result depends on the candidates' content, not on their order in the
//!   input; it does depend on the rooms' order, which is meaningful.
//!
//! Cost is linear in candidates × subjects plus seats × sittings, after sorting the candidates:
//! each sitting (and each combination of sittings on one date) keeps a cursor to its first seat
//! that may be free, and seats are only ever taken, never freed.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use time::Date;

use crate::campaign::Level;
use crate::exam::Subject;
use crate::sort_key::pinyin_key;
use crate::validation::FieldErrors;

/// One admitted candidate (考生) to seat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatingCandidate {
    pub candidate_id: i64,
    pub unit_id: i64,
    pub work_type: String,
    pub level: Level,
    /// The subjects the candidate sits; duplicates are ignored.
    pub subjects: Vec<Subject>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seat {
    pub number: u32,
    /// 备用座位: kept free for a computer that fails.
    pub spare: bool,
}

/// 考场: a room of a test centre.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Room {
    pub room_id: i64,
    pub centre_id: i64,
    pub seats: Vec<Seat>,
}

/// 场次: one subject at one time slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sitting {
    pub sitting_id: i64,
    pub subject: Subject,
    pub date: Date,
    /// The sitting's place in its day (1 = first); only the order matters.
    pub slot: u8,
}

/// One candidate in one sitting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub candidate_id: i64,
    pub sitting_id: i64,
    pub room_id: i64,
    pub seat: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatingPlan {
    /// Ordered by sitting (date, slot), then room order and seat number: the order of the
    /// room lists (座次表).
    pub assignments: Vec<Assignment>,
    /// Candidates whose subjects could not all be given on one date at one seat, by id.
    pub split: Vec<i64>,
}

/// A subject whose sittings have fewer seats than it has candidates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeatShortage {
    pub subject: Subject,
    /// Number of sittings of the subject.
    pub sittings: usize,
    pub needed: u64,
    /// Non-spare seats over all its sittings.
    pub available: u64,
}

impl fmt::Display for SeatShortage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.sittings == 0 {
            write!(f, "{}：没有该科目的场次，{}名考生无法安排", self.subject.label(), self.needed)
        } else {
            write!(
                f,
                "{}：共需{}个座位，{}个场次共有{}个座位（不含备用座位），缺{}个",
                self.subject.label(),
                self.needed,
                self.sittings,
                self.available,
                self.needed.saturating_sub(self.available)
            )
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SeatingError {
    /// The input contradicts itself (duplicate ids, concurrent sittings); nothing was planned.
    #[error("{0}")]
    Invalid(FieldErrors),
    /// Every subject short of seats, in `Subject::ALL` order.
    #[error("考场座位不足：{}", .0.iter().map(SeatShortage::to_string).collect::<Vec<_>>().join("；"))]
    Capacity(Vec<SeatShortage>),
}

/// Seats `candidates` for every subject they need; see the module documentation for the rules.
pub fn seat_candidates(candidates: &[SeatingCandidate], rooms: &[Room], sittings: &[Sitting]) -> Result<SeatingPlan, SeatingError> {
    validate(candidates, rooms, sittings).map_err(SeatingError::Invalid)?;
    let seats = SeatMap::new(rooms);
    let schedule = Schedule::new(sittings);
    let masks: Vec<u8> = candidates.iter().map(|c| subject_mask(&c.subjects)).collect();
    check_capacity(&masks, &schedule, seats.len())?;

    let order = seating_order(candidates);
    let mut planner = Planner::new(&seats, &schedule);
    let mut placed: Vec<(usize, usize, usize)> = Vec::with_capacity(masks.iter().map(|m| m.count_ones() as usize).sum());
    let mut split = Vec::new();
    let mut picks = Vec::with_capacity(Subject::ALL.len());
    for c in order {
        picks.clear();
        let together = planner.place(masks[c], &mut picks).map_err(|subject| {
            // Unreachable after the capacity check; reported as a shortage rather than a panic.
            let sittings = schedule.by_subject[subject].len();
            let available = sittings as u64 * seats.len() as u64;
            let needed = masks.iter().filter(|&&m| m & (1 << subject) != 0).count() as u64;
            SeatingError::Capacity(vec![SeatShortage { subject: Subject::ALL[subject], sittings, needed, available }])
        })?;
        if !together {
            split.push(candidates[c].candidate_id);
        }
        placed.extend(picks.iter().map(|&(sitting, seat)| (sitting, seat, c)));
    }
    placed.sort_unstable();
    let assignments = placed
        .into_iter()
        .map(|(sitting, seat, c)| Assignment {
            candidate_id: candidates[c].candidate_id,
            sitting_id: schedule.sittings[sitting].sitting_id,
            room_id: rooms[seats.room[seat]].room_id,
            seat: seats.number[seat],
        })
        .collect();
    split.sort_unstable();
    Ok(SeatingPlan { assignments, split })
}

fn validate(candidates: &[SeatingCandidate], rooms: &[Room], sittings: &[Sitting]) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut seen = HashSet::with_capacity(candidates.len());
    for c in candidates {
        if !seen.insert(c.candidate_id) {
            errors.push("candidates", format!("考生：考生编号{}重复出现", c.candidate_id));
        }
    }
    let mut seen = HashSet::with_capacity(rooms.len());
    for room in rooms {
        if !seen.insert(room.room_id) {
            errors.push("rooms", format!("考场：考场编号{}重复出现", room.room_id));
        }
        let mut numbers = HashSet::with_capacity(room.seats.len());
        for seat in &room.seats {
            if !numbers.insert(seat.number) {
                errors.push("rooms", format!("座位：考场{}的座位号{}重复", room.room_id, seat.number));
            }
        }
    }
    let mut ids = HashSet::with_capacity(sittings.len());
    let mut times: HashMap<(Date, u8), i64> = HashMap::with_capacity(sittings.len());
    for s in sittings {
        if !ids.insert(s.sitting_id) {
            errors.push("sittings", format!("场次：场次编号{}重复出现", s.sitting_id));
        }
        if let Some(other) = times.insert((s.date, s.slot), s.sitting_id) {
            errors.push(
                "sittings",
                format!("场次：场次{other}与场次{}同在{}第{}场，同一时段的场次共用考场，请分开编排", s.sitting_id, s.date, s.slot),
            );
        }
    }
    errors.into_result()
}

fn subject_index(subject: Subject) -> usize {
    Subject::ALL.iter().position(|&s| s == subject).unwrap_or(0)
}

fn subject_mask(subjects: &[Subject]) -> u8 {
    subjects.iter().fold(0, |mask, &s| mask | 1 << subject_index(s))
}

fn mask_subjects(mask: u8) -> impl Iterator<Item = usize> {
    (0..Subject::ALL.len()).filter(move |&i| mask & (1 << i) != 0)
}

/// Non-spare seats in filling order, as parallel arrays indexed by a seat's position.
struct SeatMap {
    room: Vec<usize>,
    number: Vec<u32>,
    /// Per room, its range of positions.
    room_range: Vec<(usize, usize)>,
}

impl SeatMap {
    fn new(rooms: &[Room]) -> SeatMap {
        let total = rooms.iter().map(|r| r.seats.len()).sum();
        let mut map =
            SeatMap { room: Vec::with_capacity(total), number: Vec::with_capacity(total), room_range: Vec::with_capacity(rooms.len()) };
        for (r, room) in rooms.iter().enumerate() {
            let start = map.number.len();
            let mut numbers: Vec<u32> = room.seats.iter().filter(|s| !s.spare).map(|s| s.number).collect();
            numbers.sort_unstable();
            map.room.extend(std::iter::repeat_n(r, numbers.len()));
            map.number.extend(numbers);
            map.room_range.push((start, map.number.len()));
        }
        map
    }

    fn len(&self) -> usize {
        self.number.len()
    }
}

/// The sittings in time order, indexed by date and subject.
struct Schedule {
    sittings: Vec<Sitting>,
    /// Per sitting (in time order), its date's index.
    date_of: Vec<usize>,
    date_count: usize,
    /// Per subject, its sittings in time order.
    by_subject: [Vec<usize>; Subject::ALL.len()],
}

impl Schedule {
    fn new(sittings: &[Sitting]) -> Schedule {
        let mut sorted = sittings.to_vec();
        sorted.sort_unstable_by_key(|s| (s.date, s.slot, s.sitting_id));
        let mut date_of = Vec::with_capacity(sorted.len());
        let mut date_count = 0;
        for (i, s) in sorted.iter().enumerate() {
            if i > 0 && sorted[i - 1].date != s.date {
                date_count += 1;
            }
            date_of.push(date_count);
        }
        let mut by_subject: [Vec<usize>; Subject::ALL.len()] = Default::default();
        for (i, s) in sorted.iter().enumerate() {
            by_subject[subject_index(s.subject)].push(i);
        }
        Schedule { date_count: if sorted.is_empty() { 0 } else { date_count + 1 }, sittings: sorted, date_of, by_subject }
    }

    fn on_date(&self, subject: usize, date: usize) -> impl Iterator<Item = usize> + '_ {
        self.by_subject[subject].iter().copied().filter(move |&s| self.date_of[s] == date)
    }
}

fn check_capacity(masks: &[u8], schedule: &Schedule, seats: usize) -> Result<(), SeatingError> {
    let mut demand = [0u64; Subject::ALL.len()];
    for &mask in masks {
        for s in mask_subjects(mask) {
            demand[s] += 1;
        }
    }
    let shortages: Vec<SeatShortage> = Subject::ALL
        .iter()
        .enumerate()
        .filter_map(|(i, &subject)| {
            let sittings = schedule.by_subject[i].len();
            let available = sittings as u64 * seats as u64;
            (demand[i] > available).then_some(SeatShortage { subject, sittings, needed: demand[i], available })
        })
        .collect();
    if shortages.is_empty() { Ok(()) } else { Err(SeatingError::Capacity(shortages)) }
}

/// 2³² divided by the golden ratio: the phases (r · this) mod 2³² of successive units are spread
/// as evenly as any sequence can be (Weyl / Fibonacci hashing), whatever the number of units.
const GOLDEN_RATIO_32: u32 = 0x9e37_79b9;

/// Candidates' indices in seating order: blocks of (work type in pinyin order, level), and within
/// a block each unit spaced evenly (see the module documentation).
fn seating_order(candidates: &[SeatingCandidate]) -> Vec<usize> {
    let mut blocks: Vec<(String, Level, &str)> = candidates
        .iter()
        .map(|c| (c.work_type.as_str(), c.level))
        .collect::<HashSet<_>>()
        .into_iter()
        .map(|(work_type, level)| (pinyin_key(work_type), level, work_type))
        .collect();
    blocks.sort_unstable();
    let block_of: HashMap<(&str, Level), u32> = blocks.iter().enumerate().map(|(i, (_, level, wt))| ((*wt, *level), i as u32)).collect();
    let block: Vec<u32> = candidates.iter().map(|c| block_of.get(&(c.work_type.as_str(), c.level)).copied().unwrap_or(0)).collect();

    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_unstable_by_key(|&i| (block[i], candidates[i].unit_id, candidates[i].candidate_id));
    // Each candidate's place in its block as the fraction (j·2³² + phase) / (k·2³²): the j-th of
    // the k candidates of its unit, shifted by the unit's phase.
    let mut place = vec![(0u128, 0u128); candidates.len()];
    let mut unit_rank: u32 = 0;
    let mut previous_block = None;
    for run in order.chunk_by(|&a, &b| (block[a], candidates[a].unit_id) == (block[b], candidates[b].unit_id)) {
        let this_block = run.first().map(|&i| block[i]);
        unit_rank = if this_block == previous_block { unit_rank + 1 } else { 0 };
        previous_block = this_block;
        let phase = u128::from(unit_rank.wrapping_add(1).wrapping_mul(GOLDEN_RATIO_32));
        for (j, &i) in run.iter().enumerate() {
            place[i] = (((j as u128) << 32) + phase, run.len() as u128);
        }
    }
    let mut start = 0;
    while start < order.len() {
        let end = start + order[start..].iter().take_while(|&&i| block[i] == block[order[start]]).count();
        order[start..end].sort_unstable_by(|&a, &b| {
            let ((na, ka), (nb, kb)) = (place[a], place[b]);
            (na * kb)
                .cmp(&(nb * ka))
                .then(candidates[a].unit_id.cmp(&candidates[b].unit_id))
                .then(candidates[a].candidate_id.cmp(&candidates[b].candidate_id))
        });
        separate_neighbours(&mut order[start..end], |i| candidates[i].unit_id);
        start = end;
    }
    order
}

/// How far ahead [`separate_neighbours`] looks. Small, so that a candidate moves at most a few
/// seats from their evenly spaced place and the spread over rooms is kept.
const NEIGHBOUR_WINDOW: usize = 8;

/// Where two neighbours belong to one unit, brings forward the next candidate of another unit
/// found within [`NEIGHBOUR_WINDOW`] places. Even spacing leaves such pairs only by accident of
/// rounding (or when one unit is most of the block, where they cannot all be avoided).
fn separate_neighbours(order: &mut [usize], unit: impl Fn(usize) -> i64) {
    for i in 1..order.len() {
        let previous = unit(order[i - 1]);
        if unit(order[i]) != previous {
            continue;
        }
        let end = (i + NEIGHBOUR_WINDOW).min(order.len());
        if let Some(j) = (i + 1..end).find(|&j| unit(order[j]) != previous) {
            order[i..=j].rotate_right(1);
        }
    }
}

/// Combinations of one sitting per subject on one date, tried in this order.
const MAX_COMBINATIONS: usize = 64;

struct Planner<'a> {
    seats: &'a SeatMap,
    schedule: &'a Schedule,
    /// Per sitting, whether each seat is taken.
    taken: Vec<Vec<bool>>,
    /// Per sitting, no seat before this one is free.
    first_free: Vec<usize>,
    /// Per (subject mask, date), the range of its combinations in `combinations`.
    combinations_of: HashMap<(u8, usize), (usize, usize)>,
    /// A set of sittings and the first seat that may be free in all of them.
    combinations: Vec<(Vec<usize>, usize)>,
}

impl<'a> Planner<'a> {
    fn new(seats: &'a SeatMap, schedule: &'a Schedule) -> Planner<'a> {
        let n = schedule.sittings.len();
        Planner {
            seats,
            schedule,
            taken: vec![vec![false; seats.len()]; n],
            first_free: vec![0; n],
            combinations_of: HashMap::new(),
            combinations: Vec::new(),
        }
    }

    /// Places one candidate needing the subjects of `mask`, filling `picks` with (sitting, seat).
    /// `Ok(true)` if all of them are on one date at one seat; `Err` names a subject that found
    /// no seat, which the capacity check rules out.
    fn place(&mut self, mask: u8, picks: &mut Vec<(usize, usize)>) -> Result<bool, usize> {
        if mask == 0 {
            return Ok(true);
        }
        for date in 0..self.schedule.date_count {
            if self.place_together(mask, date, picks) {
                return Ok(true);
            }
        }
        for date in 0..self.schedule.date_count {
            if self.place_on_date(mask, date, picks) {
                return Ok(false);
            }
            picks.clear();
        }
        self.place_anywhere(mask, picks).map(|()| false)
    }

    fn place_together(&mut self, mask: u8, date: usize, picks: &mut Vec<(usize, usize)>) -> bool {
        let combinations = self.combinations_for(mask, date);
        let n = self.seats.len();
        for c in combinations {
            let (sittings, cursor) = &mut self.combinations[c];
            let mut seat = *cursor;
            while seat < n && sittings.iter().any(|&s| self.taken[s][seat]) {
                seat += 1;
            }
            *cursor = seat;
            if seat < n {
                for &s in sittings.iter() {
                    self.taken[s][seat] = true;
                    picks.push((s, seat));
                }
                *cursor = seat + 1;
                return true;
            }
        }
        false
    }

    /// One sitting per subject on `date`, each at the previous subject's seat or in its room
    /// when free.
    fn place_on_date(&mut self, mask: u8, date: usize, picks: &mut Vec<(usize, usize)>) -> bool {
        let mut near = None;
        for subject in mask_subjects(mask) {
            let found = self.schedule.on_date(subject, date).find_map(|s| self.free_seat(s, near).map(|seat| (s, seat)));
            let Some((s, seat)) = found else { return false };
            picks.push((s, seat));
            near = Some(seat);
        }
        for &(s, seat) in picks.iter() {
            self.taken[s][seat] = true;
        }
        true
    }

    /// Any sitting of each subject, on a date the candidate already sits if possible. The
    /// capacity check guarantees a free seat for every subject: its sittings serve it alone.
    fn place_anywhere(&mut self, mask: u8, picks: &mut Vec<(usize, usize)>) -> Result<(), usize> {
        let mut near = None;
        for subject in mask_subjects(mask) {
            let schedule = self.schedule;
            let on_used_date = |s: usize| picks.iter().any(|&(p, _)| schedule.date_of[p] == schedule.date_of[s]);
            let preferred = schedule.by_subject[subject].iter().copied().filter(|&s| on_used_date(s));
            let others = schedule.by_subject[subject].iter().copied().filter(|&s| !on_used_date(s));
            let order: Vec<usize> = preferred.chain(others).collect();
            let (s, seat) = order.into_iter().find_map(|s| self.free_seat(s, near).map(|seat| (s, seat))).ok_or(subject)?;
            self.taken[s][seat] = true;
            picks.push((s, seat));
            near = Some(seat);
        }
        Ok(())
    }

    /// A free seat in sitting `s`: `near` itself, else one in `near`'s room, else the first free.
    fn free_seat(&mut self, s: usize, near: Option<usize>) -> Option<usize> {
        if let Some(near) = near {
            if !self.taken[s][near] {
                return Some(near);
            }
            let (start, end) = self.seats.room_range[self.seats.room[near]];
            if let Some(seat) = (start..end).find(|&seat| !self.taken[s][seat]) {
                return Some(seat);
            }
        }
        let taken = &self.taken[s];
        let cursor = &mut self.first_free[s];
        while *cursor < taken.len() && taken[*cursor] {
            *cursor += 1;
        }
        (*cursor < taken.len()).then_some(*cursor)
    }

    fn combinations_for(&mut self, mask: u8, date: usize) -> std::ops::Range<usize> {
        if let Some(&(start, end)) = self.combinations_of.get(&(mask, date)) {
            return start..end;
        }
        let mut sets: Vec<Vec<usize>> = vec![Vec::new()];
        for subject in mask_subjects(mask) {
            let options: Vec<usize> = self.schedule.on_date(subject, date).collect();
            sets = sets
                .iter()
                .flat_map(|set| {
                    options.iter().map(move |&s| {
                        let mut next = set.clone();
                        next.push(s);
                        next
                    })
                })
                .take(MAX_COMBINATIONS)
                .collect();
        }
        let start = self.combinations.len();
        self.combinations.extend(sets.into_iter().map(|set| (set, 0)));
        self.combinations_of.insert((mask, date), (start, self.combinations.len()));
        start..self.combinations.len()
    }
}

/// Which of a blueprint's `forms` parallel forms (试卷 A、B、C…, numbered from 1) the candidate
/// on this seat gets: consecutive seats get different forms whenever there are at least two,
/// and the rotation starts one form further in each room, so a room's first seat does not always
/// hold form 1. Seats exactly `forms` apart share a form, so in a room laid out in rows of
/// `forms` columns the candidate behind has the same one; more forms than columns avoid that.
/// `None` when the blueprint has no assembled form yet.
pub fn form_number(room_number: u32, seat: u32, forms: u32) -> Option<u32> {
    if forms == 0 {
        return None;
    }
    Some((seat.saturating_sub(1) + room_number) % forms + 1)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use time::macros::date;

    use super::*;

    const DAY_SUBJECTS: [Subject; 3] = [Subject::PostSkills, Subject::Ethics, Subject::Competence];

    fn candidate(candidate_id: i64, unit_id: i64, work_type: &str, subjects: &[Subject]) -> SeatingCandidate {
        SeatingCandidate { candidate_id, unit_id, work_type: work_type.into(), level: Level::L4, subjects: subjects.to_vec() }
    }

    /// `count` rooms of `seats` seats numbered from 1, the last `spares` of them spare.
    fn rooms(count: i64, seats: u32, spares: u32) -> Vec<Room> {
        (1..=count)
            .map(|room_id| Room {
                room_id,
                centre_id: 1,
                seats: (1..=seats).map(|number| Seat { number, spare: number > seats - spares }).collect(),
            })
            .collect()
    }

    /// One sitting per subject of the day on each date, in slots 1–3.
    fn days(dates: &[Date]) -> Vec<Sitting> {
        let mut sittings = Vec::new();
        for (d, &date) in dates.iter().enumerate() {
            for (i, &subject) in DAY_SUBJECTS.iter().enumerate() {
                sittings.push(Sitting { sitting_id: (d * 10 + i) as i64 + 1, subject, date, slot: i as u8 + 1 });
            }
        }
        sittings
    }

    /// Per candidate, their (sitting, room, seat) in sitting order.
    fn by_candidate(plan: &SeatingPlan) -> BTreeMap<i64, Vec<(i64, i64, u32)>> {
        let mut map: BTreeMap<i64, Vec<(i64, i64, u32)>> = BTreeMap::new();
        for a in &plan.assignments {
            map.entry(a.candidate_id).or_default().push((a.sitting_id, a.room_id, a.seat));
        }
        map
    }

    #[test]
    fn one_seat_for_the_day_and_spares_left_free() {
        let candidates: Vec<_> = (0..20).map(|i| candidate(i, i % 3, if i < 8 { "电工" } else { "汽车驾驶员" }, &DAY_SUBJECTS)).collect();
        let plan = seat_candidates(&candidates, &rooms(5, 5, 1), &days(&[date!(2020 - 06 - 20)])).unwrap();
        assert_eq!(plan.assignments.len(), 60);
        assert!(plan.split.is_empty());
        for seats in by_candidate(&plan).values() {
            assert_eq!(seats.len(), 3);
            assert!(seats.iter().all(|&(_, room, seat)| (room, seat) == (seats[0].1, seats[0].2)));
        }
        assert!(plan.assignments.iter().all(|a| a.seat != 5));
    }

    #[test]
    fn work_types_sit_in_contiguous_runs_in_pinyin_order() {
        // 电工 (dian) before 汽车驾驶员 (qi) before 中式烹调师 (zhong), whatever the input order.
        let types = ["中式烹调师", "汽车驾驶员", "电工"];
        let candidates: Vec<_> = (0..45).map(|i| candidate(i, i % 7, types[(i % 3) as usize], &DAY_SUBJECTS)).collect();
        let plan = seat_candidates(&candidates, &rooms(4, 12, 0), &days(&[date!(2020 - 06 - 20)])).unwrap();
        let type_of: HashMap<i64, &str> = candidates.iter().map(|c| (c.candidate_id, c.work_type.as_str())).collect();
        let mut runs: Vec<&str> = plan.assignments.iter().filter(|a| a.sitting_id == 1).map(|a| type_of[&a.candidate_id]).collect();
        runs.dedup();
        assert_eq!(runs, ["电工", "汽车驾驶员", "中式烹调师"]);
    }

    #[test]
    fn a_unit_is_spread_over_the_rooms_of_its_block() {
        // Three units of 40, one work type, rooms of 30: every room gets members of every unit.
        let candidates: Vec<_> = (0..120).map(|i| candidate(i, 100 + i / 40, "电工", &DAY_SUBJECTS)).collect();
        let plan = seat_candidates(&candidates, &rooms(4, 30, 0), &days(&[date!(2020 - 06 - 20)])).unwrap();
        let unit_of: HashMap<i64, i64> = candidates.iter().map(|c| (c.candidate_id, c.unit_id)).collect();
        let mut per_room: BTreeMap<i64, BTreeMap<i64, usize>> = BTreeMap::new();
        for a in plan.assignments.iter().filter(|a| a.sitting_id == 1) {
            *per_room.entry(a.room_id).or_default().entry(unit_of[&a.candidate_id]).or_default() += 1;
        }
        assert_eq!(per_room.len(), 4);
        for units in per_room.values() {
            assert_eq!(units.len(), 3, "{per_room:?}");
            assert!(units.values().all(|&n| (9..=11).contains(&n)), "{per_room:?}");
        }
        // Neighbours come from different units.
        let mut seats: Vec<_> =
            plan.assignments.iter().filter(|a| a.sitting_id == 1).map(|a| ((a.room_id, a.seat), unit_of[&a.candidate_id])).collect();
        seats.sort_unstable();
        assert!(seats.windows(2).all(|w| w[0].1 != w[1].1));
    }

    #[test]
    fn small_units_do_not_bunch_up_between_a_large_one() {
        // One unit of 10 and ten units of one: without the per-unit phase, the ten would all sit
        // mid-block and the large unit's members side by side at both ends.
        let mut candidates: Vec<_> = (0..10).map(|i| candidate(i, 1, "电工", &DAY_SUBJECTS)).collect();
        candidates.extend((10..20).map(|i| candidate(i, i, "电工", &DAY_SUBJECTS)));
        let plan = seat_candidates(&candidates, &rooms(1, 20, 0), &days(&[date!(2020 - 06 - 20)])).unwrap();
        let units: Vec<i64> =
            plan.assignments.iter().filter(|a| a.sitting_id == 1).map(|a| candidates[a.candidate_id as usize].unit_id).collect();
        assert!(units.windows(2).all(|w| w[0] != w[1]), "{units:?}");
    }

    #[test]
    fn a_full_day_spills_to_the_next_with_the_same_seat_kept() {
        let candidates: Vec<_> = (0..30).map(|i| candidate(i, i, "电工", &DAY_SUBJECTS)).collect();
        let plan = seat_candidates(&candidates, &rooms(2, 10, 0), &days(&[date!(2020 - 06 - 20), date!(2020 - 06 - 21)])).unwrap();
        assert!(plan.split.is_empty());
        let seats = by_candidate(&plan);
        let on_day_two = seats.values().filter(|s| s[0].0 > 10).count();
        assert_eq!(on_day_two, 10);
    }

    #[test]
    fn a_schedule_without_a_full_day_splits_and_says_so() {
        let d1 = date!(2020 - 06 - 20);
        let d2 = date!(2020 - 06 - 21);
        let sittings = [
            Sitting { sitting_id: 1, subject: Subject::PostSkills, date: d1, slot: 1 },
            Sitting { sitting_id: 2, subject: Subject::Ethics, date: d1, slot: 2 },
            Sitting { sitting_id: 3, subject: Subject::Competence, date: d2, slot: 1 },
        ];
        let candidates = vec![candidate(1, 1, "电工", &DAY_SUBJECTS), candidate(2, 1, "电工", &[Subject::Ethics, Subject::PostSkills])];
        let plan = seat_candidates(&candidates, &rooms(1, 4, 0), &sittings).unwrap();
        assert_eq!(plan.split, [1]);
        let seats = by_candidate(&plan);
        assert_eq!(seats[&1].len(), 3);
        // Still the same seat on both days.
        assert!(seats[&1].iter().all(|&(_, room, seat)| (room, seat) == (seats[&1][0].1, seats[&1][0].2)));
        assert_eq!(seats[&2].len(), 2);
    }

    #[test]
    fn capacity_error_names_each_short_subject() {
        let mut candidates: Vec<_> = (0..25).map(|i| candidate(i, i, "电工", &DAY_SUBJECTS)).collect();
        candidates.push(candidate(99, 1, "电工", &[Subject::Theory]));
        let err = seat_candidates(&candidates, &rooms(3, 9, 1), &days(&[date!(2020 - 06 - 20)])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "考场座位不足：岗位技能：共需25个座位，1个场次共有24个座位（不含备用座位），缺1个；\
             职业道德：共需25个座位，1个场次共有24个座位（不含备用座位），缺1个；\
             职业能力：共需25个座位，1个场次共有24个座位（不含备用座位），缺1个；\
             专业理论：没有该科目的场次，1名考生无法安排"
        );
    }

    #[test]
    fn contradictory_input_is_refused() {
        let d = date!(2020 - 06 - 20);
        let mut rooms = rooms(2, 3, 0);
        rooms[1].room_id = 1;
        rooms[0].seats[2].number = 1;
        let sittings = [
            Sitting { sitting_id: 1, subject: Subject::Ethics, date: d, slot: 1 },
            Sitting { sitting_id: 1, subject: Subject::Competence, date: d, slot: 1 },
        ];
        let candidates = vec![candidate(5, 1, "电工", &[Subject::Ethics]), candidate(5, 2, "电工", &[Subject::Ethics])];
        let SeatingError::Invalid(errors) = seat_candidates(&candidates, &rooms, &sittings).unwrap_err() else { panic!() };
        let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "考生：考生编号5重复出现",
                "座位：考场1的座位号1重复",
                "考场：考场编号1重复出现",
                "场次：场次编号1重复出现",
                "场次：场次1与场次1同在2020-06-20第1场，同一时段的场次共用考场，请分开编排",
            ]
        );
    }

    #[test]
    fn input_order_does_not_change_the_plan() {
        let candidates: Vec<_> =
            (0..50).map(|i| candidate(i * 3 + 1, i % 4, ["电工", "汽车驾驶员"][(i % 2) as usize], &DAY_SUBJECTS)).collect();
        let mut sittings = days(&[date!(2020 - 06 - 20), date!(2020 - 06 - 21)]);
        let plan = seat_candidates(&candidates, &rooms(3, 10, 1), &sittings).unwrap();
        let mut reversed = candidates.clone();
        reversed.reverse();
        sittings.reverse();
        assert_eq!(seat_candidates(&reversed, &rooms(3, 10, 1), &sittings).unwrap(), plan);
    }

    #[test]
    fn nobody_to_seat_is_an_empty_plan() {
        let plan = seat_candidates(&[], &[], &[]).unwrap();
        assert!(plan.assignments.is_empty() && plan.split.is_empty());
        let plan = seat_candidates(&[candidate(1, 1, "电工", &[])], &[], &[]).unwrap();
        assert!(plan.assignments.is_empty());
    }

    /// Sittings: on each of up to 3 dates, a random subset of the day's subjects in distinct
    /// slots. Rooms: up to 4 of up to 6 seats, some spare. Candidates: random subjects.
    fn instance() -> impl Strategy<Value = (Vec<SeatingCandidate>, Vec<Room>, Vec<Sitting>)> {
        let day = (prop::collection::vec(any::<bool>(), 3), Just(vec![1u8, 2, 3]).prop_shuffle());
        let sittings = prop::collection::vec(day, 0..=3).prop_map(|days| {
            let mut sittings = Vec::new();
            for (d, (present, slots)) in days.into_iter().enumerate() {
                let date = date!(2020 - 06 - 20).saturating_add(time::Duration::days(d as i64));
                for (i, &subject) in DAY_SUBJECTS.iter().enumerate() {
                    if present[i] {
                        sittings.push(Sitting { sitting_id: (d * 10 + i) as i64, subject, date, slot: slots[i] });
                    }
                }
            }
            sittings
        });
        let room = prop::collection::vec(any::<bool>(), 0..=6);
        let rooms = prop::collection::vec(room, 0..=4).prop_map(|rooms| {
            rooms
                .into_iter()
                .enumerate()
                .map(|(r, spares)| Room {
                    room_id: 100 + r as i64,
                    centre_id: 1,
                    // About one seat in six is spare.
                    seats: spares
                        .into_iter()
                        .enumerate()
                        .map(|(n, spare)| Seat { number: n as u32 + 1, spare: spare && n % 3 == 0 })
                        .collect(),
                })
                .collect::<Vec<_>>()
        });
        let person = (1u8..8, 0usize..3, 0i64..5, 2u8..=5);
        let candidates = prop::collection::vec(person, 0..=40).prop_map(|people| {
            people
                .into_iter()
                .enumerate()
                .map(|(i, (mask, wt, unit, level))| SeatingCandidate {
                    candidate_id: 1000 - i as i64,
                    unit_id: unit,
                    work_type: ["电工", "汽车驾驶员", "中式烹调师"][wt].into(),
                    level: Level::from_number(level).unwrap(),
                    subjects: DAY_SUBJECTS.iter().enumerate().filter(|(b, _)| mask & (1 << b) != 0).map(|(_, &s)| s).collect(),
                })
                .collect::<Vec<_>>()
        });
        (candidates, rooms, sittings)
    }

    proptest! {
        #[test]
        fn plans_are_sound_and_fail_only_for_lack_of_seats((candidates, rooms, sittings) in instance()) {
            let free_seats = rooms.iter().flat_map(|r| &r.seats).filter(|s| !s.spare).count() as u64;
            let short: Vec<Subject> = DAY_SUBJECTS
                .into_iter()
                .filter(|&subject| {
                    let demand = candidates.iter().filter(|c| c.subjects.contains(&subject)).count() as u64;
                    let supply = sittings.iter().filter(|s| s.subject == subject).count() as u64 * free_seats;
                    demand > supply
                })
                .collect();
            match seat_candidates(&candidates, &rooms, &sittings) {
                Err(SeatingError::Capacity(shortages)) => {
                    prop_assert_eq!(shortages.iter().map(|s| s.subject).collect::<Vec<_>>(), short);
                    prop_assert!(shortages.iter().all(|s| s.needed > s.available));
                }
                Err(other) => prop_assert!(false, "unexpected {:?}", other),
                Ok(plan) => {
                    prop_assert!(short.is_empty());
                    let sitting: HashMap<i64, &Sitting> = sittings.iter().map(|s| (s.sitting_id, s)).collect();
                    let seat_of: HashMap<(i64, u32), bool> = rooms.iter().flat_map(|r| r.seats.iter().map(move |s| ((r.room_id, s.number), s.spare))).collect();
                    let mut booked = HashSet::new();
                    for a in &plan.assignments {
                        prop_assert!(booked.insert((a.sitting_id, a.room_id, a.seat)), "seat double-booked: {:?}", a);
                        prop_assert_eq!(seat_of.get(&(a.room_id, a.seat)), Some(&false), "spare or unknown seat: {:?}", a);
                    }
                    let seats = by_candidate(&plan);
                    for c in &candidates {
                        let mut got: Vec<Subject> = seats.get(&c.candidate_id).map(|s| s.iter().map(|&(id, ..)| sitting[&id].subject).collect()).unwrap_or_default();
                        got.sort_unstable();
                        let mut wanted = c.subjects.clone();
                        wanted.sort_unstable();
                        prop_assert_eq!(got, wanted, "candidate {} not seated once per subject", c.candidate_id);
                        if let Some(s) = seats.get(&c.candidate_id) && !plan.split.contains(&c.candidate_id) {
                            let first = (sitting[&s[0].0].date, s[0].1, s[0].2);
                            prop_assert!(s.iter().all(|&(id, room, seat)| (sitting[&id].date, room, seat) == first));
                        }
                    }
                    prop_assert_eq!(seats.len(), candidates.iter().filter(|c| !c.subjects.is_empty()).count());
                }
            }
        }

        #[test]
        fn full_day_candidates_keep_work_types_contiguous((candidates, rooms, _) in instance()) {
            let candidates: Vec<SeatingCandidate> = candidates.into_iter().map(|c| SeatingCandidate { subjects: DAY_SUBJECTS.to_vec(), ..c }).collect();
            let sittings = days(&[date!(2020 - 06 - 20), date!(2020 - 06 - 21)]);
            if let Ok(plan) = seat_candidates(&candidates, &rooms, &sittings) {
                prop_assert!(plan.split.is_empty());
                let type_of: HashMap<i64, &str> = candidates.iter().map(|c| (c.candidate_id, c.work_type.as_str())).collect();
                // Seats in filling order across both days.
                let mut runs: Vec<&str> = plan.assignments.iter().filter(|a| sittings.iter().any(|s| s.sitting_id == a.sitting_id && s.subject == Subject::PostSkills)).map(|a| type_of[&a.candidate_id]).collect();
                runs.dedup();
                let distinct: HashSet<&str> = runs.iter().copied().collect();
                prop_assert_eq!(runs.len(), distinct.len(), "a work type is split: {:?}", runs);
            }
        }
    }

    #[test]
    fn neighbours_get_different_forms_and_rooms_rotate() {
        assert_eq!(form_number(1, 1, 0), None);
        for forms in 2..=6 {
            for room in 1..=5 {
                for seat in 1..=32 {
                    let a = form_number(room, seat, forms).expect("a form");
                    let b = form_number(room, seat + 1, forms).expect("a form");
                    assert!((1..=forms).contains(&a));
                    assert_ne!(a, b, "seats {seat} and {} of room {room} with {forms} forms", seat + 1);
                }
            }
        }
        assert_ne!(form_number(1, 1, 4), form_number(2, 1, 4), "each room starts elsewhere");
        assert_eq!(form_number(7, 3, 1), Some(1));
    }
}
