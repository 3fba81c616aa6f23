//! Negation and quotation scope, in the spirit of NegEx (Chapman et al., 2001): a keyword
//! that a warning negates or quotes is evidence of the warning, not of the scam.
//!
//! The cues are data, three lexicons of the rule set (see [`super::lexicon::SCOPE_LEXICONS`]):
//!
//! - `@negation`: a cue whose scope runs forward to the end of its clause (`不会`, `请勿`,
//!   `千万别`, `谨防`, ...). In `工作人员不会要求您提供银行卡号或验证码`, everything after `不会`
//!   is in scope.
//! - `@negation_after`: a cue whose scope runs back to the start of its clause (`是诈骗`,
//!   `不要相信`): in `转账到安全账户是诈骗`, `安全账户` is in scope.
//! - `@quote_warning`: markers of a warning (`不法分子`, `冒充`, `谎称`, ...). When a message has
//!   one, text in quotation marks (`“”` `‘’` `「」` `『』` `""` `＂＂`) is a quotation of the
//!   scam: `冒充快递客服称“包裹检测阳性可理赔”`.
//!
//! A clause ends at `，。！？；` (and their ASCII forms), a line break, or a `.` not followed
//! by a letter or digit (so links and decimals do not end one). `、` does not end a clause:
//! an enumeration stays in scope. A keyword that contains the cue is not in the cue's scope
//! (a rule may name `不要告诉家人` on purpose).
//!
//! Scopes are computed on the ORIGINAL text, where quotation marks and full stops are still
//! what the sender wrote (the normaliser turns `。` into `.` and drops `"` between CJK text).

/// Role bit of a keyword of `@negation`.
pub(crate) const NEGATION_FORWARD: u8 = 1;
/// Role bit of a keyword of `@negation_after`.
pub(crate) const NEGATION_BACKWARD: u8 = 2;
/// Role bit of a keyword of `@quote_warning`.
pub(crate) const QUOTE_WARNING: u8 = 4;

/// Cue occurrences of one message, as original byte spans.
#[derive(Debug, Default)]
pub(crate) struct Cues {
    pub forward: Vec<(u32, u32)>,
    pub backward: Vec<(u32, u32)>,
    pub quote_warning: bool,
}

impl Cues {
    pub fn add(&mut self, role: u8, start: u32, end: u32) {
        if role & NEGATION_FORWARD != 0 {
            self.forward.push((start, end));
        }
        if role & NEGATION_BACKWARD != 0 {
            self.backward.push((start, end));
        }
        if role & QUOTE_WARNING != 0 {
            self.quote_warning = true;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.forward.is_empty() && self.backward.is_empty() && !self.quote_warning
    }
}

/// The reach of every cue of one message.
#[derive(Debug)]
pub(crate) struct Scopes<'a> {
    cues: &'a Cues,
    /// Original byte offsets of clause-ending characters, ascending.
    clause_ends: Vec<u32>,
    /// Quoted stretches (inside the marks), when the message has a quote-warning marker.
    quotes: Vec<(u32, u32)>,
}

impl<'a> Scopes<'a> {
    pub fn new(original: &str, cues: &'a Cues) -> Scopes<'a> {
        let mut clause_ends = Vec::new();
        let mut quotes = Vec::new();
        let mut open: Vec<(char, u32)> = Vec::new();
        let mut chars = original.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            let next = chars.peek().map(|&(_, n)| n);
            if is_clause_end(c, next) {
                clause_ends.push(i as u32);
            }
            if !cues.quote_warning {
                continue;
            }
            let inner = (i + c.len_utf8()) as u32;
            match c {
                '“' | '‘' | '「' | '『' => open.push((c, inner)),
                '”' | '’' | '」' | '』' => {
                    let want = match c {
                        '”' => '“',
                        '’' => '‘',
                        '」' => '「',
                        _ => '『',
                    };
                    if let Some(pos) = open.iter().rposition(|&(o, _)| o == want) {
                        let (_, s) = open[pos];
                        open.truncate(pos);
                        quotes.push((s, i as u32));
                    }
                }
                '"' | '＂' => match open.iter().rposition(|&(o, _)| o == '"') {
                    Some(pos) => {
                        let (_, s) = open[pos];
                        open.truncate(pos);
                        quotes.push((s, i as u32));
                    }
                    None => open.push(('"', inner)),
                },
                _ => {}
            }
        }
        Scopes {
            cues,
            clause_ends,
            quotes,
        }
    }

    /// The clause a position belongs to: how many clause ends come before it.
    fn clause(&self, pos: u32) -> usize {
        self.clause_ends.partition_point(|&e| e < pos)
    }

    /// Whether the original span `start..end` is negated or quoted by a warning.
    pub fn negates(&self, start: u32, end: u32) -> bool {
        // After a forward cue in its clause, or inside the cue past its first character: the
        // `缴纳` of `无需缴纳` is denied by the cue it is part of.
        let forward = self.cues.forward.iter().any(|&(cs, ce)| {
            (ce <= start && self.clause(ce) == self.clause(start)) || (cs < start && end <= ce)
        });
        let backward = || {
            self.cues
                .backward
                .iter()
                .any(|&(cs, _)| end <= cs && self.clause(end) == self.clause(cs))
        };
        let quoted = || self.quotes.iter().any(|&(qs, qe)| qs <= start && end <= qe);
        forward || backward() || quoted()
    }
}

