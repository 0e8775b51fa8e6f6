//! People: sex, names, mobile numbers, ages.

use serde::{Deserialize, Serialize};
use time::Date;

use crate::validation::{FieldError, char_len};

/// Sex as recorded on the resident ID (GB 11643 has only two values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Sex::Male => "男",
            Sex::Female => "女",
        }
    }

    /// Accepts the code name or the Chinese label, as forms and spreadsheets use either.
    pub fn parse(s: &str) -> Option<Sex> {
        match s.trim() {
            "male" | "男" => Some(Sex::Male),
            "female" | "女" => Some(Sex::Female),
            _ => None,
        }
    }
}

/// Masks a mobile number for lists and public notices: `13812345678` → `138****5678`.
///
/// Anything too short to keep 7 characters visible is masked completely, so that masking never
/// reveals a whole short value.
pub fn mask_mobile(m: &str) -> String {
    let chars: Vec<char> = m.trim().chars().collect();
    if chars.len() < 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

/// A mainland China mobile number: 11 digits starting with 13–19.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct Mobile(String);

impl Mobile {
    /// Accepts the spaces and hyphens people type to group digits and a `+86`/`86` country
    /// prefix, and stores the bare 11 digits.
    pub fn parse(input: &str) -> Result<Mobile, FieldError> {
        const FIELD: &str = "mobile";
        let mut digits: String = input.trim().chars().filter(|c| !matches!(c, ' ' | '-' | '\u{3000}')).collect();
        if digits.is_empty() {
            return Err(FieldError::new(FIELD, "手机号码：不能为空"));
        }
        if let Some(rest) = digits.strip_prefix("+86") {
            digits = rest.to_owned();
        } else if digits.len() == 13 && digits.starts_with("86") {
            digits = digits[2..].to_owned();
        }
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(FieldError::new(FIELD, "手机号码：只能包含数字"));
        }
        if digits.len() != 11 {
            return Err(FieldError::new(FIELD, format!("手机号码：应为11位数字，现为{}位", digits.len())));
        }
        let bytes = digits.as_bytes();
        if bytes[0] != b'1' || !(b'3'..=b'9').contains(&bytes[1]) {
            return Err(FieldError::new(FIELD, "手机号码：应以13至19开头"));
        }
        Ok(Mobile(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn masked(&self) -> String {
        mask_mobile(&self.0)
    }
}

impl TryFrom<String> for Mobile {
    type Error = FieldError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Mobile::parse(&value)
    }
}

impl std::fmt::Display for Mobile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Validates a person's name: 2–20 characters of Chinese characters or letters, with `·`/`•`
/// only between parts (minority and foreign names such as `阿依古丽·买买提`).
pub fn validate_person_name(name: &str, field: &str) -> Result<String, FieldError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(FieldError::new(field, "姓名：不能为空"));
    }
    let len = char_len(name);
    if !(2..=20).contains(&len) {
        return Err(FieldError::new(field, format!("姓名：长度应为2至20个字符，现为{len}个")));
    }
    if name.chars().any(|c| c.is_numeric()) {
        return Err(FieldError::new(field, "姓名：不能包含数字"));
    }
    let is_dot = |c: char| c == '·' || c == '•';
    if let Some(bad) = name.chars().find(|&c| !(c.is_alphabetic() || is_dot(c))) {
        let shown = if bad.is_whitespace() { "空格".to_owned() } else { format!("“{bad}”") };
        return Err(FieldError::new(field, format!("姓名：不能包含{shown}，只能使用汉字、字母和间隔号“·”")));
    }
    let chars: Vec<char> = name.chars().collect();
    let dot_misplaced = chars.first().is_some_and(|&c| is_dot(c))
        || chars.last().is_some_and(|&c| is_dot(c))
        || chars.windows(2).any(|w| is_dot(w[0]) && is_dot(w[1]));
    if dot_misplaced {
        return Err(FieldError::new(field, "姓名：间隔号“·”只能用在两个名字部分之间"));
    }
    Ok(name.to_owned())
}

/// Full years of age on `on` (周岁). A 29 February birthday is reached on 1 March in common
/// years, which is how Chinese household registration counts it.
pub fn full_years(birth: Date, on: Date) -> i32 {
    let mut years = on.year() - birth.year();
    if (on.month() as u8, on.day()) < (birth.month() as u8, birth.day()) {
        years -= 1;
    }
    years
}

