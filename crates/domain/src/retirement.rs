//! Statutory retirement age (法定退休年龄) under the gradual-delay reform in force since
//! 2025-01-01 (全国人大常委会《关于实施渐进式延迟法定退休年龄的决定》, 国务院《关于渐进式延迟法定退休年龄的办法》).
//!
//! Everything works on birth *months*: the official tables group people by 出生年月 and give a
//! 退休时间 that is a month. Only [`retirement_date`] turns that month into a day, and how it does
//! so is a convention ([`ReachConvention`]) because the rule texts do not say.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Date, Month};

use crate::person::Sex;

/// The three groups the reform treats differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetirementCategory {
    /// 男职工: original age 60.
    Male,
    /// 原法定退休年龄55周岁女职工 (women in 管理 or 专技 posts, or former cadres).
    Female55,
    /// 原法定退休年龄50周岁女职工 (women workers, which includes most 工勤 staff).
    Female50,
}

/// The reform parameters of one category; the values are the State Council's table, written once.
struct Schedule {
    base_years: u32,
    start_year: i32,
    start_month: Month,
    birth_months_per_step: u32,
    max_delay_months: u32,
}

impl RetirementCategory {
    pub const ALL: [RetirementCategory; 3] = [RetirementCategory::Male, RetirementCategory::Female55, RetirementCategory::Female50];

    pub fn as_str(self) -> &'static str {
        match self {
            RetirementCategory::Male => "male",
            RetirementCategory::Female55 => "female55",
            RetirementCategory::Female50 => "female50",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RetirementCategory::Male => "男职工",
            RetirementCategory::Female55 => "原法定退休年龄55周岁女职工",
            RetirementCategory::Female50 => "原法定退休年龄50周岁女职工",
        }
    }

    /// Accepts the code name or the Chinese label.
    pub fn parse(s: &str) -> Option<RetirementCategory> {
        let s = s.trim();
        RetirementCategory::ALL.into_iter().find(|c| c.as_str() == s || c.label() == s)
    }

    /// The age before the reform (60/55/50), which people born before the start month keep.
    pub fn original_age(self) -> u32 {
        self.schedule().base_years
    }

    /// Which sex the category belongs to; used to catch a category that contradicts the person.
    pub fn sex(self) -> Sex {
        match self {
            RetirementCategory::Male => Sex::Male,
            RetirementCategory::Female55 | RetirementCategory::Female50 => Sex::Female,
        }
    }

    fn schedule(self) -> Schedule {
        match self {
            RetirementCategory::Male => {
                Schedule { base_years: 60, start_year: 1965, start_month: Month::January, birth_months_per_step: 4, max_delay_months: 36 }
            }
            RetirementCategory::Female55 => {
                Schedule { base_years: 55, start_year: 1970, start_month: Month::January, birth_months_per_step: 4, max_delay_months: 36 }
            }
            RetirementCategory::Female50 => {
                Schedule { base_years: 50, start_year: 1975, start_month: Month::January, birth_months_per_step: 2, max_delay_months: 60 }
            }
        }
    }
}

impl fmt::Display for RetirementCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Worker posts put women in the original-50 group (reference §10.1); HR overrides this per
/// person for former cadres, which is why it is only a default.
pub fn default_category(sex: Sex) -> RetirementCategory {
    match sex {
        Sex::Male => RetirementCategory::Male,
        Sex::Female => RetirementCategory::Female50,
    }
}

/// A statutory retirement age in years and months, plus how much of it is the reform's delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StatutoryAge {
    pub years: u32,
    pub months: u32,
    pub delay_months: u32,
}

impl StatutoryAge {
    pub fn total_months(self) -> u32 {
        self.years * 12 + self.months
    }
}

impl fmt::Display for StatutoryAge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.months == 0 { write!(f, "{}岁", self.years) } else { write!(f, "{}岁{}个月", self.years, self.months) }
    }
}

/// Months since year 0, so that month arithmetic is plain integer arithmetic.
fn month_index(year: i32, month: Month) -> i64 {
    i64::from(year) * 12 + i64::from(u8::from(month)) - 1
}

