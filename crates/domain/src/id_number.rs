//! Resident ID numbers (公民身份号码, GB 11643-1999).
//!
//! Address codes are deliberately not checked against any list: the code is the county of
//! registration when the number was assigned and stays valid after renames (e.g. 长垣县 410728),
//! and people first registered outside Henan are normal.

use serde::{Deserialize, Serialize};
use thiserror::Error;
use time::{Date, Month};

use crate::person::{Sex, full_years};
use crate::validation::{FieldError, FieldErrors};

/// ISO 7064 MOD 11-2 weights: W[i] = 2^(17-i) mod 11.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// Working people are between these ages; outside it the number was most likely mistyped.
const MIN_PLAUSIBLE_AGE: i32 = 16;
const MAX_PLAUSIBLE_AGE: i32 = 70;

/// A valid 18-character ID number, stored with an upper-case `X`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct IdNumber(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum IdNumberError {
    #[error("身份证号码：应为18位")]
    WrongLength,
    #[error("身份证号码：前17位应为数字，最后一位应为数字或X")]
    InvalidCharacter,
    #[error("身份证号码：第7至14位的出生日期不是有效日期")]
    InvalidBirthDate,
    #[error("身份证号码：校验位不正确，应为 {expected}")]
    BadCheckCharacter { expected: char },
}

impl IdNumberError {
    /// The error as a form error on `field` (usually `id_number`).
    pub fn into_field_error(self, field: &str) -> FieldError {
        FieldError::new(field, self.to_string())
    }
}

impl From<IdNumberError> for FieldError {
    fn from(error: IdNumberError) -> Self {
        error.into_field_error("id_number")
    }
}

impl IdNumber {
    pub fn parse(input: &str) -> Result<Self, IdNumberError> {
        let input = input.trim();
        if input.chars().count() != 18 {
            return Err(IdNumberError::WrongLength);
        }
        let normalized = input.to_ascii_uppercase();
        let bytes = normalized.as_bytes();
        let body_ok = bytes[..17].iter().all(u8::is_ascii_digit);
        let last_ok = bytes[17].is_ascii_digit() || bytes[17] == b'X';
        if !body_ok || !last_ok {
            return Err(IdNumberError::InvalidCharacter);
        }
        if decode_birth_date(&normalized[6..14]).is_none() {
            return Err(IdNumberError::InvalidBirthDate);
        }
        let expected = check_character(&normalized[..17]).ok_or(IdNumberError::InvalidCharacter)?;
        if char::from(bytes[17]) != expected {
            return Err(IdNumberError::BadCheckCharacter { expected });
        }
        Ok(IdNumber(normalized))
    }

    /// Converts an old 15-digit number (GB 11643-1989: birth year without `19`, no check
    /// character). Only for businesses that still accept such numbers.
    pub fn from_legacy_15(input: &str) -> Result<Self, IdNumberError> {
        let input = input.trim();
        if input.chars().count() != 15 {
            return Err(IdNumberError::WrongLength);
        }
        if !input.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IdNumberError::InvalidCharacter);
        }
        let first17 = format!("{}19{}", &input[..6], &input[6..]);
        let check = check_character(&first17).ok_or(IdNumberError::InvalidCharacter)?;
        IdNumber::parse(&format!("{first17}{check}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn birth_date(&self) -> Date {
        // `parse` is the only constructor and it rejects invalid dates, so the fallback is never
        // taken; it exists only to avoid a panic path.
        decode_birth_date(&self.0[6..14]).unwrap_or(Date::MIN)
    }

    pub fn sex(&self) -> Sex {
        if self.0.as_bytes()[16] % 2 == 1 { Sex::Male } else { Sex::Female }
    }

    pub fn address_code(&self) -> &str {
        &self.0[..6]
    }

    /// First 4 and last 4 characters: enough to tell people apart in a list without exposing the
    /// birth date.
    pub fn masked(&self) -> String {
        format!("{}{}{}", &self.0[..4], "*".repeat(10), &self.0[14..])
    }
}

impl TryFrom<String> for IdNumber {
    type Error = IdNumberError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        IdNumber::parse(&value)
    }
}

impl std::str::FromStr for IdNumber {
    type Err = IdNumberError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IdNumber::parse(s)
    }
}

