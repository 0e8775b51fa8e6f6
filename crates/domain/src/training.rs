//! Training classes (培训班), enrolment (参训) and attendance (考勤/签到).
//!
//! The 2020 notice §三(四) reads: "5月—7月，组织工勤技能岗位五级（初级工）至二级（技师）培训。"
//! So a class runs between 1 May and 31 July of the campaign year and is for one of the
//! levels 5 to 2; level 1 (高级技师) is evaluated by its own procedure and is not trained.
//! A class may be for one work type of the catalogue or for every work type of its level
//! (the shared subjects, 职业道德 and 岗位能力, are the same for all work types).
//!
//! Everything here is pure: the web service reads the rows, asks these functions, and writes.
use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use time::{Date, Month};

use crate::campaign::{Level, format_date};
use crate::validation::FieldErrors;

/// Most places in one class: a lecture hall, not a stadium.
pub const MAX_CAPACITY: u32 = 500;
/// Most days one class may last; longer training is split into several classes.
pub const MAX_DAYS: usize = 31;
pub const MAX_NAME_CHARS: usize = 60;
pub const MAX_PLACE_CHARS: usize = 120;
pub const MAX_ORGANISER_CHARS: usize = 60;
pub const MAX_REASON_CHARS: usize = 100;

/// The training period of a campaign year: 1 May to 31 July (notice §三(四)), both included.
pub fn training_period(year: i32) -> Option<(Date, Date)> {
    Some((Date::from_calendar_date(year, Month::May, 1).ok()?, Date::from_calendar_date(year, Month::July, 31).ok()?))
}

/// `2020-06-08` → `6月8日`, for column heads and messages.
pub fn day_label(d: Date) -> String {
    format!("{}月{}日", u8::from(d.month()), d.day())
}

/// What the class form carries, as typed.
#[derive(Debug, Clone, Default)]
pub struct ClassForm<'a> {
    pub name: &'a str,
    pub place: &'a str,
    pub organiser: &'a str,
    pub level: &'a str,
    /// Empty: every work type of the level.
    pub work_type: &'a str,
    pub starts_on: &'a str,
    pub ends_on: &'a str,
    pub capacity: &'a str,
}

/// A checked class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassSpec {
    pub name: String,
    pub place: String,
    pub organiser: Option<String>,
    pub level: Level,
    /// `None`: every work type of the level.
    pub work_type: Option<String>,
    pub starts_on: Date,
    pub ends_on: Date,
    pub capacity: u32,
}

impl ClassSpec {
    /// Every date from the first day to the last, both included (weekends too: agencies often
    /// train on Saturdays, and a class that skips a day is two classes).
    pub fn days(&self) -> Vec<Date> {
        class_days(self.starts_on, self.ends_on)
    }

    pub fn has_day(&self, day: Date) -> bool {
        self.starts_on <= day && day <= self.ends_on
    }

    /// `2020-06-08 至 2020-06-12（5天）`.
    pub fn dates_label(&self) -> String {
        dates_label(self.starts_on, self.ends_on)
    }

    pub fn work_type_label(&self) -> &str {
        self.work_type.as_deref().unwrap_or("全部工种")
    }

    /// Whether a candidate of this level and work type belongs in the class.
    pub fn admits(&self, level: u8, work_type: &str) -> bool {
        level == self.level.number() && self.work_type.as_deref().is_none_or(|w| w == work_type)
    }
}

/// `2020-06-08 至 2020-06-12（5天）`; one day reads `2020-06-08（1天）`.
pub fn dates_label(starts_on: Date, ends_on: Date) -> String {
    let days = class_days(starts_on, ends_on).len();
    if starts_on == ends_on {
        format!("{}（1天）", format_date(starts_on))
    } else {
        format!("{} 至 {}（{days}天）", format_date(starts_on), format_date(ends_on))
    }
}

/// Every date from `starts_on` to `ends_on`, both included; empty when they are reversed.
pub fn class_days(starts_on: Date, ends_on: Date) -> Vec<Date> {
    let mut out = Vec::new();
    let mut d = starts_on;
    while d <= ends_on && out.len() <= MAX_DAYS {
        out.push(d);
        match d.next_day() {
            Some(next) => d = next,
            None => break,
        }
    }
    out
}

pub fn parse_date(s: &str) -> Option<Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), fmt).ok()
}