fn from_month_index(index: i64) -> (i32, Month) {
    let year = i32::try_from(index.div_euclid(12)).unwrap_or(if index < 0 { i32::MIN } else { i32::MAX });
    // rem_euclid(12) is 0..=11, so the cast cannot truncate.
    let month = Month::January.nth_next(index.rem_euclid(12) as u8);
    (year, month)
}

pub fn statutory_age(category: RetirementCategory, birth: Date) -> StatutoryAge {
    let s = category.schedule();
    let since_start = month_index(birth.year(), birth.month()) - month_index(s.start_year, s.start_month);
    let delay_months = if since_start < 0 {
        0
    } else {
        let steps = since_start / i64::from(s.birth_months_per_step) + 1;
        u32::try_from(steps).unwrap_or(u32::MAX).min(s.max_delay_months)
    };
    let total = s.base_years * 12 + delay_months;
    StatutoryAge { years: total / 12, months: total % 12, delay_months }
}

/// The month of the official tables' 退休时间 column: birth month plus the statutory age.
pub fn retirement_month(category: RetirementCategory, birth: Date) -> (i32, Month) {
    let age = statutory_age(category, birth);
    from_month_index(month_index(birth.year(), birth.month()) + i64::from(age.total_months()))
}

/// When, inside the retirement month, a person counts as having reached the age. The texts do
/// not say (reference §10.2, §15 item 13), so a campaign chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReachConvention {
    /// On the birthday in the retirement month (day clamped to the month's length).
    #[default]
    BirthdayInMonth,
    /// On the first day of the retirement month.
    FirstOfMonth,
    /// On the first day of the month after, when retirement usually takes effect.
    FirstOfNextMonth,
}

impl ReachConvention {
    pub fn label(self) -> &'static str {
        match self {
            ReachConvention::BirthdayInMonth => "退休月份中的生日当天",
            ReachConvention::FirstOfMonth => "退休月份的第一天",
            ReachConvention::FirstOfNextMonth => "退休月份的次月第一天",
        }
    }
}

/// Dates outside what `time` can represent saturate rather than fail: a birth year near the
/// library's limit is a data error that validation reports, not a reason to panic.
fn date_in_month(year: i32, month: Month, day: u8) -> Date {
    let day = day.min(time::util::days_in_month(month, year));
    Date::from_calendar_date(year, month, day).unwrap_or(if year < 0 { Date::MIN } else { Date::MAX })
}

/// The date from which the person counts as having reached statutory retirement age (day of
/// birth clamped to month length under [`ReachConvention::BirthdayInMonth`]).
pub fn retirement_date(category: RetirementCategory, birth: Date, convention: ReachConvention) -> Date {
    let (year, month) = retirement_month(category, birth);
    match convention {
        ReachConvention::BirthdayInMonth => date_in_month(year, month, birth.day()),
        ReachConvention::FirstOfMonth => date_in_month(year, month, 1),
        ReachConvention::FirstOfNextMonth => {
            let (year, month) = from_month_index(month_index(year, month) + 1);
            date_in_month(year, month, 1)
        }
    }
}