impl std::fmt::Display for IdNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn decode_birth_date(yyyymmdd: &str) -> Option<Date> {
    if yyyymmdd.len() != 8 || !yyyymmdd.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i32 = yyyymmdd[..4].parse().ok()?;
    let month: u8 = yyyymmdd[4..6].parse().ok()?;
    let day: u8 = yyyymmdd[6..].parse().ok()?;
    let month = Month::try_from(month).ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

/// The check character for the first 17 digits, or `None` if they are not 17 ASCII digits.
pub fn check_character(first17: &str) -> Option<char> {
    let bytes = first17.as_bytes();
    if bytes.len() != 17 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = bytes.iter().zip(WEIGHTS).map(|(b, w)| u32::from(b - b'0') * w).sum();
    Some(CHECK_CHARS[(sum % 11) as usize])
}

/// Cross-checks what a person typed with what the number says, and plausibility of age on `today`
/// (16..=70 full years). Returns field errors for fields "birth_date", "sex", "id_number".
pub fn cross_check(id: &IdNumber, entered_birth: Option<Date>, entered_sex: Option<Sex>, today: Date) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let birth = id.birth_date();
    if let Some(entered) = entered_birth
        && entered != birth
    {
        errors.push("birth_date", format!("出生日期：与身份证号码不一致，身份证号码中的出生日期为 {birth}"));
    }
    let sex = id.sex();
    if let Some(entered) = entered_sex
        && entered != sex
    {
        errors.push("sex", format!("性别：与身份证号码不一致，身份证号码表示的性别为{}", sex.label()));
    }
    if birth > today {
        errors.push("id_number", format!("身份证号码：出生日期 {birth} 晚于今天，请核对"));
    } else {
        let age = full_years(birth, today);
        if !(MIN_PLAUSIBLE_AGE..=MAX_PLAUSIBLE_AGE).contains(&age) {
            errors.push(
                "id_number",
                format!("身份证号码：按出生日期计算年龄为{age}周岁，不在{MIN_PLAUSIBLE_AGE}至{MAX_PLAUSIBLE_AGE}周岁之间，请核对"),
            );
        }
    }
    errors
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    const VALID: [&str; 4] = ["11010519491231002X", "440524188001010014", "513101198201130014", "34052419800101001X"];

    #[test]
    fn standard_vectors_are_valid() {
        for v in VALID {
            let id = IdNumber::parse(v).unwrap();
            assert_eq!(id.as_str(), v);
            assert_eq!(id.to_string(), v);
        }
    }

    #[test]
    fn accepts_lower_case_x_and_whitespace() {
        let id = IdNumber::parse("  11010519491231002x\n").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
    }

    #[test]
    fn decodes_fields() {
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(id.birth_date(), date!(1949 - 12 - 31));
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(id.address_code(), "110105");
        assert_eq!(id.masked(), "1101**********002X");
        let man = IdNumber::parse("440524188001010014").unwrap();
        assert_eq!(man.sex(), Sex::Male);
        assert_eq!(man.birth_date(), date!(1880 - 01 - 01));
    }

    #[test]
    fn reports_each_error_kind() {
        assert_eq!(IdNumber::parse("1101051949123100"), Err(IdNumberError::WrongLength));
        assert_eq!(IdNumber::parse(""), Err(IdNumberError::WrongLength));
        assert_eq!(IdNumber::parse("11010519491231002Ｘ"), Err(IdNumberError::InvalidCharacter));
        assert_eq!(IdNumber::parse("1101051949123100XX"), Err(IdNumberError::InvalidCharacter));
        assert_eq!(IdNumber::parse("110105194902300020"), Err(IdNumberError::InvalidBirthDate));
        assert_eq!(IdNumber::parse("110105194912310021"), Err(IdNumberError::BadCheckCharacter { expected: 'X' }));
    }

    #[test]
    fn messages_are_chinese_and_name_the_field() {
        let err = IdNumber::parse("110105194912310021").unwrap_err();
        assert_eq!(err.to_string(), "身份证号码：校验位不正确，应为 X");
        let field: FieldError = err.into();
        assert_eq!(field.field, "id_number");
        assert!(IdNumberError::WrongLength.to_string().starts_with("身份证号码："));
        assert!(IdNumberError::InvalidBirthDate.to_string().starts_with("身份证号码："));
    }

    #[test]
    fn old_address_codes_are_accepted() {
        // 长垣县 410728 became 长垣市 410783 in 2019; old numbers keep the old code.
        let first17 = "41072819800101001";
        let id = IdNumber::parse(&format!("{first17}{}", check_character(first17).unwrap()));
        assert!(id.is_ok());
    }

