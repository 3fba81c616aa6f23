//! What kind of sender a message came from: a signal for the model, never logged.

/// The kind of a sender id, as a gateway reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SenderKind {
    /// No sender given.
    Unknown,
    /// Carrier short code (3 to 6 digits: 10086, 95588).
    ShortCode,
    /// Service number: 106xxxx bulk-SMS ports and 95xxx/96xxx service lines.
    ServiceNumber,
    /// A personal mainland mobile number (1[3-9]x, 11 digits, optionally +86).
    Mobile,
    /// A number with an international prefix other than +86.
    International,
    /// Letters in the sender id (alphanumeric sender).
    Alphanumeric,
    /// Digits that fit none of the above (landlines, odd lengths).
    OtherNumber,
}

impl SenderKind {
    pub const ALL: [SenderKind; 7] = [
        SenderKind::Unknown,
        SenderKind::ShortCode,
        SenderKind::ServiceNumber,
        SenderKind::Mobile,
        SenderKind::International,
        SenderKind::Alphanumeric,
        SenderKind::OtherNumber,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SenderKind::Unknown => "unknown",
            SenderKind::ShortCode => "short_code",
            SenderKind::ServiceNumber => "service_number",
            SenderKind::Mobile => "mobile",
            SenderKind::International => "international",
            SenderKind::Alphanumeric => "alphanumeric",
            SenderKind::OtherNumber => "other_number",
        }
    }

    /// Classifies a sender id. Spaces and dashes inside numbers are ignored.
    pub fn of(sender: Option<&str>) -> SenderKind {
        let Some(raw) = sender.map(str::trim).filter(|s| !s.is_empty()) else {
            return SenderKind::Unknown;
        };
        let s: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
            .collect();
        if s.chars().any(|c| c.is_alphabetic()) {
            return SenderKind::Alphanumeric;
        }
        let (international, digits) = if let Some(rest) = s.strip_prefix('+') {
            (true, rest)
        } else if let Some(rest) = s.strip_prefix("00") {
            (true, rest)
        } else {
            (false, s.as_str())
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return SenderKind::OtherNumber;
        }
        let national = match digits.strip_prefix("86") {
            Some(rest) if international => rest,
            _ if international => return SenderKind::International,
            _ => digits,
        };
        let b = national.as_bytes();
        if b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) {
            SenderKind::Mobile
        } else if (national.starts_with("106") && b.len() >= 7)
            || ((national.starts_with("95") || national.starts_with("96"))
                && (5..=8).contains(&b.len()))
        {
            SenderKind::ServiceNumber
        } else if (3..=6).contains(&b.len()) {
            SenderKind::ShortCode
        } else {
            SenderKind::OtherNumber
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SenderKind::{self, *};

    #[test]
    fn kinds() {
        let cases: &[(Option<&str>, SenderKind)] = &[
            (None, Unknown),
            (Some(""), Unknown),
            (Some("10086"), ShortCode),
            (Some("95588"), ServiceNumber),
            (Some("1069012345678"), ServiceNumber),
            (Some("13812345678"), Mobile),
            (Some("+86 138-1234-5678"), Mobile),
            (Some("+85291234567"), International),
            (Some("0044201234567"), International),
            (Some("SFEXPRESS"), Alphanumeric),
            (Some("02012345678"), OtherNumber),
        ];
        for (input, kind) in cases {
            assert_eq!(SenderKind::of(*input), *kind, "{input:?}");
        }
    }
}