/// `actual` (an actual retirement date on file) overrides the computed date, because flexible
/// early or deferred retirement moves it by agreement.
pub fn has_reached(category: RetirementCategory, birth: Date, convention: ReachConvention, actual: Option<Date>, on: Date) -> bool {
    let date = actual.unwrap_or_else(|| retirement_date(category, birth, convention));
    on >= date
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use time::macros::date;

    fn ym(year: i32, month: u8) -> Date {
        Date::from_calendar_date(year, Month::try_from(month).unwrap(), 15).unwrap()
    }

    #[test]
    fn category_codes_labels_and_serde() {
        for c in RetirementCategory::ALL {
            assert_eq!(RetirementCategory::parse(c.as_str()), Some(c));
            assert_eq!(RetirementCategory::parse(c.label()), Some(c));
            assert_eq!(serde_json::to_string(&c).unwrap(), format!("\"{}\"", c.as_str()));
            assert_eq!(serde_json::from_str::<RetirementCategory>(&format!("\"{}\"", c.as_str())).unwrap(), c);
        }
        assert_eq!(RetirementCategory::parse("女"), None);
        assert_eq!(default_category(Sex::Male), RetirementCategory::Male);
        assert_eq!(default_category(Sex::Female), RetirementCategory::Female50, "§10.1: worker posts default to original-50");
        assert_eq!(RetirementCategory::Female55.sex(), Sex::Female);
        assert_eq!(ReachConvention::default(), ReachConvention::BirthdayInMonth);
        assert_eq!(serde_json::to_string(&ReachConvention::FirstOfNextMonth).unwrap(), "\"first_of_next_month\"");
    }

    #[test]
    fn display_of_ages() {
        let a = statutory_age(RetirementCategory::Male, ym(1965, 1));
        assert_eq!(a.to_string(), "60岁1个月");
        assert_eq!(statutory_age(RetirementCategory::Male, ym(1980, 1)).to_string(), "63岁");
        assert_eq!(statutory_age(RetirementCategory::Female50, ym(1960, 1)).to_string(), "50岁");
    }

    /// §10.2 spot-check table.
    #[test]
    fn spot_checks_of_section_10_2() {
        let check = |c, by: i32, bm: u8, years: u32, months: u32, ret: Option<(i32, u8)>| {
            let birth = ym(by, bm);
            let age = statutory_age(c, birth);
            assert_eq!((age.years, age.months), (years, months), "{c:?} born {by}-{bm}");
            if let Some((ry, rm)) = ret {
                assert_eq!(retirement_month(c, birth), (ry, Month::try_from(rm).unwrap()), "{c:?} born {by}-{bm}");
            }
        };
        check(RetirementCategory::Male, 1965, 1, 60, 1, Some((2025, 2)));
        check(RetirementCategory::Male, 1976, 9, 63, 0, None);
        check(RetirementCategory::Male, 1990, 12, 63, 0, None);
        check(RetirementCategory::Female55, 1971, 4, 55, 4, Some((2026, 8)));
        check(RetirementCategory::Female55, 1981, 9, 58, 0, None);
        check(RetirementCategory::Female55, 1985, 3, 58, 0, None);
        check(RetirementCategory::Female50, 1975, 1, 50, 1, Some((2025, 2)));
        check(RetirementCategory::Female50, 1984, 11, 55, 0, None);
        check(RetirementCategory::Female50, 1989, 6, 55, 0, None);
        // Born before the start month: the old ages are kept.
        check(RetirementCategory::Male, 1964, 12, 60, 0, Some((2024, 12)));
        check(RetirementCategory::Female55, 1969, 12, 55, 0, Some((2024, 12)));
        check(RetirementCategory::Female50, 1974, 12, 50, 0, Some((2024, 12)));
    }

    /// One group row of the §10.3 tables: a birth-month range sharing one delay.
    struct Row {
        first: (i32, u32),
        last: Option<(i32, u32)>,
        delay: u32,
    }

    /// Rebuilds the §10.3 tables row by row from their own description ("every 4 (2) birth months
    /// add 1 month, capped"), without using the module's month arithmetic.
    fn table_rows(start_year: i32, per_step: u32, max: u32) -> Vec<Row> {
        let mut rows = Vec::new();
        let (mut y, mut m) = (start_year, 1u32);
        for delay in 1..=max {
            let first = (y, m);
            for _ in 1..per_step {
                m += 1;
                if m == 13 {
                    m = 1;
                    y += 1;
                }
            }
            let last = if delay == max { None } else { Some((y, m)) };
            rows.push(Row { first, last, delay });
            m += 1;
            if m == 13 {
                m = 1;
                y += 1;
            }
        }
        rows
    }

    fn add_age(birth: (i32, u32), years: u32, months: u32) -> (i32, u32) {
        let mut y = birth.0 + years as i32;
        let mut m = birth.1 + months;
        while m > 12 {
            m -= 12;
            y += 1;
        }
        (y, m)
    }

    /// Every birth month 1960-01..1990-12 in every category against the rebuilt tables.
    #[test]
    fn every_birth_month_matches_the_section_10_3_tables() {
        let cases = [
            (RetirementCategory::Male, 60, table_rows(1965, 4, 36), 1965),
            (RetirementCategory::Female55, 55, table_rows(1970, 4, 36), 1970),
            (RetirementCategory::Female50, 50, table_rows(1975, 2, 60), 1975),
        ];
        let mut checked = 0;
        for (category, base, rows, start_year) in &cases {
            assert_eq!(rows.len(), if *category == RetirementCategory::Female50 { 60 } else { 36 });
            for year in 1960..=1990 {
                for month in 1..=12u32 {
                    let key = (year, month);
                    let delay = if year < *start_year {
                        0
                    } else {
                        rows.iter().find(|r| r.first <= key && r.last.is_none_or(|last| key <= last)).unwrap().delay
                    };
                    let expected_years = base + delay / 12;
                    let expected_months = delay % 12;
                    let birth = ym(year, month as u8);
                    let age = statutory_age(*category, birth);
                    assert_eq!(
                        (age.years, age.months, age.delay_months),
                        (expected_years, expected_months, delay),
                        "{category:?} {year}-{month}"
                    );
                    let (ey, em) = add_age(key, expected_years, expected_months);
                    let (ry, rm) = retirement_month(*category, birth);
                    assert_eq!((ry, u8::from(rm) as u32), (ey, em), "{category:?} {year}-{month}");
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 3 * 31 * 12);
    }

    /// Rows copied literally from §10.3: (first birth month, last birth month, delay, first
    /// retirement month, last retirement month); `None` as last birth month means "and later".
    type LiteralRow = ((i32, u8), Option<(i32, u8)>, u32, (i32, u8), Option<(i32, u8)>);

    fn assert_literal_rows(category: RetirementCategory, rows: &[LiteralRow]) {
        for &(first, last, delay, ret_first, ret_last) in rows {
            let birth_first = ym(first.0, first.1);
            assert_eq!(statutory_age(category, birth_first).delay_months, delay, "{category:?} {first:?}");
            assert_eq!(
                retirement_month(category, birth_first),
                (ret_first.0, Month::try_from(ret_first.1).unwrap()),
                "{category:?} {first:?}"
            );
            if let (Some(last), Some(ret_last)) = (last, ret_last) {
                let birth_last = ym(last.0, last.1);
                assert_eq!(statutory_age(category, birth_last).delay_months, delay, "{category:?} {last:?}");
                assert_eq!(
                    retirement_month(category, birth_last),
                    (ret_last.0, Month::try_from(ret_last.1).unwrap()),
                    "{category:?} {last:?}"
                );
            }
        }
    }

    #[test]
    fn literal_rows_men() {
        let rows: [LiteralRow; 15] = [
            ((1965, 1), Some((1965, 4)), 1, (2025, 2), Some((2025, 5))),
            ((1965, 5), Some((1965, 8)), 2, (2025, 7), Some((2025, 10))),
            ((1965, 9), Some((1965, 12)), 3, (2025, 12), Some((2026, 3))),
            ((1966, 1), Some((1966, 4)), 4, (2026, 5), Some((2026, 8))),
            ((1966, 5), Some((1966, 8)), 5, (2026, 10), Some((2027, 1))),
            ((1966, 9), Some((1966, 12)), 6, (2027, 3), Some((2027, 6))),
            ((1968, 1), Some((1968, 4)), 10, (2028, 11), Some((2029, 2))),
            ((1968, 9), Some((1968, 12)), 12, (2029, 9), Some((2029, 12))),
            ((1969, 9), Some((1969, 12)), 15, (2030, 12), Some((2031, 3))),
            ((1971, 5), Some((1971, 8)), 20, (2033, 1), Some((2033, 4))),
            ((1972, 9), Some((1972, 12)), 24, (2034, 9), Some((2034, 12))),
            ((1974, 1), Some((1974, 4)), 28, (2036, 5), Some((2036, 8))),
            ((1975, 1), Some((1975, 4)), 31, (2037, 8), Some((2037, 11))),
            ((1976, 5), Some((1976, 8)), 35, (2039, 4), Some((2039, 7))),
            ((1976, 9), None, 36, (2039, 9), None),
        ];
        assert_literal_rows(RetirementCategory::Male, &rows);
        // The brief's example: 1966-05 → 60岁5个月 → 2026-10.
        let age = statutory_age(RetirementCategory::Male, ym(1966, 5));
        assert_eq!(age.to_string(), "60岁5个月");
    }

    #[test]
    fn literal_rows_women_55() {
        let rows: [LiteralRow; 15] = [
            ((1970, 1), Some((1970, 4)), 1, (2025, 2), Some((2025, 5))),
            ((1970, 5), Some((1970, 8)), 2, (2025, 7), Some((2025, 10))),
            ((1971, 1), Some((1971, 4)), 4, (2026, 5), Some((2026, 8))),
            ((1971, 9), Some((1971, 12)), 6, (2027, 3), Some((2027, 6))),
            ((1972, 9), Some((1972, 12)), 9, (2028, 6), Some((2028, 9))),
            ((1973, 9), Some((1973, 12)), 12, (2029, 9), Some((2029, 12))),
            ((1974, 9), Some((1974, 12)), 15, (2030, 12), Some((2031, 3))),
            ((1975, 9), Some((1975, 12)), 18, (2032, 3), Some((2032, 6))),
            ((1976, 9), Some((1976, 12)), 21, (2033, 6), Some((2033, 9))),
            ((1977, 9), Some((1977, 12)), 24, (2034, 9), Some((2034, 12))),
            ((1978, 9), Some((1978, 12)), 27, (2035, 12), Some((2036, 3))),
            ((1979, 9), Some((1979, 12)), 30, (2037, 3), Some((2037, 6))),
            ((1980, 9), Some((1980, 12)), 33, (2038, 6), Some((2038, 9))),
            ((1981, 5), Some((1981, 8)), 35, (2039, 4), Some((2039, 7))),
            ((1981, 9), None, 36, (2039, 9), None),
        ];
        assert_literal_rows(RetirementCategory::Female55, &rows);
        assert_eq!(statutory_age(RetirementCategory::Female55, ym(1981, 9)).to_string(), "58岁");
    }

    #[test]
    fn literal_rows_women_50() {
        let rows: [LiteralRow; 15] = [
            ((1975, 1), Some((1975, 2)), 1, (2025, 2), Some((2025, 3))),
            ((1975, 3), Some((1975, 4)), 2, (2025, 5), Some((2025, 6))),
            ((1975, 5), Some((1975, 6)), 3, (2025, 8), Some((2025, 9))),
            ((1975, 9), Some((1975, 10)), 5, (2026, 2), Some((2026, 3))),
            ((1976, 3), Some((1976, 4)), 8, (2026, 11), Some((2026, 12))),
            ((1976, 11), Some((1976, 12)), 12, (2027, 11), Some((2027, 12))),
            ((1978, 3), Some((1978, 4)), 20, (2029, 11), Some((2029, 12))),
            ((1978, 11), Some((1978, 12)), 24, (2030, 11), Some((2030, 12))),
            ((1979, 11), Some((1979, 12)), 30, (2032, 5), Some((2032, 6))),
            ((1980, 11), Some((1980, 12)), 36, (2033, 11), Some((2033, 12))),
            ((1981, 7), Some((1981, 8)), 40, (2034, 11), Some((2034, 12))),
            ((1982, 11), Some((1982, 12)), 48, (2036, 11), Some((2036, 12))),
            ((1984, 1), Some((1984, 2)), 55, (2038, 8), Some((2038, 9))),
            ((1984, 9), Some((1984, 10)), 59, (2039, 8), Some((2039, 9))),
            ((1984, 11), None, 60, (2039, 11), None),
        ];
        assert_literal_rows(RetirementCategory::Female50, &rows);
        // The brief's examples.
        assert_eq!(statutory_age(RetirementCategory::Female50, ym(1976, 3)).to_string(), "50岁8个月");
        assert_eq!(retirement_month(RetirementCategory::Female50, ym(1976, 3)), (2026, Month::November));
        assert_eq!(statutory_age(RetirementCategory::Female50, ym(1984, 11)).to_string(), "55岁");
    }

    #[test]
    fn retirement_date_conventions() {
        let birth = date!(1966 - 05 - 20); // 60岁5个月 → 2026-10
        let c = RetirementCategory::Male;
        assert_eq!(retirement_date(c, birth, ReachConvention::BirthdayInMonth), date!(2026 - 10 - 20));
        assert_eq!(retirement_date(c, birth, ReachConvention::FirstOfMonth), date!(2026 - 10 - 01));
        assert_eq!(retirement_date(c, birth, ReachConvention::FirstOfNextMonth), date!(2026 - 11 - 01));
        // December rolls into the next year.
        let dec = date!(1964 - 12 - 03); // 60 → 2024-12
        assert_eq!(retirement_date(c, dec, ReachConvention::FirstOfNextMonth), date!(2025 - 01 - 01));
    }

    #[test]
    fn day_before_and_on_the_birthday_in_the_retirement_month() {
        let c = RetirementCategory::Male;
        let birth = date!(1966 - 05 - 20);
        let conv = ReachConvention::BirthdayInMonth;
        assert!(!has_reached(c, birth, conv, None, date!(2026 - 10 - 19)));
        assert!(has_reached(c, birth, conv, None, date!(2026 - 10 - 20)));
        assert!(!has_reached(c, birth, ReachConvention::FirstOfMonth, None, date!(2026 - 09 - 30)));
        assert!(has_reached(c, birth, ReachConvention::FirstOfMonth, None, date!(2026 - 10 - 01)));
        assert!(!has_reached(c, birth, ReachConvention::FirstOfNextMonth, None, date!(2026 - 10 - 31)));
        assert!(has_reached(c, birth, ReachConvention::FirstOfNextMonth, None, date!(2026 - 11 - 01)));
    }

    #[test]
    fn birthdays_clamped_to_short_months() {
        // Born on the 31st, retirement month February of a common year.
        assert_eq!(
            retirement_date(RetirementCategory::Male, date!(1965 - 01 - 31), ReachConvention::BirthdayInMonth),
            date!(2025 - 02 - 28)
        );
        // Born on 29 February, original-55 woman before the reform: 2023-02 has no 29th.
        let leap = date!(1968 - 02 - 29);
        assert_eq!(retirement_date(RetirementCategory::Female55, leap, ReachConvention::BirthdayInMonth), date!(2023 - 02 - 28));
        assert!(!has_reached(RetirementCategory::Female55, leap, ReachConvention::BirthdayInMonth, None, date!(2023 - 02 - 27)));
        assert!(has_reached(RetirementCategory::Female55, leap, ReachConvention::BirthdayInMonth, None, date!(2023 - 02 - 28)));
        // In a leap retirement year the 29th is kept.
        assert_eq!(
            retirement_date(RetirementCategory::Male, date!(1964 - 02 - 29), ReachConvention::BirthdayInMonth),
            date!(2024 - 02 - 29)
        );
        // Born on the 31st, retirement month with 30 days.
        assert_eq!(
            retirement_date(RetirementCategory::Female50, date!(1976 - 01 - 31), ReachConvention::BirthdayInMonth),
            date!(2026 - 08 - 31)
        );
        assert_eq!(
            retirement_date(RetirementCategory::Female50, date!(1975 - 03 - 31), ReachConvention::BirthdayInMonth),
            date!(2025 - 05 - 31)
        );
        assert_eq!(
            retirement_date(RetirementCategory::Female50, date!(1975 - 04 - 30), ReachConvention::BirthdayInMonth),
            date!(2025 - 06 - 30)
        );
        assert_eq!(
            retirement_date(RetirementCategory::Female50, date!(1975 - 07 - 31), ReachConvention::BirthdayInMonth),
            date!(2025 - 11 - 30)
        );
    }

    #[test]
    fn actual_retirement_date_overrides() {
        let c = RetirementCategory::Female50;
        let birth = date!(1976 - 03 - 10); // computed 2026-11-10
        let conv = ReachConvention::BirthdayInMonth;
        assert!(!has_reached(c, birth, conv, None, date!(2026 - 06 - 01)));
        assert!(has_reached(c, birth, conv, Some(date!(2026 - 05 - 01)), date!(2026 - 06 - 01)), "early retirement on file");
        assert!(!has_reached(c, birth, conv, Some(date!(2027 - 05 - 01)), date!(2026 - 12 - 01)), "deferred retirement on file");
    }

    #[test]
    fn extreme_years_do_not_panic() {
        for c in RetirementCategory::ALL {
            let _ = retirement_date(c, Date::MAX, ReachConvention::FirstOfNextMonth);
            let _ = retirement_date(c, Date::MIN, ReachConvention::BirthdayInMonth);
            let _ = has_reached(c, Date::MAX, ReachConvention::default(), None, Date::MIN);
        }
        assert_eq!(retirement_date(RetirementCategory::Male, Date::MAX, ReachConvention::BirthdayInMonth), Date::MAX);
    }
}