    #[test]
    fn converts_legacy_15_digit_numbers() {
        let id = IdNumber::from_legacy_15("340524800101001").unwrap();
        assert_eq!(id.as_str(), "34052419800101001X");
        assert_eq!(IdNumber::from_legacy_15("3405248001010"), Err(IdNumberError::WrongLength));
    }

    #[test]
    fn check_character_requires_17_digits() {
        assert_eq!(check_character("11010519491231002"), Some('X'));
        assert_eq!(check_character("1101051949123100"), None);
        assert_eq!(check_character("1101051949123100a"), None);
    }

    #[test]
    fn serde_round_trip_validates() {
        let id = IdNumber::parse("513101198201130014").unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"513101198201130014\"");
        assert_eq!(serde_json::from_str::<IdNumber>(&json).unwrap(), id);
        assert!(serde_json::from_str::<IdNumber>("\"513101198201130015\"").is_err());
    }

    #[test]
    fn cross_check_agreeing_entries_is_clean() {
        let id = IdNumber::parse("34052419800101001X").unwrap();
        let errors = cross_check(&id, Some(date!(1980 - 01 - 01)), Some(Sex::Male), date!(2020 - 04 - 13));
        assert!(errors.is_empty(), "{errors}");
    }

    #[test]
    fn cross_check_reports_mismatches() {
        let id = IdNumber::parse("34052419800101001X").unwrap();
        let errors = cross_check(&id, Some(date!(1980 - 01 - 02)), Some(Sex::Female), date!(2020 - 04 - 13));
        assert_eq!(errors.get("birth_date"), Some("出生日期：与身份证号码不一致，身份证号码中的出生日期为 1980-01-01"));
        assert!(errors.get("sex").unwrap().contains('男'));
        assert_eq!(errors.get("id_number"), None);
    }

    #[test]
    fn cross_check_reports_implausible_age() {
        let old = IdNumber::parse("11010519491231002X").unwrap();
        // 70 full years is still plausible; the limit is inclusive.
        assert!(cross_check(&old, None, None, date!(2020 - 04 - 13)).is_empty());
        assert!(cross_check(&old, None, None, date!(2020 - 12 - 30)).is_empty());
        let errors = cross_check(&old, None, None, date!(2020 - 12 - 31));
        assert!(errors.get("id_number").unwrap().contains("71周岁"));

        let young = IdNumber::parse("440524188001010014").unwrap();
        assert!(!cross_check(&young, None, None, date!(1890 - 01 - 01)).is_empty());
        assert!(cross_check(&young, None, None, date!(1896 - 01 - 01)).is_empty());
        assert!(cross_check(&young, None, None, date!(1895 - 12 - 31)).get("id_number").is_some());
        let future = cross_check(&young, None, None, date!(1879 - 01 - 01));
        assert!(future.get("id_number").unwrap().contains("晚于今天"));
    }

    fn valid_first17() -> impl Strategy<Value = String> {
        ("[0-9]{6}", "[0-9]{4}", 1u8..=12, 1u8..=31, "[0-9]{3}").prop_filter_map(
            "birth date must exist",
            |(addr, year, month, day, seq)| {
                let ymd = format!("{year}{month:02}{day:02}");
                decode_birth_date(&ymd).map(|_| format!("{addr}{ymd}{seq}"))
            },
        )
    }

    proptest! {
        #[test]
        fn appending_check_character_gives_valid_number(first17 in valid_first17()) {
            let check = check_character(&first17).unwrap();
            let id = IdNumber::parse(&format!("{first17}{check}")).unwrap();
            prop_assert_eq!(&id.as_str()[..17], first17.as_str());
            prop_assert_eq!(id.masked().len(), 18);
        }

        #[test]
        fn any_single_substitution_is_rejected(
            first17 in valid_first17(),
            pos in 0usize..18,
            replacement in prop::sample::select(vec!['0','1','2','3','4','5','6','7','8','9','X']),
        ) {
            let check = check_character(&first17).unwrap();
            let mut chars: Vec<char> = format!("{first17}{check}").chars().collect();
            prop_assume!(chars[pos] != replacement);
            chars[pos] = replacement;
            let mutated: String = chars.into_iter().collect();
            prop_assert!(IdNumber::parse(&mutated).is_err(), "{} parsed", mutated);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,24}") {
            let _ = IdNumber::parse(&s);
            let _ = IdNumber::from_legacy_15(&s);
        }
    }
}
