//! When a candidate may print their admission ticket (打印准考证时间).
//!
//! The agency sets the window (the 2023 notices: about a week before the exam); when it has not,
//! printing opens [`DEFAULT_OPENS_BEFORE`] before the candidate's first sitting. Either way it
//! closes no later than the end of the candidate's last sitting: a ticket printed after the exam
//! serves nothing, and the QR code would still check in.

use time::{Duration, OffsetDateTime};

use crate::campaign::{format_shanghai, parse_shanghai};
use crate::validation::FieldErrors;

pub const DEFAULT_OPENS_BEFORE: Duration = Duration::days(7);

/// The longest window an agency may set; a longer one is almost always a typo in the year.
pub const MAX_WINDOW: Duration = Duration::days(60);

/// An agency's window as set, or the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrintWindow {
    pub opens: OffsetDateTime,
    pub closes: OffsetDateTime,
}

impl PrintWindow {
    /// The window that applies to a candidate whose sittings run from `first_start` to `last_end`.
    pub fn for_candidate(agency: Option<PrintWindow>, first_start: OffsetDateTime, last_end: OffsetDateTime) -> PrintWindow {
        match agency {
            Some(w) => PrintWindow { opens: w.opens, closes: w.closes.min(last_end) },
            None => PrintWindow { opens: first_start - DEFAULT_OPENS_BEFORE, closes: last_end },
        }
    }

    pub fn contains(&self, now: OffsetDateTime) -> bool {
        self.opens <= now && now < self.closes
    }

    pub fn label(&self) -> String {
        format!("{} 至 {}", format_shanghai(self.opens), format_shanghai(self.closes))
    }
}

/// Parses and checks the window an agency enters (`opens_at`, `closes_at` as
/// `YYYY-MM-DD HH:MM`, Beijing time). `sittings` is the first start and last end of the agency's
/// sittings, when it has any: printing must open before the first sitting starts and must not
/// close before it (or the first candidates could never print).
pub fn parse_print_window(
    opens: &str,
    closes: &str,
    sittings: Option<(OffsetDateTime, OffsetDateTime)>,
) -> Result<PrintWindow, FieldErrors> {
    let mut errors = FieldErrors::new();
    let o = parse_shanghai(opens);
    if o.is_none() {
        errors.push("opens_at", "打印开始时间：请按 年-月-日 时:分 填写，例如 2020-07-11 09:00");
    }
    let c = parse_shanghai(closes);
    if c.is_none() {
        errors.push("closes_at", "打印截止时间：请按 年-月-日 时:分 填写，例如 2020-07-18 17:00");
    }
    let (Some(opens), Some(closes)) = (o, c) else { return Err(errors) };
    if closes <= opens {
        errors.push("closes_at", "打印截止时间：应晚于打印开始时间");
    } else if closes - opens > MAX_WINDOW {
        errors.push("closes_at", "打印截止时间：打印时间最长60天，请检查年份和月份");
    }
    if let Some((first_start, _)) = sittings {
        if opens >= first_start {
            errors.push("opens_at", format!("打印开始时间：应早于第一场考试开始（{}）", format_shanghai(first_start)));
        }
        if closes <= first_start && closes > opens {
            errors.push("closes_at", format!("打印截止时间：应晚于第一场考试开始（{}），否则考生来不及打印", format_shanghai(first_start)));
        }
    }
    errors.into_result()?;
    Ok(PrintWindow { opens, closes })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::parse_shanghai;

    fn at(s: &str) -> OffsetDateTime {
        parse_shanghai(s).expect("valid test date")
    }

    #[test]
    fn default_window_opens_a_week_before_the_first_sitting_and_closes_at_the_last_end() {
        let w = PrintWindow::for_candidate(None, at("2020-07-18 09:00"), at("2020-07-18 16:00"));
        assert_eq!(w.opens, at("2020-07-11 09:00"));
        assert_eq!(w.closes, at("2020-07-18 16:00"));
        assert!(w.contains(at("2020-07-11 09:00")));
        assert!(!w.contains(at("2020-07-11 08:59")));
        assert!(!w.contains(at("2020-07-18 16:00")));
    }

    #[test]
    fn the_agency_window_never_outlasts_the_candidate_last_sitting() {
        let agency = PrintWindow { opens: at("2020-07-13 09:00"), closes: at("2020-07-25 17:00") };
        let w = PrintWindow::for_candidate(Some(agency), at("2020-07-18 09:00"), at("2020-07-18 16:00"));
        assert_eq!(w.opens, at("2020-07-13 09:00"));
        assert_eq!(w.closes, at("2020-07-18 16:00"));
    }

    #[test]
    fn entered_windows_are_checked_field_by_field() {
        let sittings = Some((at("2020-07-18 09:00"), at("2020-07-18 16:00")));
        let ok = parse_print_window("2020-07-11 09:00", "2020-07-18T12:00", sittings).expect("valid window");
        assert_eq!(ok.closes, at("2020-07-18 12:00"));

        let e = parse_print_window("2020-07-11", "", sittings).expect_err("refused");
        assert!(e.get("opens_at").is_some_and(|m| m.contains("打印开始时间")));
        assert!(e.get("closes_at").is_some_and(|m| m.contains("打印截止时间")));

        let e = parse_print_window("2020-07-12 09:00", "2020-07-11 09:00", None).expect_err("refused");
        assert!(e.get("closes_at").is_some_and(|m| m.contains("应晚于打印开始时间")));

        let e = parse_print_window("2020-07-18 10:00", "2020-07-19 09:00", sittings).expect_err("refused");
        assert!(e.get("opens_at").is_some_and(|m| m.contains("第一场考试")));

        let e = parse_print_window("2020-07-01 09:00", "2020-07-10 09:00", sittings).expect_err("refused");
        assert!(e.get("closes_at").is_some_and(|m| m.contains("来不及打印")));

        let e = parse_print_window("2020-01-01 09:00", "2020-07-17 09:00", None).expect_err("refused");
        assert!(e.get("closes_at").is_some_and(|m| m.contains("60天")));
    }
}
