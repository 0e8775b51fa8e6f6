//! Unified social credit codes (统一社会信用代码, GB 32100-2015) of units.

use serde::{Deserialize, Serialize};

use crate::validation::FieldError;

/// The 31 characters of GB 32100; I, O, Z, S and V are left out because they look like digits.
pub const CREDIT_CODE_CHARSET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
const FIELD: &str = "credit_code";

/// A valid 18-character code, upper case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct CreditCode(String);

fn char_value(c: char) -> Option<u32> {
    CREDIT_CODE_CHARSET.chars().position(|x| x == c).and_then(|p| u32::try_from(p).ok())
}

/// The check character for the first 17 characters, or `None` if they are not 17 characters
/// of the GB 32100 charset (upper case).
pub fn credit_code_check_character(first17: &str) -> Option<char> {
    let mut sum = 0u32;
    let mut count = 0usize;
    for (c, w) in first17.chars().zip(WEIGHTS) {
        sum += char_value(c)? * w;
        count += 1;
    }
    if count != 17 || first17.chars().count() != 17 {
        return None;
    }
    let index = ((31 - sum % 31) % 31) as usize;
    CREDIT_CODE_CHARSET.chars().nth(index)
}

impl CreditCode {
    pub fn parse(input: &str) -> Result<CreditCode, FieldError> {
        let code: String = input.trim().to_uppercase();
        if code.is_empty() {
            return Err(FieldError::new(FIELD, "统一社会信用代码：不能为空"));
        }
        let len = code.chars().count();
        if len != 18 {
            return Err(FieldError::new(FIELD, format!("统一社会信用代码：应为18位，现为{len}位")));
        }
        if let Some(bad) = code.chars().find(|&c| char_value(c).is_none()) {
            return Err(FieldError::new(
                FIELD,
                format!("统一社会信用代码：含有无效字符“{bad}”，只能使用数字和除 I、O、Z、S、V 以外的大写字母"),
            ));
        }
        let first17: String = code.chars().take(17).collect();
        let expected = credit_code_check_character(&first17).ok_or_else(|| FieldError::new(FIELD, "统一社会信用代码：含有无效字符"))?;
        if code.chars().nth(17) != Some(expected) {
            return Err(FieldError::new(FIELD, format!("统一社会信用代码：校验位不正确，应为 {expected}")));
        }
        Ok(CreditCode(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Position 1: the registering authority (1 = 机构编制, 5 = 民政, 9 = 市场监管 …).
    pub fn registration_authority(&self) -> char {
        self.0.chars().next().unwrap_or('0')
    }

    /// Positions 3–8: the administrative division code of the registering office.
    pub fn region_code(&self) -> &str {
        &self.0[2..8]
    }
}

impl TryFrom<String> for CreditCode {
    type Error = FieldError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        CreditCode::parse(&value)
    }
}

impl std::fmt::Display for CreditCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn real_code_is_valid() {
        let code = CreditCode::parse("91350100M000100Y43").unwrap();
        assert_eq!(code.as_str(), "91350100M000100Y43");
        assert_eq!(code.registration_authority(), '9');
        assert_eq!(code.region_code(), "350100");
        assert_eq!(credit_code_check_character("91350100M000100Y4"), Some('3'));
    }

    #[test]
    fn trims_and_upper_cases() {
        let code = CreditCode::parse(" 91350100m000100y43 ").unwrap();
        assert_eq!(code.to_string(), "91350100M000100Y43");
    }

    #[test]
    fn generated_institution_code_is_valid() {
        let first17 = "12410100MB1234567";
        let check = credit_code_check_character(first17).unwrap();
        let code = CreditCode::parse(&format!("{first17}{check}")).unwrap();
        assert_eq!(code.region_code(), "410100");
    }

    #[test]
    fn rejects_bad_check_character_naming_expected() {
        let err = CreditCode::parse("91350100M000100Y44").unwrap_err();
        assert_eq!(err.field, "credit_code");
        assert_eq!(err.message, "统一社会信用代码：校验位不正确，应为 3");
    }

    #[test]
    fn rejects_wrong_length_and_letters_outside_charset() {
        let err = CreditCode::parse("91350100M000100Y4").unwrap_err();
        assert!(err.message.starts_with("统一社会信用代码："));
        assert!(err.message.contains("17位"));
        let err = CreditCode::parse("91350100I000100Y43").unwrap_err();
        assert!(err.message.contains("“I”"), "{}", err.message);
        assert!(CreditCode::parse("").unwrap_err().message.contains("不能为空"));
        assert!(CreditCode::parse("91350100M000100Y4３").is_err());
    }

    #[test]
    fn check_character_requires_17_charset_characters() {
        assert_eq!(credit_code_check_character("91350100M000100Y"), None);
        assert_eq!(credit_code_check_character("91350100M000100Y43"), None);
        assert_eq!(credit_code_check_character("91350100O000100Y4"), None);
    }

    #[test]
    fn deserialization_validates() {
        assert!(serde_json::from_str::<CreditCode>("\"91350100M000100Y43\"").is_ok());
        assert!(serde_json::from_str::<CreditCode>("\"91350100M000100Y40\"").is_err());
    }

    fn first17() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(CREDIT_CODE_CHARSET.chars().collect::<Vec<_>>()), 17)
            .prop_map(|v| v.into_iter().collect())
    }

    proptest! {
        #[test]
        fn round_trip(body in first17()) {
            let check = credit_code_check_character(&body).unwrap();
            let full = format!("{body}{check}");
            let code = CreditCode::parse(&full.to_lowercase()).unwrap();
            prop_assert_eq!(code.as_str(), full.as_str());
        }

        #[test]
        fn any_single_substitution_is_rejected(
            body in first17(),
            pos in 0usize..18,
            replacement in prop::sample::select(CREDIT_CODE_CHARSET.chars().collect::<Vec<_>>()),
        ) {
            let check = credit_code_check_character(&body).unwrap();
            let mut chars: Vec<char> = format!("{body}{check}").chars().collect();
            prop_assume!(chars[pos] != replacement);
            chars[pos] = replacement;
            let mutated: String = chars.into_iter().collect();
            prop_assert!(CreditCode::parse(&mutated).is_err());
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,24}") {
            let _ = CreditCode::parse(&s);
        }
    }
}