fn text(errors: &mut FieldErrors, value: &str, field: &str, label: &str, max: usize, required: bool) -> String {
    let v = value.trim();
    if required && v.is_empty() {
        errors.push(field, format!("{label}：请填写"));
    } else if v.chars().count() > max {
        errors.push(field, format!("{label}：不超过{max}个字"));
    } else if v.chars().any(char::is_control) {
        errors.push(field, format!("{label}：不能含有换行等控制字符"));
    }
    v.to_owned()
}

/// Checks a class form against the campaign year and its work-type catalogue; every bad field
/// gets its own message, named by its Chinese label.
pub fn validate_class(form: &ClassForm<'_>, year: i32, work_types: &[String]) -> Result<ClassSpec, FieldErrors> {
    let mut errors = FieldErrors::new();
    let name = text(&mut errors, form.name, "name", "培训班名称", MAX_NAME_CHARS, true);
    let place = text(&mut errors, form.place, "place", "培训地点", MAX_PLACE_CHARS, true);
    let organiser = text(&mut errors, form.organiser, "organiser", "培训机构/授课教师", MAX_ORGANISER_CHARS, false);
    let level = match form.level.trim().parse::<u8>().ok().and_then(Level::from_number) {
        Some(Level::L1) => {
            errors.push("level", "培训等级：一级（高级技师）不组织培训，培训只面向五级至二级");
            None
        }
        Some(l) => Some(l),
        None => {
            errors.push("level", "培训等级：请选择五级至二级中的一个等级");
            None
        }
    };
    let work_type = form.work_type.trim();
    let work_type = if work_type.is_empty() {
        None
    } else if work_types.iter().any(|w| w == work_type) {
        Some(work_type.to_owned())
    } else {
        errors.push("work_type", format!("工种：“{work_type}”不在本考核年度的工种目录中"));
        None
    };
    let period = training_period(year);
    let period_label = period.map(|(a, b)| format!("{}至{}", format_date(a), format_date(b))).unwrap_or_default();
    let mut date = |value: &str, field: &str, label: &str| match parse_date(value) {
        None => {
            errors.push(field, format!("{label}：请按 年-月-日 填写，例如 {year}-06-08"));
            None
        }
        Some(d) if period.is_none_or(|(a, b)| d < a || d > b) => {
            errors.push(field, format!("{label}：培训在每年5月至7月组织，应在 {period_label} 之间"));
            None
        }
        Some(d) => Some(d),
    };
    let starts_on = date(form.starts_on, "starts_on", "开始日期");
    let ends_on = date(form.ends_on, "ends_on", "结束日期");
    if let (Some(a), Some(b)) = (starts_on, ends_on) {
        if b < a {
            errors.push("ends_on", "结束日期：不能早于开始日期");
        } else if class_days(a, b).len() > MAX_DAYS {
            errors.push("ends_on", format!("结束日期：一期培训最长{MAX_DAYS}天，请分为几期"));
        }
    }
    let capacity = match form.capacity.trim().parse::<u32>() {
        Ok(n) if (1..=MAX_CAPACITY).contains(&n) => Some(n),
        _ => {
            errors.push("capacity", format!("容纳人数：应为1至{MAX_CAPACITY}的整数"));
            None
        }
    };
    match (level, starts_on, ends_on, capacity, errors.is_empty()) {
        (Some(level), Some(starts_on), Some(ends_on), Some(capacity), true) => Ok(ClassSpec {
            name,
            place,
            organiser: (!organiser.is_empty()).then_some(organiser),
            level,
            work_type,
            starts_on,
            ends_on,
            capacity,
        }),
        _ => Err(errors),
    }
}

/// What may change once people are enrolled or attendance is recorded: the level and the work
/// type decide who belongs, so they are fixed once anyone does; the capacity may not drop under
/// the number enrolled; the dates must still hold every day with attendance.
pub fn validate_change(old: &ClassSpec, new: &ClassSpec, enrolled: usize, attendance_days: &[Date]) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::new();
    if enrolled > 0 {
        if old.level != new.level {
            errors.push("level", format!("培训等级：已有{enrolled}人参训，不能修改等级"));
        }
        if old.work_type != new.work_type {
            errors.push("work_type", format!("工种：已有{enrolled}人参训，不能修改工种"));
        }
        if (new.capacity as usize) < enrolled {
            errors.push("capacity", format!("容纳人数：已有{enrolled}人参训，不能少于{enrolled}"));
        }
    }
    if let Some(outside) = attendance_days.iter().find(|d| !new.has_day(**d)) {
        errors.push("starts_on", format!("开始日期：{} 已登记考勤，培训日期应包含这一天", format_date(*outside)));
    }
    errors.into_result()
}

