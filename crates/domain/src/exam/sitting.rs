//! Sittings (场次): one subject at one time on one day, set by an agency inside the province
//! exam window — and inside the agency's own exam dates when it has set them (notice §四(一):
//! cities and 省直管县 fix their exam times inside the province window).
use time::{Date, Time};

use super::Subject;
use crate::campaign::{LocalDateKind, Schedule, WindowKind, format_date, validate_local_dates};
use crate::validation::FieldErrors;

pub const MIN_SITTING_MINUTES: i64 = 30;
pub const MAX_SITTING_MINUTES: i64 = 240;

/// The province window a subject's sittings fall in: level 1's theory and written test have
/// their own.
pub fn window_for(subject: Subject) -> WindowKind {
    match subject {
        Subject::Theory | Subject::WrittenTest => WindowKind::Level1Exam,
        _ => WindowKind::Exam,
    }
}

/// Checks one sitting. `local_exam_dates` are the agency's own exam days, if it set them.
pub fn validate_sitting(
    schedule: &Schedule,
    local_exam_dates: Option<(Date, Date)>,
    subject: Subject,
    date: Date,
    starts: Time,
    ends: Time,
) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::new();
    let minutes = (ends - starts).whole_minutes();
    if !(MIN_SITTING_MINUTES..=MAX_SITTING_MINUTES).contains(&minutes) {
        errors.push("ends_at", format!("结束时间：场次时长应为{MIN_SITTING_MINUTES}至{MAX_SITTING_MINUTES}分钟，现为{minutes}分钟"));
    }
    let kind = window_for(subject);
    match schedule.window(kind) {
        None => errors.push("date", format!("考试日期：本考核年度尚未设置全省{}时段", kind.label())),
        Some(w) => {
            let (first, last) = (w.first_local_date(), w.last_local_date());
            if date < first || date > last {
                errors.push(
                    "date",
                    format!(
                        "考试日期：{} 不在全省{}时段（{} 至 {}）内",
                        format_date(date),
                        kind.label(),
                        format_date(first),
                        format_date(last)
                    ),
                );
            } else if kind == WindowKind::Exam
                && let Some((from, to)) = local_exam_dates
                && (date < from || date > to)
            {
                errors.push(
                    "date",
                    format!("考试日期：{} 不在本地区确定的考试日期（{} 至 {}）内", format_date(date), format_date(from), format_date(to)),
                );
            }
        }
    }
    errors.into_result()
}

/// Whether local exam dates, as stored, still fit the province window (they are re-checked
/// here so a changed window cannot let an old local date through).
pub fn local_dates_fit(schedule: &Schedule, from: Date, to: Date) -> bool {
    validate_local_dates(schedule, LocalDateKind::Exam, from, to).is_ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::campaign::henan_2020_schedule;
    use time::macros::{date, time};

    #[test]
    fn sittings_fall_in_their_window_and_local_dates() {
        let s = henan_2020_schedule();
        let w = s.window(WindowKind::Exam).unwrap();
        let day = w.first_local_date();
        validate_sitting(&s, None, Subject::Ethics, day, time!(9:00), time!(10:30)).unwrap();
        let e = validate_sitting(&s, None, Subject::Ethics, date!(2020 - 01 - 02), time!(9:00), time!(10:30)).unwrap_err();
        assert!(e.get("date").unwrap().contains("不在全省五级至二级人机对话考试时段"), "{e}");
        let e = validate_sitting(&s, Some((day, day)), Subject::Ethics, day.next_day().unwrap(), time!(9:00), time!(10:30));
        if day < w.last_local_date() {
            assert!(e.unwrap_err().get("date").unwrap().contains("本地区"));
        }
        let e = validate_sitting(&s, None, Subject::Ethics, day, time!(9:00), time!(9:10)).unwrap_err();
        assert!(e.get("ends_at").unwrap().contains("10分钟"));
        let e = validate_sitting(&s, None, Subject::Ethics, day, time!(10:00), time!(9:00)).unwrap_err();
        assert!(e.get("ends_at").is_some());
    }
}
