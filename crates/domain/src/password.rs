//! Password policy for every account.

use crate::validation::FieldError;

const MIN_CHARS: usize = 10;
/// Long enough for any pass phrase, short enough that hashing cannot be used to burn CPU.
const MAX_CHARS: usize = 128;
/// Shorter user names or ID fragments would match ordinary passwords by accident.
const MIN_PERSONAL_CHARS: usize = 3;

/// Policy: at least 10 characters, at least 3 of 4 classes (lower, upper, digit, other), must
/// not contain the user name or the ID number (case-insensitive, only if those are at least 3
/// chars). The first failure is reported, on field `password`.
pub fn check_password_policy(password: &str, username: &str, id_number: Option<&str>) -> Result<(), FieldError> {
    let err = |m: String| Err(FieldError::new("password", m));
    let len = password.chars().count();
    if len < MIN_CHARS {
        return err(format!("密码：长度至少为{MIN_CHARS}个字符，现为{len}个"));
    }
    if len > MAX_CHARS {
        return err(format!("密码：长度不能超过{MAX_CHARS}个字符"));
    }
    let has_lower = password.chars().any(|c| c.is_lowercase());
    let has_upper = password.chars().any(|c| c.is_uppercase());
    let has_digit = password.chars().any(|c| c.is_ascii_digit());
    let has_other = password.chars().any(|c| !(c.is_lowercase() || c.is_uppercase() || c.is_ascii_digit()));
    let classes = [has_lower, has_upper, has_digit, has_other].iter().filter(|&&b| b).count();
    if classes < 3 {
        return err(format!("密码：应至少包含小写字母、大写字母、数字、其他符号中的3类，现只有{classes}类"));
    }
    let lowered = password.to_lowercase();
    let contains = |needle: &str| {
        let needle = needle.trim();
        needle.chars().count() >= MIN_PERSONAL_CHARS && lowered.contains(&needle.to_lowercase())
    };
    if contains(username) {
        return err("密码：不能包含用户名".to_owned());
    }
    if id_number.is_some_and(contains) {
        return err("密码：不能包含身份证号码".to_owned());
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn accepts_strong_passwords() {
        assert!(check_password_policy("Gongkao#2020", "wangwei", None).is_ok());
        assert!(check_password_policy("abcdefgh12!!", "wangwei", None).is_ok());
        assert!(check_password_policy("工考系统Abc123", "ab", Some("11010519491231002X")).is_ok());
    }

    #[test]
    fn too_short() {
        let err = check_password_policy("Ab1!Ab1!a", "u", None).unwrap_err();
        assert_eq!(err.field, "password");
        assert_eq!(err.message, "密码：长度至少为10个字符，现为9个");
        assert!(check_password_policy(&"Ab1!".repeat(40), "u", None).unwrap_err().message.contains("不能超过"));
    }

    #[test]
    fn too_few_classes() {
        let err = check_password_policy("abcdefghij12", "u", None).unwrap_err();
        assert!(err.message.contains("3类"), "{}", err.message);
        assert!(err.message.contains("只有2类"));
        assert!(check_password_policy("ABCDEFGHIJKL", "u", None).is_err());
    }

    #[test]
    fn must_not_contain_username_case_insensitively() {
        let err = check_password_policy("xxWangWei#2020", "wangwei", None).unwrap_err();
        assert_eq!(err.message, "密码：不能包含用户名");
        // Short user names are not checked: they would match by accident.
        assert!(check_password_policy("Gongkao#2020", "go", None).is_ok());
    }

    #[test]
    fn must_not_contain_id_number() {
        let err = check_password_policy("Id11010519491231002x!", "u", Some("11010519491231002X")).unwrap_err();
        assert_eq!(err.message, "密码：不能包含身份证号码");
        assert!(check_password_policy("Gongkao#2020", "u", Some("")).is_ok());
    }
}