/// An admitted candidate the class might take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub application_id: i64,
    pub level: u8,
    pub work_type: String,
}

/// Why candidates cannot be enrolled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnrolError {
    /// Nobody matches the class who is not yet in a class.
    NoneMatching,
    /// `matching` candidates would need more than the `left` places.
    OverCapacity { matching: usize, left: u32, over: usize },
}

impl std::fmt::Display for EnrolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EnrolError::NoneMatching => f.write_str("没有符合本班等级和工种、尚未参训的已准考人员"),
            EnrolError::OverCapacity { matching, left, over } => write!(
                f,
                "名额不足，符合条件的{matching}人超出剩余名额{left}个，超出{over}人。请增加容纳人数或另开一期培训班，本次未报名任何人"
            ),
        }
    }
}

/// Places left in a class of `capacity` with `enrolled` people.
pub fn places_left(capacity: u32, enrolled: usize) -> u32 {
    capacity.saturating_sub(u32::try_from(enrolled).unwrap_or(u32::MAX))
}

/// Who of `candidates` the class takes in bulk: those of its level and work type not already
/// in a class (`in_a_class`). All of them or none: more than the places left is an error that
/// says how many are over.
pub fn select_for_class(
    class: &ClassSpec,
    enrolled: usize,
    candidates: &[Candidate],
    in_a_class: &HashSet<i64>,
) -> Result<Vec<i64>, EnrolError> {
    let chosen: Vec<i64> = candidates
        .iter()
        .filter(|c| class.admits(c.level, &c.work_type) && !in_a_class.contains(&c.application_id))
        .map(|c| c.application_id)
        .collect();
    if chosen.is_empty() {
        return Err(EnrolError::NoneMatching);
    }
    let left = places_left(class.capacity, enrolled);
    if chosen.len() > left as usize {
        return Err(EnrolError::OverCapacity { matching: chosen.len(), left, over: chosen.len() - left as usize });
    }
    Ok(chosen)
}

/// Why one candidate cannot join the class, in a sentence for the officer; `None` if they may.
pub fn refuse_one(class: &ClassSpec, enrolled: usize, candidate: &Candidate) -> Option<String> {
    if candidate.level != class.level.number() {
        let level = Level::from_number(candidate.level).map_or("", Level::label);
        return Some(format!("该人员申报{level}，本班为{}", class.level.label()));
    }
    if let Some(w) = &class.work_type
        && *w != candidate.work_type
    {
        return Some(format!("该人员的工种为“{}”，本班为“{w}”", candidate.work_type));
    }
    if places_left(class.capacity, enrolled) == 0 {
        return Some(format!("本班{}个名额已满", class.capacity));
    }
    None
}

/// One day's attendance mark of one person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Mark {
    Present,
    Absent,
    /// 请假: absent with leave.
    Excused,
}

impl Mark {
    pub const ALL: [Mark; 3] = [Mark::Present, Mark::Absent, Mark::Excused];

    pub fn as_str(self) -> &'static str {
        match self {
            Mark::Present => "present",
            Mark::Absent => "absent",
            Mark::Excused => "excused",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Mark::Present => "出勤",
            Mark::Absent => "缺勤",
            Mark::Excused => "请假",
        }
    }

    /// One character for the grid.
    pub fn short(self) -> &'static str {
        match self {
            Mark::Present => "到",
            Mark::Absent => "缺",
            Mark::Excused => "假",
        }
    }

    pub fn parse(s: &str) -> Option<Mark> {
        Mark::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// One person's attendance over the days recorded so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Attendance {
    pub present: u32,
    pub absent: u32,
    pub excused: u32,
}

impl Attendance {
    pub fn of(marks: impl IntoIterator<Item = Mark>) -> Attendance {
        let mut a = Attendance::default();
        for m in marks {
            match m {
                Mark::Present => a.present += 1,
                Mark::Absent => a.absent += 1,
                Mark::Excused => a.excused += 1,
            }
        }
        a
    }

    pub fn recorded(&self) -> u32 {
        self.present + self.absent + self.excused
    }

