//! Money formatting for receipts: fen as yuan figures and as Chinese capital numerals
//! (中文大写金额), following the People's Bank of China rules for filling in bills
//! (《正确填写票据和结算凭证的基本规定》).

const DIGITS: [char; 10] = ['零', '壹', '贰', '叁', '肆', '伍', '陆', '柒', '捌', '玖'];
/// Units inside a four-digit group, from the highest place down.
const PLACES: [&str; 4] = ["仟", "佰", "拾", ""];
/// Units of successive four-digit groups, from the lowest up (u64 has at most five).
const GROUPS: [&str; 5] = ["", "万", "亿", "万亿", "亿亿"];

/// Formats an amount in fen as yuan with two decimals: `1250` → `"12.50"`,
/// `-5` → `"-0.05"`. No thousands separators.
pub fn format_yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// Writes an amount in fen in Chinese capital numerals, as on a bill or receipt.
///
/// - whole yuan end in 整: `0` → 零元整, `100000` → 壹仟元整;
/// - 整 also follows 角 when there is no 分: `1250` → 壹拾贰元伍角整;
/// - a zero in the 元 place before non-zero 角, or a zero 角 before 分, is written 零:
///   `10050` → 壹佰元零伍角整, `105` → 壹元零伍分;
/// - zeros inside the integer part are read once, trailing zeros of a four-digit group
///   are not read (`107000` yuan → 壹拾万柒仟元);
/// - amounts under one yuan start at 角 or 分 (`50` → 伍角整, `5` → 伍分);
/// - a negative amount is prefixed with 负.
pub fn chinese_capital(fen: i64) -> String {
    let mut out = String::new();
    if fen < 0 {
        out.push('负');
    }
    let abs = fen.unsigned_abs();
    let yuan = abs / 100;
    let jiao = (abs / 10 % 10) as usize;
    let fen_digit = (abs % 10) as usize;

    if yuan == 0 && jiao == 0 && fen_digit == 0 {
        out.push_str("零元整");
        return out;
    }
    if yuan > 0 {
        out.push_str(&integer_capital(yuan));
        out.push('元');
    }
    match (jiao, fen_digit) {
        (0, 0) => out.push('整'),
        (0, f) => {
            if yuan > 0 {
                out.push('零');
            }
            out.push(DIGITS[f]);
            out.push('分');
        }
        (j, f) => {
            if yuan > 0 && yuan.is_multiple_of(10) {
                out.push('零');
            }
            out.push(DIGITS[j]);
            out.push('角');
            if f == 0 {
                out.push('整');
            } else {
                out.push(DIGITS[f]);
                out.push('分');
            }
        }
    }
    out
}

/// A positive integer in capital numerals, without a currency unit.
fn integer_capital(mut n: u64) -> String {
    let mut groups = Vec::new();
    while n > 0 {
        groups.push((n % 10_000) as usize);
        n /= 10_000;
    }
    let mut out = String::new();
    // A zero has been skipped since the last digit written, and must be read as 零
    // before the next non-zero digit.
    let mut pending_zero = false;
    for (index, &group) in groups.iter().enumerate().rev() {
        if group == 0 {
            pending_zero = !out.is_empty();
            continue;
        }
        let digits = [group / 1000, group / 100 % 10, group / 10 % 10, group % 10];
        let lowest_nonzero = digits.iter().rposition(|&d| d != 0).unwrap_or(3);
        for (place, &digit) in digits.iter().enumerate().take(lowest_nonzero + 1) {
            if digit == 0 {
                pending_zero = !out.is_empty();
                continue;
            }
            if pending_zero {
                out.push('零');
                pending_zero = false;
            }
            out.push(DIGITS[digit]);
            out.push_str(PLACES[place]);
        }
        out.push_str(GROUPS[index]);
        // Trailing zeros of a group are not read; the next group's leading zeros are.
        pending_zero = false;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brief_examples() {
        assert_eq!(chinese_capital(0), "零元整");
        assert_eq!(chinese_capital(1250), "壹拾贰元伍角整");
        assert_eq!(chinese_capital(100_000), "壹仟元整");
        assert_eq!(chinese_capital(10_050), "壹佰元零伍角整");
    }

    #[test]
    fn jiao_and_fen() {
        assert_eq!(chinese_capital(1), "壹分");
        assert_eq!(chinese_capital(50), "伍角整");
        assert_eq!(chinese_capital(55), "伍角伍分");
        assert_eq!(chinese_capital(105), "壹元零伍分");
        assert_eq!(chinese_capital(1005), "壹拾元零伍分");
        assert_eq!(chinese_capital(1234), "壹拾贰元叁角肆分");
        assert_eq!(chinese_capital(10_055), "壹佰元零伍角伍分");
        assert_eq!(chinese_capital(100), "壹元整");
    }

    #[test]
    fn zeros_inside_the_integer_part() {
        // The PBoC rules' own examples (one of their permitted forms each).
        assert_eq!(chinese_capital(168_032), "壹仟陆佰捌拾元零叁角贰分");
        assert_eq!(chinese_capital(10_700_053), "壹拾万柒仟元零伍角叁分");
        assert_eq!(chinese_capital(100_400), "壹仟零肆元整");
        assert_eq!(chinese_capital(32_500), "叁佰贰拾伍元整");
        assert_eq!(chinese_capital(100_100), "壹仟零壹元整");
        assert_eq!(chinese_capital(1_001_000), "壹万零壹拾元整");
        assert_eq!(chinese_capital(1_000_100), "壹万零壹元整");
        assert_eq!(chinese_capital(100_000_100), "壹佰万零壹元整");
        assert_eq!(chinese_capital(100_010_000_000), "壹拾亿零壹拾万元整");
        assert_eq!(chinese_capital(10_000_000_000), "壹亿元整");
        assert_eq!(chinese_capital(10_000_000_100), "壹亿零壹元整");
        assert_eq!(chinese_capital(1_200_000_000_000_000), "壹拾贰万亿元整");
        assert_eq!(chinese_capital(2_000_000), "贰万元整");
        assert_eq!(chinese_capital(1_200_500), "壹万贰仟零伍元整");
    }

    #[test]
    fn negative_and_extremes() {
        assert_eq!(chinese_capital(-1250), "负壹拾贰元伍角整");
        assert!(chinese_capital(i64::MAX).starts_with("玖亿亿贰仟贰佰叁拾叁万亿柒仟贰佰零叁亿"));
        assert!(chinese_capital(i64::MIN).starts_with("负玖亿亿"));
    }

    #[test]
    fn yuan_figures() {
        assert_eq!(format_yuan(0), "0.00");
        assert_eq!(format_yuan(5), "0.05");
        assert_eq!(format_yuan(1250), "12.50");
        assert_eq!(format_yuan(100_000), "1000.00");
        assert_eq!(format_yuan(-1250), "-12.50");
        assert_eq!(format_yuan(i64::MIN), "-92233720368547758.08");
    }
}
