//! Admission-ticket numbers (准考证号).
//!
//! The scheme is 17 decimal digits, fixed width, zero-padded:
//!
//! | digits | width | meaning | range |
//! |---|---|---|---|
//! | 1–4 | 4 | year of the campaign (考核年度) | 2000–9999 |
//! | 5–10 | 6 | code of the agency (工考管理机构) running the exam, e.g. `410100` | 6 digits, not starting with 0 |
//! | 11–12 | 2 | test-centre number (考点号) within the agency | 01–99 |
//! | 13–15 | 3 | room number (考场号) within the centre | 001–999 |
//! | 16–17 | 2 | seat number (座位号) within the room | 01–99 |
//!
//! e.g. `2020 410100 03 012 27` → `20204101000301227`.
//!
//! A number identifies a seat, so it identifies a candidate only if each (centre, room, seat) of
//! an agency's campaign holds one candidate. When a physical room is used on several days, give
//! it one room number per day (第001考场 on the first day, 第101考场 on the second, …): the room
//! number is the logical exam room, not the physical one. The widths cap a centre at 999 rooms of
//! 99 seats and an agency at 99 centres. There is no check digit: the number is read from the
//! printed ticket or typed at the login screen, where a typo finds no candidate.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::validation::FieldError;

pub const TICKET_NUMBER_LEN: usize = 17;
pub const MIN_YEAR: u32 = 2000;

/// A valid admission-ticket number; see the module documentation for the scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TicketNumber {
    year: u16,
    agency_code: u32,
    centre: u8,
    room: u16,
    seat: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TicketNumberError {
    #[error("准考证号：应为17位数字，现为{0}位")]
    WrongLength(usize),
    #[error("准考证号：只能包含数字")]
    NotDigits,
    #[error("准考证号：年份应为2000年及以后，现为{0}")]
    Year(u32),
    #[error("准考证号：机构代码应为6位数字且不以0开头，现为“{0}”")]
    AgencyCode(String),
    #[error("准考证号：考点号应为01至99，现为{0}")]
    Centre(u32),
    #[error("准考证号：考场号应为001至999，现为{0}")]
    Room(u32),
    #[error("准考证号：座位号应为01至99，现为{0}")]
    Seat(u32),
}

impl TicketNumberError {
    pub fn into_field_error(self, field: &str) -> FieldError {
        FieldError::new(field, self.to_string())
    }
}

impl From<TicketNumberError> for FieldError {
    fn from(error: TicketNumberError) -> Self {
        error.into_field_error("ticket_number")
    }
}

impl TicketNumber {
    /// Checks each part against the scheme; the first bad part is reported.
    pub fn new(year: u32, agency_code: &str, centre: u32, room: u32, seat: u32) -> Result<TicketNumber, TicketNumberError> {
        if !(MIN_YEAR..=9999).contains(&year) {
            return Err(TicketNumberError::Year(year));
        }
        let code_ok = agency_code.len() == 6 && agency_code.bytes().all(|b| b.is_ascii_digit()) && !agency_code.starts_with('0');
        let agency =
            agency_code.parse::<u32>().ok().filter(|_| code_ok).ok_or_else(|| TicketNumberError::AgencyCode(agency_code.to_owned()))?;
        let centre_n = u8::try_from(centre).ok().filter(|c| (1..=99).contains(c)).ok_or(TicketNumberError::Centre(centre))?;
        let room_n = u16::try_from(room).ok().filter(|r| (1..=999).contains(r)).ok_or(TicketNumberError::Room(room))?;
        let seat_n = u8::try_from(seat).ok().filter(|s| (1..=99).contains(s)).ok_or(TicketNumberError::Seat(seat))?;
        Ok(TicketNumber { year: year as u16, agency_code: agency, centre: centre_n, room: room_n, seat: seat_n })
    }

    pub fn year(&self) -> u32 {
        u32::from(self.year)
    }

    pub fn agency_code(&self) -> String {
        format!("{:06}", self.agency_code)
    }

    pub fn centre(&self) -> u32 {
        u32::from(self.centre)
    }

    pub fn room(&self) -> u32 {
        u32::from(self.room)
    }

    pub fn seat(&self) -> u32 {
        u32::from(self.seat)
    }
}

impl fmt::Display for TicketNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}{:06}{:02}{:03}{:02}", self.year, self.agency_code, self.centre, self.room, self.seat)
    }
}

impl FromStr for TicketNumber {
    type Err = TicketNumberError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_ticket_number(s)
    }
}

impl TryFrom<String> for TicketNumber {
    type Error = TicketNumberError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        parse_ticket_number(&value)
    }
}

impl From<TicketNumber> for String {
    fn from(ticket: TicketNumber) -> String {
        ticket.to_string()
    }
}

