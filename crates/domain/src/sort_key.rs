//! Sort keys for Chinese names. Neither SQLite nor PostgreSQL (without ICU) orders Chinese by
//! pinyin, which is the order users expect in lists, so a key is computed here and stored.

use pinyin::ToPinyin;

/// Pinyin syllables (toneless, lower case) separated by spaces, then the name itself so equal
/// readings still sort in a fixed order. Latin letters and digits are kept, lower-cased.
pub fn pinyin_key(name: &str) -> String {
    let mut key = String::with_capacity(name.len() * 3);
    for (c, py) in name.chars().zip(name.to_pinyin()) {
        match py {
            Some(p) => {
                key.push_str(p.plain());
                key.push(' ');
            }
            None if c.is_alphanumeric() => key.extend(c.to_lowercase()),
            None => {}
        }
    }
    key.push('\u{1}');
    key.push_str(name);
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_by_reading_not_by_code_point() {
        let mut names = vec!["郑州市中医院", "安阳市人民医院", "开封市水利局", "巩义市市场监督管理局", "鹤壁市公安局"];
        names.sort_by_key(|n| pinyin_key(n));
        assert_eq!(names, vec!["安阳市人民医院", "巩义市市场监督管理局", "鹤壁市公安局", "开封市水利局", "郑州市中医院"]);
    }

    #[test]
    fn shorter_reading_first_and_ties_fixed() {
        assert!(pinyin_key("安") < pinyin_key("安徽"));
        assert!(pinyin_key("阿") < pinyin_key("安"));
        assert_ne!(pinyin_key("张三"), pinyin_key("章三"));
        assert!(pinyin_key("A单位").starts_with("a"));
    }
}