/// The same calendar day `years` later (or earlier); 29 February becomes 28 February in common
/// years.
pub fn add_years(date: Date, years: i32) -> Date {
    let year = date.year().saturating_add(years);
    Date::from_calendar_date(year, date.month(), date.day()).or_else(|_| Date::from_calendar_date(year, date.month(), 28)).unwrap_or(date)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    #[test]
    fn sex_round_trips_and_labels() {
        for sex in [Sex::Male, Sex::Female] {
            assert_eq!(Sex::parse(sex.as_str()), Some(sex));
            assert_eq!(Sex::parse(sex.label()), Some(sex));
        }
        assert_eq!(Sex::Male.label(), "男");
        assert_eq!(Sex::parse(" 女 "), Some(Sex::Female));
        assert_eq!(Sex::parse("M"), None);
        assert_eq!(serde_json::to_string(&Sex::Female).unwrap(), "\"female\"");
    }

    #[test]
    fn masks_mobile() {
        assert_eq!(mask_mobile("13812345678"), "138****5678");
        assert_eq!(mask_mobile("12345"), "*****");
        assert_eq!(mask_mobile(""), "");
    }

    #[test]
    fn parses_valid_mobiles() {
        let m = Mobile::parse(" 138 1234-5678 ").unwrap();
        assert_eq!(m.as_str(), "13812345678");
        assert_eq!(m.masked(), "138****5678");
        assert_eq!(Mobile::parse("+8619912345678").unwrap().as_str(), "19912345678");
        assert_eq!(Mobile::parse("8615012345678").unwrap().as_str(), "15012345678");
    }

    #[test]
    fn rejects_bad_mobiles_with_field_and_label() {
        for bad in ["", "1381234567", "138123456789", "12812345678", "23812345678", "1381234567a"] {
            let err = Mobile::parse(bad).unwrap_err();
            assert_eq!(err.field, "mobile");
            assert!(err.message.starts_with("手机号码："), "{}", err.message);
        }
        assert!(Mobile::parse("1381234567").unwrap_err().message.contains("10位"));
    }

    #[test]
    fn mobile_deserialization_validates() {
        assert!(serde_json::from_str::<Mobile>("\"13812345678\"").is_ok());
        assert!(serde_json::from_str::<Mobile>("\"12345\"").is_err());
    }

    #[test]
    fn accepts_chinese_and_minority_names() {
        assert_eq!(validate_person_name(" 王伟 ", "name").unwrap(), "王伟");
        assert!(validate_person_name("阿依古丽·买买提", "name").is_ok());
        assert!(validate_person_name("John•Smith", "name").is_ok());
        assert!(validate_person_name("欧阳娜娜", "name").is_ok());
    }

    #[test]
    fn rejects_bad_names() {
        let err = validate_person_name("王", "applicant_name").unwrap_err();
        assert_eq!(err.field, "applicant_name");
        assert!(err.message.starts_with("姓名："));
        assert!(validate_person_name("王伟2", "name").unwrap_err().message.contains("数字"));
        assert!(validate_person_name("王 伟", "name").unwrap_err().message.contains("空格"));
        assert!(validate_person_name("·王伟", "name").is_err());
        assert!(validate_person_name("王··伟", "name").is_err());
        assert!(validate_person_name("王伟!", "name").is_err());
        assert!(validate_person_name(&"王".repeat(21), "name").is_err());
        assert!(validate_person_name("   ", "name").unwrap_err().message.contains("不能为空"));
    }

    #[test]
    fn full_years_counts_birthdays() {
        let birth = date!(1980 - 05 - 20);
        assert_eq!(full_years(birth, date!(2020 - 05 - 19)), 39);
        assert_eq!(full_years(birth, date!(2020 - 05 - 20)), 40);
        let leap = date!(2000 - 02 - 29);
        assert_eq!(full_years(leap, date!(2018 - 02 - 28)), 17);
        assert_eq!(full_years(leap, date!(2018 - 03 - 01)), 18);
    }

    #[test]
    fn add_years_clamps_leap_day() {
        assert_eq!(add_years(date!(2000 - 02 - 29), 1), date!(2001 - 02 - 28));
        assert_eq!(add_years(date!(2000 - 02 - 29), 4), date!(2004 - 02 - 29));
        assert_eq!(add_years(date!(1990 - 07 - 01), -2), date!(1988 - 07 - 01));
    }

    proptest! {
        #[test]
        fn any_valid_mobile_parses(second in 3u8..=9, rest in "[0-9]{9}") {
            let input = format!("1{second}{rest}");
            let m = Mobile::parse(&input).unwrap();
            prop_assert_eq!(m.as_str(), input.as_str());
            prop_assert_eq!(m.masked().chars().count(), 11);
        }

        #[test]
        fn mobile_parse_never_panics(s in "\\PC{0,20}") {
            let _ = Mobile::parse(&s);
        }

        #[test]
        fn name_validation_never_panics_and_trims(s in "\\PC{0,25}") {
            if let Ok(name) = validate_person_name(&s, "name") {
                prop_assert_eq!(name.as_str(), s.trim());
            }
        }
    }
}