/// The 17-digit number for the given parts, checked against the scheme.
pub fn format_ticket_number(year: u32, agency_code: &str, centre: u32, room: u32, seat: u32) -> Result<String, TicketNumberError> {
    TicketNumber::new(year, agency_code, centre, room, seat).map(|t| t.to_string())
}

/// Reads a ticket number as a candidate types it: surrounding spaces are ignored and full-width
/// digits (０–９, which a Chinese input method produces) are read as digits.
pub fn parse_ticket_number(input: &str) -> Result<TicketNumber, TicketNumberError> {
    let digits: String = input
        .trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(u32::from(c) - u32::from('０') + u32::from('0')).unwrap_or(c),
            _ => c,
        })
        .collect();
    let len = digits.chars().count();
    if len != TICKET_NUMBER_LEN {
        return Err(TicketNumberError::WrongLength(len));
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TicketNumberError::NotDigits);
    }
    // All ASCII digits of the right length: the slices and parses below cannot fail.
    let number = |range: std::ops::Range<usize>| digits[range].parse::<u32>().unwrap_or(0);
    TicketNumber::new(number(0..4), &digits[4..10], number(10..12), number(12..15), number(15..17))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn formats_the_documented_example() {
        assert_eq!(format_ticket_number(2020, "410100", 3, 12, 27).unwrap(), "20204101000301227");
        let t = parse_ticket_number("20204101000301227").unwrap();
        assert_eq!((t.year(), t.agency_code().as_str(), t.centre(), t.room(), t.seat()), (2020, "410100", 3, 12, 27));
    }

    #[test]
    fn reads_what_candidates_type() {
        let t = parse_ticket_number(" ２０２０４１０１０００３０１２２７ ").unwrap();
        assert_eq!(t.to_string(), "20204101000301227");
        assert_eq!("20204190010100101".parse::<TicketNumber>().unwrap().agency_code(), "419001");
    }

    #[test]
    fn errors_say_what_is_wrong_in_chinese() {
        let err = |s: &str| parse_ticket_number(s).unwrap_err().to_string();
        assert_eq!(err("2020410100030122"), "准考证号：应为17位数字，现为16位");
        assert_eq!(err(""), "准考证号：应为17位数字，现为0位");
        assert_eq!(err("2020410100030122X"), "准考证号：只能包含数字");
        assert_eq!(err("19994101000301227"), "准考证号：年份应为2000年及以后，现为1999");
        assert_eq!(err("20200410000301227"), "准考证号：机构代码应为6位数字且不以0开头，现为“041000”");
        assert_eq!(err("20204101000001227"), "准考证号：考点号应为01至99，现为0");
        assert_eq!(err("20204101000300027"), "准考证号：考场号应为001至999，现为0");
        assert_eq!(err("20204101000301200"), "准考证号：座位号应为01至99，现为0");
        let field: FieldError = parse_ticket_number("1").unwrap_err().into();
        assert_eq!((field.field.as_str(), field.message.as_str()), ("ticket_number", "准考证号：应为17位数字，现为1位"));
    }

    #[test]
    fn format_refuses_parts_that_do_not_fit() {
        assert_eq!(format_ticket_number(2020, "410100", 100, 1, 1), Err(TicketNumberError::Centre(100)));
        assert_eq!(format_ticket_number(2020, "410100", 1, 1000, 1), Err(TicketNumberError::Room(1000)));
        assert_eq!(format_ticket_number(2020, "410100", 1, 1, 100), Err(TicketNumberError::Seat(100)));
        assert_eq!(format_ticket_number(2020, "41010", 1, 1, 1), Err(TicketNumberError::AgencyCode("41010".into())));
        assert_eq!(format_ticket_number(2020, "+41010", 1, 1, 1), Err(TicketNumberError::AgencyCode("+41010".into())));
        assert_eq!(format_ticket_number(10_000, "410100", 1, 1, 1), Err(TicketNumberError::Year(10_000)));
    }

    #[test]
    fn serialises_as_the_number_string() {
        let t = parse_ticket_number("20204101000301227").unwrap();
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"20204101000301227\"");
        assert_eq!(serde_json::from_str::<TicketNumber>("\"20204101000301227\"").unwrap(), t);
        assert!(serde_json::from_str::<TicketNumber>("\"20204101000301200\"").is_err());
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(year in 2000u32..=9999, agency in 100_000u32..=999_999, centre in 1u32..=99, room in 1u32..=999, seat in 1u32..=99) {
            let s = format_ticket_number(year, &agency.to_string(), centre, room, seat).unwrap();
            prop_assert_eq!(s.len(), TICKET_NUMBER_LEN);
            let t = parse_ticket_number(&s).unwrap();
            prop_assert_eq!((t.year(), t.agency_code(), t.centre(), t.room(), t.seat()), (year, agency.to_string(), centre, room, seat));
            prop_assert_eq!(t.to_string(), s);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,24}") {
            let _ = parse_ticket_number(&s);
        }
    }
}