    /// 出勤率: days present over days recorded, in per mille (a leave is still a day missed;
    /// the excused count is shown beside it). `None` before any day is recorded.
    pub fn rate_permille(&self) -> Option<u32> {
        let total = self.recorded();
        (total > 0).then(|| (self.present * 1000 + total / 2) / total)
    }

    /// `80.0%（4/5天，请假1天）`, or `尚未登记`.
    pub fn label(&self) -> String {
        match self.rate_permille() {
            None => "尚未登记".to_owned(),
            Some(r) => {
                let leave = if self.excused > 0 { format!("，请假{}天", self.excused) } else { String::new() };
                format!("{}.{}%（{}/{}天{leave}）", r / 10, r % 10, self.present, self.recorded())
            }
        }
    }
}

/// Checks one day's attendance form: the day is one of the class's days, and every enrolled
/// person (and nobody else) has a valid mark. The whole day is then replaced, so a half-filled
/// sheet is refused rather than half-saved.
pub fn validate_day_sheet(
    class: &ClassSpec,
    day: &str,
    enrolled: &[i64],
    marks: &[(i64, &str)],
) -> Result<(Date, Vec<(i64, Mark)>), FieldErrors> {
    let mut errors = FieldErrors::new();
    let date = match parse_date(day) {
        None => {
            errors.push("day", "考勤日期：请按 年-月-日 填写或从列表中选择");
            None
        }
        Some(d) if !class.has_day(d) => {
            errors.push("day", format!("考勤日期：{} 不在本班培训日期（{}）内", format_date(d), class.dates_label()));
            None
        }
        Some(d) => Some(d),
    };
    if enrolled.is_empty() {
        errors.push("day", "考勤日期：本班还没有参训人员，无需登记考勤");
    }
    let wanted: HashSet<i64> = enrolled.iter().copied().collect();
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(enrolled.len());
    for (id, value) in marks {
        if !wanted.contains(id) {
            errors.push("marks", format!("考勤：申报编号 {id} 不是本班参训人员"));
            continue;
        }
        if !seen.insert(*id) {
            errors.push("marks", format!("考勤：申报编号 {id} 重复登记"));
            continue;
        }
        match Mark::parse(value.trim()) {
            Some(m) => out.push((*id, m)),
            None => errors.push(&format!("mark_{id}"), format!("考勤：申报编号 {id} 应选择出勤、缺勤或请假")),
        }
    }
    let missing = enrolled.iter().filter(|id| !seen.contains(*id)).count();
    if missing > 0 {
        errors.push("marks", format!("考勤：还有{missing}名参训人员未登记，请为每人选择出勤、缺勤或请假"));
    }
    match (date, errors.is_empty()) {
        (Some(d), true) => Ok((d, out)),
        _ => Err(errors),
    }
}

