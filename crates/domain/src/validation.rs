//! Field-level validation errors shared by every form.
//!
//! A form is rejected as a whole with one message per offending field, so that the page can show
//! each message next to its field and nothing is half-written.

use serde::Serialize;

/// One problem with one form field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The form field's name in code, e.g. `id_number`.
    pub field: String,
    /// Chinese message that starts with the field's Chinese label, e.g. `身份证号码：应为18位`.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FieldError {}

/// All problems found in one form, in the order they were found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        Self(Vec::new())
    }

    pub fn push(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    pub fn push_error(&mut self, error: FieldError) {
        self.0.push(error);
    }

    /// Appends all errors of `other`, keeping their order.
    pub fn extend(&mut self, other: FieldErrors) {
        self.0.extend(other.0);
    }

    /// Records the error of a field validator and hands back its value, so a form can be
    /// validated field by field and still report every bad field at once.
    pub fn check<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.0.push(error);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The first message recorded for `field`.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }

    pub fn iter(&self) -> std::slice::Iter<'_, FieldError> {
        self.0.iter()
    }

    pub fn into_result(self) -> Result<(), FieldErrors> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl From<FieldError> for FieldErrors {
    fn from(error: FieldError) -> Self {
        Self(vec![error])
    }
}

impl IntoIterator for FieldErrors {
    type Item = FieldError;
    type IntoIter = std::vec::IntoIter<FieldError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a FieldErrors {
    type Item = &'a FieldError;
    type IntoIter = std::slice::Iter<'a, FieldError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl std::fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("；")?;
            }
            f.write_str(&error.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for FieldErrors {}

/// Number of characters (not bytes): Chinese limits are stated in characters.
pub(crate) fn char_len(s: &str) -> usize {
    s.chars().count()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn empty_errors_are_ok() {
        let errors = FieldErrors::new();
        assert!(errors.is_empty());
        assert_eq!(errors.into_result(), Ok(()));
    }

    #[test]
    fn get_returns_first_message_of_field() {
        let mut errors = FieldErrors::new();
        errors.push("name", "姓名：不能为空");
        errors.push("mobile", "手机号码：应为11位数字");
        errors.push("name", "姓名：第二条");
        assert_eq!(errors.get("name"), Some("姓名：不能为空"));
        assert_eq!(errors.get("mobile"), Some("手机号码：应为11位数字"));
        assert_eq!(errors.get("sex"), None);
        assert_eq!(errors.len(), 3);
    }

    #[test]
    fn display_joins_with_chinese_semicolon() {
        let mut errors = FieldErrors::new();
        errors.push("a", "甲：错");
        errors.push("b", "乙：错");
        assert_eq!(errors.to_string(), "甲：错；乙：错");
        let err = errors.clone().into_result().unwrap_err();
        assert_eq!(err, errors);
    }

    #[test]
    fn check_collects_errors_and_passes_values() {
        let mut errors = FieldErrors::new();
        assert_eq!(errors.check(Ok::<_, FieldError>(5)), Some(5));
        assert_eq!(errors.check::<i32>(Err(FieldError::new("x", "某字段：错"))), None);
        assert_eq!(errors.get("x"), Some("某字段：错"));
    }

    #[test]
    fn serializes_as_list_of_field_and_message() {
        let errors = FieldErrors::from(FieldError::new("id_number", "身份证号码：应为18位"));
        let json = serde_json::to_string(&errors).unwrap();
        assert_eq!(json, r#"[{"field":"id_number","message":"身份证号码：应为18位"}]"#);
    }

    #[test]
    fn char_len_counts_characters() {
        assert_eq!(char_len("河南省"), 3);
        assert_eq!(char_len("ab"), 2);
    }
}
