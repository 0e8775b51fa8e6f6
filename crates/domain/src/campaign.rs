//! The campaign (考核年度): its schedule in Asia/Shanghai time, levels, fee items and money.

use serde::{Deserialize, Serialize};
use time::macros::{date, offset};
use time::{Date, Duration, OffsetDateTime, Time, UtcOffset};

use crate::validation::{FieldError, FieldErrors};

/// Asia/Shanghai. China has had no daylight saving time since 1991, so a fixed offset is exact
/// for every date the system deals with and needs no time-zone database.
pub const SHANGHAI: UtcOffset = offset!(+8);

/// The instant at Beijing local `hour:minute` on `date`.
///
/// `24:00` is accepted and means the following midnight, as the notices write deadlines
/// ("4月28日24:00后停止受理"). Other out-of-range values saturate at 23:59 rather than fail,
/// because callers pass constants.
pub fn shanghai_datetime(date: Date, hour: u8, minute: u8) -> OffsetDateTime {
    if hour == 24
        && minute == 0
        && let Some(next) = date.next_day()
    {
        return next.with_time(Time::MIDNIGHT).assume_offset(SHANGHAI);
    }
    let time = Time::from_hms(hour.min(23), minute.min(59), 0).unwrap_or(Time::MIDNIGHT);
    date.with_time(time).assume_offset(SHANGHAI)
}

pub fn to_shanghai(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(SHANGHAI)
}

/// `YYYY-MM-DD HH:MM` in Beijing time.
pub fn format_shanghai(t: OffsetDateTime) -> String {
    let local = to_shanghai(t);
    format!("{} {:02}:{:02}", format_date(local.date()), local.hour(), local.minute())
}

/// `YYYY-MM-DD`; written by hand so that formatting can never fail.
pub fn format_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
}

/// Formats an end instant the way the notices do: an end at local midnight is shown as
/// `前一日 24:00`, so "closes 4-28 24:00" does not read as "closes 4-29 00:00".
pub fn format_shanghai_end(t: OffsetDateTime) -> String {
    let local = to_shanghai(t);
    if local.time() == Time::MIDNIGHT
        && let Some(previous) = local.date().previous_day()
    {
        return format!("{} 24:00", format_date(previous));
    }
    format_shanghai(t)
}

