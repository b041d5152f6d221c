//! Input checks shared by every edit: resident identity numbers (GB 11643), mobile numbers and
//! required text. Each returns the normalised value or a typed [`CoreError`].

use chrono::NaiveDate;

use crate::error::{CoreError, Result, missing};

/// Weights of the first 17 digits in the GB 11643 check (2^(17-i) mod 11).
const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check characters indexed by the weighted sum mod 11.
const ID_CHECK_CHARS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

fn id_error(reason: &str) -> CoreError {
    CoreError::InvalidIdNumber {
        reason: reason.to_string(),
    }
}

/// The GB 11643 check character for the first 17 digits of an identity number.
pub fn id_check_char(first17: &[u8; 17]) -> char {
    let sum: u32 = first17
        .iter()
        .zip(ID_WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    ID_CHECK_CHARS[(sum % 11) as usize]
}

/// Checks an 18-character resident identity number: digits, a real birth date, and the
/// GB 11643 check character. Returns it trimmed with a capital `X`.
pub fn id_number(input: &str) -> Result<String> {
    let value = input.trim().to_uppercase();
    if value.chars().count() != 18 {
        return Err(id_error(&format!(
            "应为18位，实际为{}位",
            value.chars().count()
        )));
    }
    let bytes = value.as_bytes();
    let mut first17 = [0u8; 17];
    first17.copy_from_slice(&bytes[..17]);
    if !first17.iter().all(u8::is_ascii_digit) {
        return Err(id_error("前17位必须是数字"));
    }
    let last = bytes[17] as char;
    if !(last.is_ascii_digit() || last == 'X') {
        return Err(id_error("最后一位必须是数字或X"));
    }
    if birth_date_from_id(&value).is_none() {
        return Err(id_error("第7至14位不是有效的出生日期"));
    }
    if id_check_char(&first17) != last {
        return Err(id_error("校验位不符，可能有数字输错"));
    }
    Ok(value)
}

/// The birth date encoded in characters 7–14 of an identity number, if they form a real date.
pub fn birth_date_from_id(id: &str) -> Option<NaiveDate> {
    let digits = id.get(6..14)?;
    let year: i32 = digits.get(0..4)?.parse().ok()?;
    let month: u32 = digits.get(4..6)?.parse().ok()?;
    let day: u32 = digits.get(6..8)?.parse().ok()?;
    if !(1900..=2100).contains(&year) {
        return None;
    }
    NaiveDate::from_ymd_opt(year, month, day)
}

/// Checks a mainland mobile number: 11 digits starting with 1 and a second digit 3–9.
/// Spaces, dashes and a leading +86 are dropped.
pub fn mobile(input: &str) -> Result<String> {
    let mut digits: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if let Some(rest) = digits.strip_prefix("+86") {
        digits = rest.to_string();
    }
    let b = digits.as_bytes();
    let valid = b.len() == 11
        && b.iter().all(u8::is_ascii_digit)
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1]);
    if valid {
        Ok(digits)
    } else {
        Err(CoreError::InvalidPhone {
            value: input.to_string(),
        })
    }
}

/// Trims a required text field; empty input is a [`CoreError::MissingField`] naming `label`.
pub fn required(input: &str, label: &str) -> Result<String> {
    let value = input.trim();
    if value.is_empty() {
        Err(missing(label))
    } else {
        Ok(value.to_string())
    }
}

/// `text` with all but its first `head` and last `tail` characters starred (all of it when
/// it is not longer than both).
fn mask_middle(text: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    let kept = |part: &[char]| part.iter().collect::<String>();
    format!(
        "{}{}{}",
        kept(&chars[..head]),
        "*".repeat(chars.len() - head - tail),
        kept(&chars[chars.len() - tail..])
    )
}

/// Whether `c` reorders or hides the text around it (bidirectional overrides and isolates,
/// zero-width marks): text holding one can be made to look like other text.
pub fn is_direction_mark(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Masks an identity number for listings and exports: the first 6 and last 4 characters stay
/// visible.
pub fn mask_id_number(id: &str) -> String {
    mask_middle(id, 6, 4)
}

/// Masks a phone number for listings and exports: the first 3 and last 4 digits stay visible.
pub fn mask_phone(phone: &str) -> String {
    mask_middle(phone, 3, 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a valid number from 17 digits by appending the right check character.
    fn with_check(first17: &str) -> String {
        let arr: [u8; 17] = first17.as_bytes().try_into().unwrap();
        format!("{first17}{}", id_check_char(&arr))
    }

    #[test]
    fn accepts_the_gb11643_example() {
        // The worked example of GB 11643-1999.
        assert_eq!(
            id_number("11010519491231002X").unwrap(),
            "11010519491231002X"
        );
        assert_eq!(
            id_number(" 11010519491231002x ").unwrap(),
            "11010519491231002X"
        );
    }

    #[test]
    fn rejects_wrong_check_digit_length_date_and_characters() {
        assert!(
            matches!(id_number("110105194912310021"), Err(CoreError::InvalidIdNumber { reason }) if reason.contains("校验位"))
        );
        assert!(
            matches!(id_number("11010519491231002"), Err(CoreError::InvalidIdNumber { reason }) if reason.contains("18位"))
        );
        let bad_date = with_check("61050219490231002");
        assert!(
            matches!(id_number(&bad_date), Err(CoreError::InvalidIdNumber { reason }) if reason.contains("出生日期"))
        );
        assert!(id_number("61050219A9023100X2").is_err());
        assert!(id_number("张三李四王五赵六钱七孙八周九吴十郑").is_err());
        assert!(id_number("").is_err());
    }

    #[test]
    fn reads_birth_date() {
        let id = with_check("61050219380305002");
        assert_eq!(
            birth_date_from_id(&id_number(&id).unwrap()),
            NaiveDate::from_ymd_opt(1938, 3, 5)
        );
    }

    #[test]
    fn mobile_numbers() {
        assert_eq!(mobile("138 0013 8000").unwrap(), "13800138000");
        assert_eq!(mobile("+86-139-1234-5678").unwrap(), "13912345678");
        assert!(mobile("12800138000").is_err());
        assert!(mobile("1380013800").is_err());
        assert!(mobile("0913-2123456").is_err());
        assert!(mobile("一三八").is_err());
    }

    #[test]
    fn required_and_mask() {
        assert_eq!(required("  张桂兰 ", "姓名").unwrap(), "张桂兰");
        assert_eq!(
            required(" ", "姓名"),
            Err(CoreError::MissingField {
                field: "姓名".into()
            })
        );
        assert_eq!(mask_id_number("11010519491231002X"), "110105********002X");
        assert_eq!(mask_id_number("123"), "***");
        assert_eq!(mask_phone("13800138000"), "138****8000");
        assert_eq!(mask_phone("1234567"), "*******");
    }
}