fn is_clause_end(c: char, next: Option<char>) -> bool {
    match c {
        '，' | '。' | '！' | '？' | '；' | '｡' | ',' | '!' | '?' | ';' | '\n' | '\r' => true,
        // Not in a link or a number, nor in a word spread apart with dots (`无.需.缴.纳`).
        '.' | '．' => !next.is_some_and(|n| n.is_ascii_alphanumeric() || crate::chars::is_cjk(n)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds the cues of `text` from literal cue strings and asks about `target`'s first
    /// occurrence.
    fn negated(
        text: &str,
        forward: &[&str],
        backward: &[&str],
        quote: &[&str],
        target: &str,
    ) -> bool {
        let mut cues = Cues::default();
        for (list, role) in [
            (forward, NEGATION_FORWARD),
            (backward, NEGATION_BACKWARD),
            (quote, QUOTE_WARNING),
        ] {
            for cue in list {
                for (i, _) in text.match_indices(cue) {
                    cues.add(role, i as u32, (i + cue.len()) as u32);
                }
            }
        }
        let s = text.find(target).expect("target in text");
        Scopes::new(text, &cues).negates(s as u32, (s + target.len()) as u32)
    }

    /// `t!(name, text, forward cues, backward cues, quote markers, target, negated?)`
    macro_rules! t {
        ($name:ident, $text:expr, $f:expr, $b:expr, $q:expr, $target:expr, $want:expr) => {
            #[test]
            fn $name() {
                assert_eq!(negated($text, $f, $b, $q, $target), $want, "{:?}", $text);
            }
        };
    }

    const NEG: &[&str] = &["不会", "请勿", "千万别", "不要"];
    const AFTER: &[&str] = &["是诈骗"];
    const MARK: &[&str] = &["冒充", "不法分子"];

    t!(
        forward_same_clause,
        "工作人员不会要求您提供银行卡号或验证码",
        NEG,
        &[],
        &[],
        "验证码",
        true
    );
    t!(
        forward_enumeration_stays,
        "不会要求您提供银行卡号、验证码",
        NEG,
        &[],
        &[],
        "验证码",
        true
    );
    t!(
        forward_stops_at_comma,
        "请勿外传，把验证码告诉我",
        NEG,
        &[],
        &[],
        "验证码",
        false
    );
    t!(
        forward_stops_at_fullwidth_stop,
        "千万别慌。请提供验证码",
        NEG,
        &[],
        &[],
        "验证码",
        false
    );
    t!(
        forward_stops_at_ascii_comma,
        "不要慌,请提供验证码",
        NEG,
        &[],
        &[],
        "验证码",
        false
    );
    t!(
        forward_stops_at_semicolon,
        "不要慌；请提供验证码",
        NEG,
        &[],
        &[],
        "验证码",
        false
    );
    t!(
        forward_stops_at_question,
        "不会吧？请提供验证码",
        NEG,
        &[],
        &[],
        "验证码",
        false
    );
    t!(
        forward_stops_at_newline,
        "不要慌\n请提供验证码",
        NEG,
        &[],
        &[],
        "验证码",
        false
    );
    t!(
        forward_not_backward,
        "请提供验证码，不要告诉别人",
        NEG,
        &[],
        &[],
        "验证码",
        false
    );
    t!(
        link_dot_does_not_end,
        "请勿点击abc.cn领取补贴",
        NEG,
        &[],
        &[],
        "补贴",
        true
    );
    t!(
        stop_after_link_ends,
        "请勿点击abc.cn. 领取补贴",
        NEG,
        &[],
        &[],
        "补贴",
        false
    );
    t!(
        backward_same_clause,
        "转账到安全账户是诈骗",
        &[],
        AFTER,
        &[],
        "安全账户",
        true
    );
    t!(
        backward_stops_at_comma,
        "转账到安全账户，是诈骗",
        &[],
        AFTER,
        &[],
        "安全账户",
        false
    );
    t!(
        quote_after_marker,
        "不法分子冒充客服称“包裹检测阳性可理赔”，请勿相信",
        &[],
        &[],
        MARK,
        "理赔",
        true
    );
    t!(
        corner_quote,
        "有人冒充疾控称「你是密接」",
        &[],
        &[],
        MARK,
        "密接",
        true
    );
    t!(
        ascii_quote,
        "有人冒充客服说\"包裹阳性\"",
        &[],
        &[],
        MARK,
        "阳性",
        true
    );
    t!(
        quote_without_marker,
        "客服称“包裹检测阳性可理赔”",
        &[],
        &[],
        &[],
        "理赔",
        false
    );
    t!(
        outside_quote,
        "冒充客服称“包裹异常”可理赔",
        &[],
        &[],
        MARK,
        "理赔",
        false
    );
    t!(
        inside_a_forward_cue,
        "隔离期满，无需缴纳任何费用",
        &["无需缴纳"],
        &[],
        &[],
        "缴纳",
        true
    );
    t!(
        a_forward_cue_does_not_deny_its_own_start,
        "不要转账给陌生人",
        &["不要转账"],
        &[],
        &[],
        "不要",
        false
    );
    t!(
        unclosed_quote,
        "冒充客服称“包裹异常可理赔",
        &[],
        &[],
        MARK,
        "理赔",
        false
    );
}