/// Parses `YYYY-MM-DD HH:MM` (or the `T` form of an HTML datetime field) in Beijing time;
/// `24:00` is the following midnight. `None` for anything else, including impossible dates.
pub fn parse_shanghai(input: &str) -> Option<OffsetDateTime> {
    let s = input.trim().replacen('T', " ", 1);
    let (d, t) = s.split_once(' ')?;
    let date = Date::parse(d, time::macros::format_description!("[year]-[month]-[day]")).ok()?;
    let (h, m) = t.trim().split_once(':')?;
    let (hour, minute): (u8, u8) = (h.parse().ok()?, m.get(..2).unwrap_or(m).parse().ok()?);
    let valid = (hour < 24 && minute < 60) || (hour == 24 && minute == 0);
    valid.then(|| shanghai_datetime(date, hour, minute))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowKind {
    UnitAdminSetup,
    Registration,
    Review,
    UnitInitialReview,
    Training,
    Exam,
    Level1Exam,
    Level1Review,
    Publicity,
}

impl WindowKind {
    pub const ALL: [WindowKind; 9] = [
        WindowKind::UnitAdminSetup,
        WindowKind::Registration,
        WindowKind::Review,
        WindowKind::UnitInitialReview,
        WindowKind::Training,
        WindowKind::Exam,
        WindowKind::Level1Exam,
        WindowKind::Level1Review,
        WindowKind::Publicity,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WindowKind::UnitAdminSetup => "unit_admin_setup",
            WindowKind::Registration => "registration",
            WindowKind::Review => "review",
            WindowKind::UnitInitialReview => "unit_initial_review",
            WindowKind::Training => "training",
            WindowKind::Exam => "exam",
            WindowKind::Level1Exam => "level1_exam",
            WindowKind::Level1Review => "level1_review",
            WindowKind::Publicity => "publicity",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            WindowKind::UnitAdminSetup => "单位管理员账户设置",
            WindowKind::Registration => "网上报名",
            WindowKind::Review => "资格审查",
            WindowKind::UnitInitialReview => "单位初审",
            WindowKind::Training => "培训",
            WindowKind::Exam => "五级至二级人机对话考试",
            WindowKind::Level1Exam => "一级考评",
            WindowKind::Level1Review => "一级评审",
            WindowKind::Publicity => "公示与发证",
        }
    }

    pub fn parse(s: &str) -> Option<WindowKind> {
        let s = s.trim();
        WindowKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A half-open interval `[starts_at, ends_at)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub kind: WindowKind,
    pub starts_at: OffsetDateTime,
    pub ends_at: OffsetDateTime,
}

impl Window {
    pub fn contains(&self, t: OffsetDateTime) -> bool {
        self.starts_at <= t && t < self.ends_at
    }

    /// E.g. `2020-04-13 00:00 至 2020-04-28 24:00`.
    pub fn label(&self) -> String {
        format!("{} 至 {}", format_shanghai(self.starts_at), format_shanghai_end(self.ends_at))
    }

    /// First Beijing-local calendar day the window touches.
    pub fn first_local_date(&self) -> Date {
        to_shanghai(self.starts_at).date()
    }

    /// Last Beijing-local calendar day the window touches; an end at midnight does not touch
    /// the day it opens.
    pub fn last_local_date(&self) -> Date {
        to_shanghai(self.ends_at - Duration::NANOSECOND).date()
    }

    /// `2020-04-13 至 2020-05-15`: the window as whole local days.
    pub fn date_label(&self) -> String {
        format!("{} 至 {}", format_date(self.first_local_date()), format_date(self.last_local_date()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    pub windows: Vec<Window>,
}

impl Schedule {
    pub fn window(&self, kind: WindowKind) -> Option<&Window> {
        self.windows.iter().find(|w| w.kind == kind)
    }

    pub fn is_open(&self, kind: WindowKind, now: OffsetDateTime) -> bool {
        self.window(kind).is_some_and(|w| w.contains(now))
    }

    pub fn open_windows(&self, now: OffsetDateTime) -> Vec<WindowKind> {
        let mut kinds: Vec<WindowKind> = self.windows.iter().filter(|w| w.contains(now)).map(|w| w.kind).collect();
        kinds.sort();
        kinds.dedup();
        kinds
    }

    /// Each window ends after it starts, appears once, and the unit initial review lies inside
    /// the review window (units review first, agencies finish by the review deadline).
    ///
    /// Field names are `<kind>_starts_at` / `<kind>_ends_at`, e.g. `registration_ends_at`.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        for (i, w) in self.windows.iter().enumerate() {
            let kind = w.kind;
            if self.windows[..i].iter().any(|o| o.kind == kind) {
                errors.push(kind.as_str(), format!("{}：时段重复设置，每个时段只能设置一次", kind.label()));
                continue;
            }
            if w.ends_at <= w.starts_at {
                errors.push(
                    &format!("{}_ends_at", kind.as_str()),
                    format!(
                        "{}：结束时间（{}）应晚于开始时间（{}）",
                        kind.label(),
                        format_shanghai_end(w.ends_at),
                        format_shanghai(w.starts_at)
                    ),
                );
            }
        }
        if let (Some(review), Some(initial)) = (self.window(WindowKind::Review), self.window(WindowKind::UnitInitialReview)) {
            let label = WindowKind::UnitInitialReview.label();
            if initial.starts_at < review.starts_at {
                errors.push(
                    "unit_initial_review_starts_at",
                    format!("{label}：开始时间不能早于资格审查开始时间（{}）", format_shanghai(review.starts_at)),
                );
            }
            if initial.ends_at > review.ends_at {
                errors.push(
                    "unit_initial_review_ends_at",
                    format!("{label}：结束时间不能晚于资格审查结束时间（{}）", format_shanghai_end(review.ends_at)),
                );
            }
        }
        errors.into_result()
    }
}

fn window_local(kind: WindowKind, from: Date, until: Date) -> Window {
    Window { kind, starts_at: shanghai_datetime(from, 0, 0), ends_at: shanghai_datetime(until, 0, 0) }
}

/// The 2020 notice §五, Asia/Shanghai. Month ranges in the notice ("5月—7月") run to the end of
/// the last month named.
pub fn henan_2020_schedule() -> Schedule {
    use WindowKind::*;
    Schedule {
        windows: vec![
            window_local(UnitAdminSetup, date!(2020 - 04 - 08), date!(2020 - 04 - 11)),
            window_local(Registration, date!(2020 - 04 - 13), date!(2020 - 04 - 29)),
            window_local(Review, date!(2020 - 04 - 13), date!(2020 - 05 - 16)),
            window_local(UnitInitialReview, date!(2020 - 04 - 13), date!(2020 - 05 - 01)),
            window_local(Training, date!(2020 - 05 - 01), date!(2020 - 08 - 01)),
            window_local(Exam, date!(2020 - 07 - 01), date!(2020 - 12 - 01)),
            window_local(Level1Exam, date!(2020 - 07 - 01), date!(2020 - 12 - 01)),
            window_local(Level1Review, date!(2020 - 10 - 01), date!(2020 - 12 - 01)),
            window_local(Publicity, date!(2020 - 10 - 01), date!(2020 - 12 - 01)),
        ],
    }
}

/// Dates that cities and 省直管县 set for themselves inside the province windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocalDateKind {
    PhotoCollection,
    Exam,
}

impl LocalDateKind {
    pub const ALL: [LocalDateKind; 2] = [LocalDateKind::PhotoCollection, LocalDateKind::Exam];

    pub fn as_str(self) -> &'static str {
        match self {
            LocalDateKind::PhotoCollection => "photo_collection",
            LocalDateKind::Exam => "exam",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            LocalDateKind::PhotoCollection => "数码照片采集",
            LocalDateKind::Exam => "考试日期",
        }
    }

    pub fn parse(s: &str) -> Option<LocalDateKind> {
        let s = s.trim();
        LocalDateKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The province window the local dates must fall in.
    pub fn province_window(self) -> WindowKind {
        match self {
            LocalDateKind::PhotoCollection => WindowKind::Review,
            LocalDateKind::Exam => WindowKind::Exam,
        }
    }
}

/// Checks a city's or 省直管县's own dates (inclusive local days) against the province window.
pub fn validate_local_dates(schedule: &Schedule, kind: LocalDateKind, starts_on: Date, ends_on: Date) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::new();
    let what = kind.label();
    if ends_on < starts_on {
        errors.push("ends_on", format!("结束日期：{what}的结束日期不能早于开始日期"));
    }
    let province_kind = kind.province_window();
    let Some(window) = schedule.window(province_kind) else {
        errors.push("starts_on", format!("开始日期：本考核年度尚未设置全省{}时段，无法确定{what}的日期范围", province_kind.label()));
        return errors.into_result();
    };
    let (first, last) = (window.first_local_date(), window.last_local_date());
    let range = format!("全省{}时段（{} 至 {}）", province_kind.label(), format_date(first), format_date(last));
    if starts_on < first || starts_on > last {
        errors.push("starts_on", format!("开始日期：{what}的开始日期 {} 应在{range}内", format_date(starts_on)));
    }
    if ends_on < first || ends_on > last {
        errors.push("ends_on", format!("结束日期：{what}的结束日期 {} 应在{range}内", format_date(ends_on)));
    }
    errors.into_result()
}

/// Levels; 1 is the highest (高级技师).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Level {
    L1,
    L2,
    L3,
    L4,
    L5,
}

impl Level {
    pub const ALL: [Level; 5] = [Level::L1, Level::L2, Level::L3, Level::L4, Level::L5];

    pub fn number(self) -> u8 {
        match self {
            Level::L1 => 1,
            Level::L2 => 2,
            Level::L3 => 3,
            Level::L4 => 4,
            Level::L5 => 5,
        }
    }

    pub fn from_number(n: u8) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.number() == n)
    }

    pub fn label(self) -> &'static str {
        match self {
            Level::L1 => "一级（高级技师）",
            Level::L2 => "二级（技师）",
            Level::L3 => "三级（高级工）",
            Level::L4 => "四级（中级工）",
            Level::L5 => "五级（初级工）",
        }
    }

    /// `一级` … `五级`, for tight table columns.
    pub fn short_label(self) -> &'static str {
        match self {
            Level::L1 => "一级",
            Level::L2 => "二级",
            Level::L3 => "三级",
            Level::L4 => "四级",
            Level::L5 => "五级",
        }
    }

    /// The next level up (5 → 4 … 2 → 1), `None` for level 1.
    pub fn next_higher(self) -> Option<Level> {
        Level::from_number(self.number().checked_sub(1)?)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeeItem {
    Registration,
    ExamSubject,
    Level1Review,
    Certificate,
}

impl FeeItem {
    pub const ALL: [FeeItem; 4] = [FeeItem::Registration, FeeItem::ExamSubject, FeeItem::Level1Review, FeeItem::Certificate];

    pub fn as_str(self) -> &'static str {
        match self {
            FeeItem::Registration => "registration",
            FeeItem::ExamSubject => "exam_subject",
            FeeItem::Level1Review => "level1_review",
            FeeItem::Certificate => "certificate",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            FeeItem::Registration => "报名费",
            FeeItem::ExamSubject => "考试费（每科）",
            FeeItem::Level1Review => "一级综合评审费",
            FeeItem::Certificate => "证书费",
        }
    }

    pub fn parse(s: &str) -> Option<FeeItem> {
        let s = s.trim();
        FeeItem::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

/// Subjects of the computer-based exam (人机对话) a level sits: three for levels 5 to 2
/// (岗位技能, 职业道德, 职业能力, notice §四(一)); level 1 sits the professional theory exam
/// only and pays the comprehensive review (综合评审) separately (§四(二)).
pub fn exam_subjects(level: Level) -> u32 {
    match level {
        Level::L1 => 1,
        _ => 3,
    }
}

/// One item charged for one application: `count` times `unit_fen`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeeCharge {
    pub item: FeeItem,
    pub count: u32,
    pub unit_fen: i64,
}

impl FeeCharge {
    /// `None` only on overflow, which no real fee table reaches.
    pub fn amount_fen(self) -> Option<i64> {
        self.unit_fen.checked_mul(i64::from(self.count))
    }
}

/// What one application at `level` is charged, from the campaign's fee table
/// (level, item, amount in fen). The notice keeps fees "as currently" (收费仍按现行标准执行)
/// without figures, so the table may hold zeros; an item the table lacks for the level is
/// not charged, which is how a campaign without certificate fees is expressed.
pub fn charges_for(level: Level, table: &[(Level, FeeItem, i64)]) -> Vec<FeeCharge> {
    let price = |item: FeeItem| table.iter().find(|(l, i, _)| *l == level && *i == item).map(|(.., fen)| *fen);
    let mut out = Vec::new();
    let mut push = |item: FeeItem, count: u32| {
        if let Some(unit_fen) = price(item) {
            out.push(FeeCharge { item, count, unit_fen });
        }
    };
    push(FeeItem::Registration, 1);
    push(FeeItem::ExamSubject, exam_subjects(level));
    if level == Level::L1 {
        push(FeeItem::Level1Review, 1);
    }
    push(FeeItem::Certificate, 1);
    out
}

/// The sum of [`charges_for`]; `None` on overflow.
pub fn fee_total(level: Level, table: &[(Level, FeeItem, i64)]) -> Option<i64> {
    charges_for(level, table).into_iter().try_fold(0_i64, |sum, c| sum.checked_add(c.amount_fen()?))
}

/// Parses a yuan amount such as `12.50`, `12`, `¥12.5` or `12元` into integer fen (分).
/// Zero is allowed; negative amounts and more than two decimals are refused.
pub fn parse_yuan_to_fen(input: &str, field: &str) -> Result<i64, FieldError> {
    let err = |m: &str| FieldError::new(field, format!("金额：{m}"));
    let s = input.trim();
    let s = s.strip_prefix('¥').or_else(|| s.strip_prefix('￥')).unwrap_or(s).trim();
    let s = s.strip_suffix('元').unwrap_or(s).trim();
    if s.is_empty() {
        return Err(err("不能为空"));
    }
    if s.starts_with('-') {
        return Err(err("不能为负数"));
    }
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, f),
        None => (s, ""),
    };
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(frac) || (s.contains('.') && frac.is_empty()) {
        return Err(err("格式不正确，应为如 12 或 12.50 的数字（单位：元）"));
    }
    if frac.len() > 2 {
        return Err(err("最多保留两位小数（精确到分）"));
    }
    let too_large = || err("数值过大");
    let yuan: i64 = whole.parse().map_err(|_| too_large())?;
    let mut cents: i64 = if frac.is_empty() { 0 } else { frac.parse().map_err(|_| too_large())? };
    if frac.len() == 1 {
        cents *= 10;
    }
    yuan.checked_mul(100).and_then(|f| f.checked_add(cents)).ok_or_else(too_large)
}

/// `1250` → `12.50`.
pub fn format_fen(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// Documents the 2020 notice rests on.
pub const HENAN_2020_DOC_NUMBERS: &[&str] =
    &["豫人社工考〔2013〕1号", "豫人社工考〔2016〕3号", "豫人社办〔2017〕18号", "豫人社办〔2019〕107号"];

pub const HENAN_2020_TITLE: &str = "2020年全省机关事业单位工勤技能岗位等级考核";

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::datetime;

    #[test]
    fn shanghai_helpers() {
        let t = shanghai_datetime(date!(2020 - 04 - 28), 24, 0);
        assert_eq!(t, datetime!(2020-04-29 00:00 +8));
        assert_eq!(t, datetime!(2020-04-28 16:00 UTC));
        assert_eq!(shanghai_datetime(date!(2020 - 04 - 13), 9, 30), datetime!(2020-04-13 01:30 UTC));
        assert_eq!(to_shanghai(datetime!(2020-04-12 16:00 UTC)).date(), date!(2020 - 04 - 13));
        assert_eq!(format_shanghai(datetime!(2020-04-12 16:05 UTC)), "2020-04-13 00:05");
        assert_eq!(format_shanghai_end(t), "2020-04-28 24:00");
        assert_eq!(format_shanghai_end(datetime!(2020-04-28 23:30 +8)), "2020-04-28 23:30");
    }

    #[test]
    fn window_is_half_open() {
        let s = henan_2020_schedule();
        let reg = s.window(WindowKind::Registration).unwrap();
        assert!(!reg.contains(datetime!(2020-04-12 23:59:59 +8)));
        assert!(reg.contains(datetime!(2020-04-13 00:00 +8)));
        assert!(reg.contains(datetime!(2020-04-28 23:59:59.999 +8)));
        assert!(!reg.contains(datetime!(2020-04-29 00:00 +8)));
        assert_eq!(reg.label(), "2020-04-13 00:00 至 2020-04-28 24:00");
        assert_eq!(reg.date_label(), "2020-04-13 至 2020-04-28");
    }

    #[test]
    fn henan_2020_schedule_matches_the_notice() {
        let s = henan_2020_schedule();
        assert_eq!(s.windows.len(), 9);
        assert!(s.validate().is_ok());
        let label = |k| s.window(k).unwrap().label();
        assert_eq!(label(WindowKind::UnitAdminSetup), "2020-04-08 00:00 至 2020-04-10 24:00");
        assert_eq!(label(WindowKind::Review), "2020-04-13 00:00 至 2020-05-15 24:00");
        assert_eq!(label(WindowKind::UnitInitialReview), "2020-04-13 00:00 至 2020-04-30 24:00");
        assert_eq!(label(WindowKind::Training), "2020-05-01 00:00 至 2020-07-31 24:00");
        assert_eq!(label(WindowKind::Exam), "2020-07-01 00:00 至 2020-11-30 24:00");
        assert_eq!(label(WindowKind::Publicity), "2020-10-01 00:00 至 2020-11-30 24:00");
        for k in WindowKind::ALL {
            assert!(s.window(k).is_some(), "{k:?}");
            assert_eq!(WindowKind::parse(k.as_str()), Some(k));
        }
    }

    #[test]
    fn open_windows_at_instants() {
        let s = henan_2020_schedule();
        assert_eq!(
            s.open_windows(datetime!(2020-04-20 10:00 +8)),
            vec![WindowKind::Registration, WindowKind::Review, WindowKind::UnitInitialReview]
        );
        assert_eq!(s.open_windows(datetime!(2020-04-29 00:00 +8)), vec![WindowKind::Review, WindowKind::UnitInitialReview]);
        assert!(s.open_windows(datetime!(2020-04-12 12:00 +8)).is_empty());
        assert!(s.is_open(WindowKind::Exam, datetime!(2020-07-01 00:00 +8)));
        assert!(!s.is_open(WindowKind::Exam, datetime!(2020-06-30 23:59 +8)));
        // The same instant written in UTC must give the same answer.
        assert!(s.is_open(WindowKind::Registration, datetime!(2020-04-28 15:59 UTC)));
        assert!(!s.is_open(WindowKind::Registration, datetime!(2020-04-28 16:00 UTC)));
    }

    #[test]
    fn validate_reports_backwards_windows_and_initial_review_outside_review() {
        let mut s = henan_2020_schedule();
        for w in &mut s.windows {
            if w.kind == WindowKind::Training {
                std::mem::swap(&mut w.starts_at, &mut w.ends_at);
            }
            if w.kind == WindowKind::UnitInitialReview {
                w.ends_at = shanghai_datetime(date!(2020 - 05 - 20), 0, 0);
                w.starts_at = shanghai_datetime(date!(2020 - 04 - 12), 0, 0);
            }
        }
        let errors = s.validate().unwrap_err();
        assert!(errors.get("training_ends_at").unwrap().starts_with("培训："));
        assert!(errors.get("unit_initial_review_ends_at").unwrap().contains("2020-05-15 24:00"));
        assert!(errors.get("unit_initial_review_starts_at").is_some());
        assert_eq!(errors.len(), 3);
    }

    #[test]
    fn validate_reports_duplicates() {
        let mut s = henan_2020_schedule();
        let dup = s.windows[0].clone();
        s.windows.push(dup);
        let errors = s.validate().unwrap_err();
        assert!(errors.get("unit_admin_setup").unwrap().contains("重复"));
    }

    #[test]
    fn local_dates_inside_province_windows() {
        let s = henan_2020_schedule();
        assert!(validate_local_dates(&s, LocalDateKind::PhotoCollection, date!(2020 - 04 - 13), date!(2020 - 05 - 15)).is_ok());
        assert!(validate_local_dates(&s, LocalDateKind::Exam, date!(2020 - 09 - 05), date!(2020 - 09 - 06)).is_ok());
        let errors = validate_local_dates(&s, LocalDateKind::PhotoCollection, date!(2020 - 05 - 10), date!(2020 - 05 - 16)).unwrap_err();
        assert_eq!(errors.get("starts_on"), None);
        assert_eq!(
            errors.get("ends_on"),
            Some("结束日期：数码照片采集的结束日期 2020-05-16 应在全省资格审查时段（2020-04-13 至 2020-05-15）内")
        );
        let errors = validate_local_dates(&s, LocalDateKind::Exam, date!(2020 - 06 - 30), date!(2020 - 12 - 01)).unwrap_err();
        assert!(errors.get("starts_on").unwrap().contains("五级至二级人机对话考试"));
        assert!(errors.get("ends_on").unwrap().contains("2020-11-30"));
        let errors = validate_local_dates(&s, LocalDateKind::Exam, date!(2020 - 09 - 06), date!(2020 - 09 - 05)).unwrap_err();
        assert!(errors.get("ends_on").unwrap().contains("不能早于开始日期"));
    }

    #[test]
    fn local_dates_without_province_window() {
        let s = Schedule { windows: vec![] };
        let errors = validate_local_dates(&s, LocalDateKind::Exam, date!(2020 - 09 - 05), date!(2020 - 09 - 06)).unwrap_err();
        assert!(errors.get("starts_on").unwrap().contains("尚未设置"));
    }

    #[test]
    fn levels() {
        for l in Level::ALL {
            assert_eq!(Level::from_number(l.number()), Some(l));
        }
        assert_eq!(Level::from_number(0), None);
        assert_eq!(Level::from_number(6), None);
        assert_eq!(Level::L1.label(), "一级（高级技师）");
        assert_eq!(Level::L5.label(), "五级（初级工）");
        assert_eq!(Level::L3.next_higher(), Some(Level::L2));
        assert_eq!(Level::L1.next_higher(), None);
        assert!(Level::L1 < Level::L5, "ordering follows the numbers");
    }

    #[test]
    fn charges_follow_the_levels() {
        let mut table = Vec::new();
        for level in Level::ALL {
            table.push((level, FeeItem::Registration, 1000));
            table.push((level, FeeItem::ExamSubject, 2500));
            table.push((level, FeeItem::Level1Review, 30000));
        }
        // Levels 5..2: registration and three subjects; no review, no certificate row.
        assert_eq!(fee_total(Level::L4, &table), Some(1000 + 3 * 2500));
        let l4 = charges_for(Level::L4, &table);
        assert_eq!(l4.iter().map(|c| (c.item, c.count)).collect::<Vec<_>>(), [(FeeItem::Registration, 1), (FeeItem::ExamSubject, 3)]);
        // Level 1: theory only, plus the comprehensive review.
        assert_eq!(fee_total(Level::L1, &table), Some(1000 + 2500 + 30000));
        table.push((Level::L2, FeeItem::Certificate, 800));
        assert_eq!(fee_total(Level::L2, &table), Some(1000 + 3 * 2500 + 800));
        // Zeros are charged as zeros (the reference has no Henan figures).
        let zeros: Vec<_> = Level::ALL.iter().flat_map(|l| FeeItem::ALL.map(|f| (*l, f, 0))).collect();
        assert_eq!(fee_total(Level::L3, &zeros), Some(0));
        assert_eq!(charges_for(Level::L3, &zeros).len(), 3);
        assert_eq!(fee_total(Level::L3, &[(Level::L3, FeeItem::ExamSubject, i64::MAX)]), None);
    }

    #[test]
    fn fee_items() {
        for f in FeeItem::ALL {
            assert_eq!(FeeItem::parse(f.as_str()), Some(f));
        }
        assert_eq!(FeeItem::ExamSubject.label(), "考试费（每科）");
    }

    #[test]
    fn parses_yuan() {
        assert_eq!(parse_yuan_to_fen("12.50", "fee"), Ok(1250));
        assert_eq!(parse_yuan_to_fen("12", "fee"), Ok(1200));
        assert_eq!(parse_yuan_to_fen(" 12.5 ", "fee"), Ok(1250));
        assert_eq!(parse_yuan_to_fen("0", "fee"), Ok(0));
        assert_eq!(parse_yuan_to_fen("0.05", "fee"), Ok(5));
        assert_eq!(parse_yuan_to_fen("￥80元", "fee"), Ok(8000));
    }

    #[test]
    fn refuses_bad_amounts() {
        let err = parse_yuan_to_fen("-1", "registration_fee").unwrap_err();
        assert_eq!(err.field, "registration_fee");
        assert_eq!(err.message, "金额：不能为负数");
        for bad in ["", "abc", "1.234", "1.", ".5", "1,000", "1e3", "99999999999999999999", "１２"] {
            let err = parse_yuan_to_fen(bad, "fee").unwrap_err();
            assert!(err.message.starts_with("金额："), "{bad}: {}", err.message);
        }
    }

    #[test]
    fn formats_fen() {
        assert_eq!(format_fen(1250), "12.50");
        assert_eq!(format_fen(5), "0.05");
        assert_eq!(format_fen(0), "0.00");
        assert_eq!(format_fen(-1250), "-12.50");
        assert_eq!(format_fen(i64::MIN), "-92233720368547758.08");
    }

    #[test]
    fn constants() {
        assert_eq!(HENAN_2020_DOC_NUMBERS.len(), 4);
        assert_eq!(HENAN_2020_DOC_NUMBERS[3], "豫人社办〔2019〕107号");
        assert!(HENAN_2020_TITLE.starts_with("2020年"));
    }

    proptest! {
        #[test]
        fn fen_round_trips(fen in 0i64..1_000_000_000_000) {
            prop_assert_eq!(parse_yuan_to_fen(&format_fen(fen), "fee"), Ok(fen));
        }

        #[test]
        fn yuan_parse_never_panics(s in "\\PC{0,30}") {
            if let Ok(fen) = parse_yuan_to_fen(&s, "fee") {
                prop_assert!(fen >= 0);
            }
        }

        #[test]
        fn format_is_inverse_of_local_midnight(days in 0i64..20_000, hour in 0u8..24, minute in 0u8..60) {
            let d = date!(1990 - 01 - 01) + Duration::days(days);
            let t = shanghai_datetime(d, hour, minute);
            prop_assert_eq!(format_shanghai(t), format!("{} {hour:02}:{minute:02}", format_date(d)));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod parse_tests {
    use super::*;

    #[test]
    fn parses_notice_style_deadlines() {
        let t = parse_shanghai("2020-04-28 24:00").unwrap();
        assert_eq!(format_shanghai(t), "2020-04-29 00:00");
        assert_eq!(format_shanghai_end(t), "2020-04-28 24:00");
        assert_eq!(parse_shanghai("2020-04-13T08:30"), Some(shanghai_datetime(date!(2020 - 04 - 13), 8, 30)));
        for bad in ["2020-02-30 10:00", "2020-04-13 24:01", "2020-04-13 7h", "", "2020-04-13"] {
            assert_eq!(parse_shanghai(bad), None, "{bad}");
        }
    }
}