/// The reason given for removing someone from a class.
pub fn validate_reason(reason: &str) -> Result<String, FieldErrors> {
    let mut errors = FieldErrors::new();
    let r = text(&mut errors, reason, "reason", "移出原因", MAX_REASON_CHARS, true);
    errors.into_result().map(|()| r)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;
    use time::macros::date;

    use super::*;

    fn form<'a>(level: &'a str, starts: &'a str, ends: &'a str, capacity: &'a str) -> ClassForm<'a> {
        ClassForm {
            name: "护理员四级培训班",
            place: "郑州市职业技能培训中心",
            organiser: "",
            level,
            work_type: "护理员",
            starts_on: starts,
            ends_on: ends,
            capacity,
        }
    }

    fn catalogue() -> Vec<String> {
        vec!["护理员".to_owned(), "汽车驾驶员".to_owned()]
    }

    fn spec() -> ClassSpec {
        validate_class(&form("4", "2020-06-08", "2020-06-12", "3"), 2020, &catalogue()).unwrap()
    }

    #[test]
    fn a_good_class_has_its_days() {
        let s = spec();
        assert_eq!(s.level, Level::L4);
        assert_eq!(s.organiser, None);
        assert_eq!(s.days().len(), 5);
        assert_eq!(s.days()[4], date!(2020 - 06 - 12));
        assert_eq!(s.dates_label(), "2020-06-08 至 2020-06-12（5天）");
        assert_eq!(day_label(date!(2020 - 06 - 08)), "6月8日");
    }

    #[test]
    fn the_notice_s_period_and_levels_are_enforced() {
        let cat = catalogue();
        let err = validate_class(&form("1", "2020-04-30", "2020-08-01", "0"), 2020, &cat).unwrap_err();
        assert!(err.get("level").unwrap().contains("一级（高级技师）不组织培训"));
        assert!(err.get("starts_on").unwrap().starts_with("开始日期：培训在每年5月至7月组织"));
        assert!(err.get("ends_on").unwrap().contains("2020-05-01至2020-07-31"));
        assert_eq!(err.get("capacity").unwrap(), "容纳人数：应为1至500的整数");
        // The edges are inside.
        assert!(validate_class(&form("5", "2020-05-01", "2020-05-01", "500"), 2020, &cat).is_ok());
        assert!(validate_class(&form("2", "2020-07-31", "2020-07-31", "1"), 2020, &cat).is_ok());
        // Another year's dates are outside this campaign's period.
        assert!(validate_class(&form("4", "2021-06-01", "2021-06-02", "3"), 2020, &cat).is_err());
        let err = validate_class(&form("6", "x", "2020-06-01", "501"), 2020, &cat).unwrap_err();
        assert!(err.get("level").unwrap().contains("五级至二级"));
        assert!(err.get("starts_on").unwrap().contains("年-月-日"));
        assert!(err.get("capacity").is_some());
    }

    #[test]
    fn dates_order_length_names_and_work_types() {
        let cat = catalogue();
        let err = validate_class(&form("4", "2020-06-12", "2020-06-08", "3"), 2020, &cat).unwrap_err();
        assert_eq!(err.get("ends_on").unwrap(), "结束日期：不能早于开始日期");
        let err = validate_class(&form("4", "2020-05-01", "2020-06-01", "3"), 2020, &cat).unwrap_err();
        assert!(err.get("ends_on").unwrap().contains("最长31天"));
        assert!(validate_class(&form("4", "2020-05-01", "2020-05-31", "3"), 2020, &cat).is_ok());
        let mut f = form("4", "2020-06-01", "2020-06-02", "3");
        f.work_type = "宇航员";
        f.name = " ";
        f.place = "";
        let err = validate_class(&f, 2020, &cat).unwrap_err();
        assert!(err.get("work_type").unwrap().contains("不在本考核年度的工种目录中"));
        assert_eq!(err.get("name").unwrap(), "培训班名称：请填写");
        assert_eq!(err.get("place").unwrap(), "培训地点：请填写");
        f.work_type = "";
        f.name = "班";
        f.place = "地点";
        let s = validate_class(&f, 2020, &cat).unwrap();
        assert_eq!(s.work_type, None);
        assert!(s.admits(4, "汽车驾驶员"));
        assert!(!s.admits(3, "护理员"));
    }

    #[test]
    fn changes_after_enrolment_are_limited() {
        let old = spec();
        let mut new = old.clone();
        new.level = Level::L3;
        new.work_type = None;
        new.capacity = 1;
        new.starts_on = date!(2020 - 06 - 09);
        let err = validate_change(&old, &new, 2, &[date!(2020 - 06 - 08)]).unwrap_err();
        assert!(err.get("level").unwrap().contains("已有2人参训"));
        assert!(err.get("work_type").is_some());
        assert!(err.get("capacity").unwrap().contains("不能少于2"));
        assert!(err.get("starts_on").unwrap().contains("2020-06-08 已登记考勤"));
        assert!(validate_change(&old, &new, 0, &[]).is_ok());
    }

    fn cand(id: i64, level: u8, work_type: &str) -> Candidate {
        Candidate { application_id: id, level, work_type: work_type.to_owned() }
    }

    #[test]
    fn bulk_selection_is_all_or_nothing() {
        let s = spec(); // level 4 护理员, 3 places
        let cands = [cand(1, 4, "护理员"), cand(2, 4, "汽车驾驶员"), cand(3, 3, "护理员"), cand(4, 4, "护理员"), cand(5, 4, "护理员")];
        let none = HashSet::new();
        assert_eq!(select_for_class(&s, 0, &cands, &none).unwrap(), vec![1, 4, 5]);
        let err = select_for_class(&s, 1, &cands, &none).unwrap_err();
        assert_eq!(err, EnrolError::OverCapacity { matching: 3, left: 2, over: 1 });
        assert!(err.to_string().contains("超出1人"));
        let taken: HashSet<i64> = [1, 4, 5].into();
        assert_eq!(select_for_class(&s, 3, &cands, &taken).unwrap_err(), EnrolError::NoneMatching);
        assert!(refuse_one(&s, 0, &cands[1]).unwrap().contains("汽车驾驶员"));
        assert!(refuse_one(&s, 0, &cands[2]).unwrap().contains("三级"));
        assert!(refuse_one(&s, 3, &cands[0]).unwrap().contains("名额已满"));
        assert_eq!(refuse_one(&s, 2, &cands[0]), None);
    }

    #[test]
    fn attendance_sheets_are_whole_and_inside_the_class() {
        let s = spec();
        let (day, marks) = validate_day_sheet(&s, "2020-06-09", &[7, 8], &[(7, "present"), (8, "excused")]).unwrap();
        assert_eq!(day, date!(2020 - 06 - 09));
        assert_eq!(marks, vec![(7, Mark::Present), (8, Mark::Excused)]);
        let err = validate_day_sheet(&s, "2020-06-13", &[7], &[(7, "present")]).unwrap_err();
        assert!(err.get("day").unwrap().contains("2020-06-13 不在本班培训日期"));
        let err = validate_day_sheet(&s, "2020-06-09", &[7, 8], &[(7, "present"), (9, "present")]).unwrap_err();
        assert!(err.iter().any(|e| e.message.contains("9 不是本班参训人员")));
        assert!(err.iter().any(|e| e.message.contains("还有1名")));
        let err = validate_day_sheet(&s, "2020-06-09", &[7], &[(7, "late")]).unwrap_err();
        assert!(err.get("mark_7").is_some());
        assert!(validate_day_sheet(&s, "2020-06-09", &[], &[]).is_err());
    }

    #[test]
    fn attendance_rate() {
        assert_eq!(Attendance::default().label(), "尚未登记");
        let a = Attendance::of([Mark::Present, Mark::Present, Mark::Excused]);
        assert_eq!(a.rate_permille(), Some(667));
        assert_eq!(a.label(), "66.7%（2/3天，请假1天）");
        assert_eq!(Attendance::of([Mark::Present]).label(), "100.0%（1/1天）");
        for m in Mark::ALL {
            assert_eq!(Mark::parse(m.as_str()), Some(m));
        }
        assert!(validate_reason("").unwrap_err().get("reason").unwrap().starts_with("移出原因"));
    }

    proptest! {
        #[test]
        fn days_are_consecutive_and_inside(start in 0u16..92, len in 0u16..40) {
            let (first, last) = training_period(2020).unwrap();
            let a = first + time::Duration::days(i64::from(start));
            let b = a + time::Duration::days(i64::from(len));
            let days = class_days(a, b);
            prop_assert!(days.len() <= MAX_DAYS + 1);
            for w in days.windows(2) {
                prop_assert_eq!(w[0].next_day(), Some(w[1]));
            }
            let starts = format_date(a);
            let ends = format_date(b);
            let f = form("3", &starts, &ends, "10");
            match validate_class(&f, 2020, &catalogue()) {
                Ok(s) => {
                    prop_assert!(s.starts_on >= first && s.ends_on <= last);
                    prop_assert!(s.days().len() <= MAX_DAYS);
                    prop_assert_eq!(s.days().len(), usize::from(len) + 1);
                }
                Err(e) => prop_assert!(b > last || usize::from(len) + 1 > MAX_DAYS, "{e}"),
            }
        }

        #[test]
        fn selection_never_exceeds_the_places(levels in proptest::collection::vec(2u8..=5, 0..60), cap in 1u32..40, enrolled in 0usize..40) {
            let s = ClassSpec { capacity: cap, work_type: None, ..spec() };
            let cands: Vec<Candidate> = levels.iter().enumerate().map(|(i, l)| cand(i as i64, *l, "护理员")).collect();
            let matching = levels.iter().filter(|l| **l == 4).count();
            match select_for_class(&s, enrolled, &cands, &HashSet::new()) {
                Ok(chosen) => {
                    prop_assert_eq!(chosen.len(), matching);
                    prop_assert!(chosen.len() + enrolled <= cap as usize);
                }
                Err(EnrolError::NoneMatching) => prop_assert_eq!(matching, 0),
                Err(EnrolError::OverCapacity { over, .. }) => prop_assert_eq!(over, matching + enrolled.min(cap as usize) - cap as usize),
            }
        }
    }
}
