//! Rule files, read line by line as Suricata's `DetectLoadSigFile`
//! (detect-engine-loader.c) does:
//!
//! - Lines starting with `#`, a space, a tab, `\r` or nothing are not
//!   rules. Suricata skips an indented rule silently; mirador reports it
//!   as [`Entry::Ignored`] so `check-rules` can count it.
//! - A line ending in `\` (trailing blanks allowed) continues on the next:
//!   the backslash goes, the next line is appended as is.
//! - A comment that parses as a rule once its leading `#`s are removed
//!   (`# alert ...`, how suricata-update disables rules) is reported as
//!   [`Entry::Disabled`].

use std::sync::Arc;

use crate::error::RuleError;
use crate::rule::{Action, MAX_RULE_LEN, Rule, Segment, parse_at};

/// One item of a rule file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// An active rule, or why it cannot be loaded.
    Rule(Result<Rule, RuleError>),
    /// A commented-out rule (`# alert ...`) that would parse.
    Disabled(Rule),
    /// A line Suricata ignores although it looks like content.
    Ignored {
        /// 1-based line.
        line: u32,
        /// Why it is ignored.
        reason: &'static str,
    },
}

/// Reason given for an indented line ([`Entry::Ignored`]).
pub const INDENTED: &str = "line starts with whitespace (Suricata ignores it)";

/// Every entry of rule file text, in order; `file` names it in errors.
///
/// ```
/// use mirador_rules::{entries, Entry};
///
/// let text = [
///     "# a comment",
///     "alert tcp any any -> any 80 (msg:\"one\"; \\",
///     "  sid:1;)",
///     "# alert udp any any -> any 53 (sid:2;)",
///     "alert tcp any any -> any any (sid:x;)",
/// ]
/// .join("\n");
/// let items: Vec<Entry> = entries("local.rules", &text).collect();
/// assert!(matches!(&items[0], Entry::Rule(Ok(r)) if r.sid == 1 && r.line == 2));
/// assert!(matches!(&items[1], Entry::Disabled(r) if r.sid == 2));
/// let Entry::Rule(Err(e)) = &items[2] else { panic!() };
/// assert_eq!(e.to_string(), "local.rules:5:31: sid: invalid value 'x'");
/// ```
pub fn entries<'a>(file: &str, text: &'a str) -> Entries<'a> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    Entries {
        file: Arc::from(file),
        rest: text,
        line: 0,
    }
}

/// The active rules of rule file text (enabled rules only, each parsed or
/// failed), in order.
pub fn parse_rules(file: &str, text: &str) -> Vec<Result<Rule, RuleError>> {
    entries(file, text)
        .filter_map(|e| match e {
            Entry::Rule(r) => Some(r),
            Entry::Disabled(_) | Entry::Ignored { .. } => None,
        })
        .collect()
}

/// Iterator over the [`Entry`]s of a rule file; see [`entries`].
#[derive(Debug, Clone)]
pub struct Entries<'a> {
    file: Arc<str>,
    rest: &'a str,
    line: u32,
}

impl<'a> Entries<'a> {
    /// The next physical line, without its `\n` or `\r\n`.
    fn next_line(&mut self) -> Option<&'a str> {
        if self.rest.is_empty() {
            return None;
        }
        self.line = self.line.saturating_add(1);
        let (line, rest) = match self.rest.find('\n') {
            Some(i) => (&self.rest[..i], &self.rest[i + 1..]),
            None => (self.rest, ""),
        };
        self.rest = rest;
        Some(line.strip_suffix('\r').unwrap_or(line))
    }

    fn file(&self) -> Option<Arc<str>> {
        Some(self.file.clone())
    }
}

impl Iterator for Entries<'_> {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        loop {
            let line = self.next_line()?;
            let first = self.line;
            match line.bytes().next() {
                None | Some(b'\r') => continue,
                Some(b'#') => {
                    if let Some(rule) = disabled_rule(line, first, self.file()) {
                        return Some(Entry::Disabled(rule));
                    }
                    continue;
                }
                Some(b' ' | b'\t') => {
                    let t = line.trim_start();
                    if t.is_empty() || t.starts_with('#') {
                        continue;
                    }
                    return Some(Entry::Ignored {
                        line: first,
                        reason: INDENTED,
                    });
                }
                Some(_) => {}
            }
            let mut text = String::new();
            let mut segments = vec![Segment {
                offset: 0,
                line: first,
                column: 1,
            }];
            let mut piece = line;
            loop {
                let Some(head) = piece.trim_end().strip_suffix('\\') else {
                    push_capped(&mut text, piece);
                    break;
                };
                push_capped(&mut text, head);
                // Keep reading the continuation past the limit, so the next
                // entry starts on the right line; the parser reports the
                // rule as too long.
                let Some(next) = self.next_line() else { break };
                if text.len() <= MAX_RULE_LEN {
                    segments.push(Segment {
                        offset: text.len(),
                        line: self.line,
                        column: 1,
                    });
                }
                piece = next;
            }
            return Some(Entry::Rule(parse_at(text, self.file(), segments)));
        }
    }
}

/// Appends `s` to a rule text, but never more than one byte past
/// [`MAX_RULE_LEN`]: enough for the parser to report the rule as too long
/// without copying a huge line.
fn push_capped(text: &mut String, s: &str) {
    let room = (MAX_RULE_LEN + 1).saturating_sub(text.len());
    let mut end = s.len().min(room);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    text.push_str(&s[..end]);
}

/// The rule in a comment line, if removing the leading `#`s and blanks
/// leaves text that starts with an action and parses.
fn disabled_rule(line: &str, number: u32, file: Option<Arc<str>>) -> Option<Rule> {
    let body = line.trim_start_matches('#').trim_start();
    if body.len() > MAX_RULE_LEN {
        return None;
    }
    let word = body.split(|c: char| c.is_ascii_whitespace()).next()?;
    Action::parse(word)?;
    // Column numbers stay those of the file line.
    let column =
        u32::try_from(line[..line.len() - body.len()].chars().count() + 1).unwrap_or(u32::MAX);
    parse_at(
        body.to_string(),
        file,
        vec![Segment {
            offset: 0,
            line: number,
            column,
        }],
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(text: &str) -> Vec<Entry> {
        entries("t.rules", text).collect()
    }

    #[test]
    fn comments_blank_and_indented_lines() {
        let text = "\n# just a comment\n#alert is not a rule here\n   \n\talert tcp any any -> any any (sid:1;)\n  # indented comment\r\n";
        let got = items(text);
        assert_eq!(
            got,
            vec![Entry::Ignored {
                line: 5,
                reason: INDENTED
            }]
        );
    }

    #[test]
    fn multi_line_rules_keep_their_lines() {
        let text = "alert tcp any any -> any any (msg:\"x\"; \\\n    content:\"a\"; \\  \r\n  sid:1;)\nalert tcp any any -> any any (sid:2;)\n";
        let got = parse_rules("t.rules", text);
        let r = got[0].as_ref().unwrap();
        assert_eq!(r.line, 1);
        assert_eq!(
            r.text,
            "alert tcp any any -> any any (msg:\"x\";     content:\"a\";   sid:1;)"
        );
        assert_eq!(r.location(r.options[1].span.start), (2, 5));
        assert_eq!(r.location(r.options[2].span.start), (3, 3));
        assert_eq!(got[1].as_ref().unwrap().line, 4);

        let text = "alert tcp any any -> any any (msg:\"x\"; \\\n  sid:0;)\n";
        let e = parse_rules("t.rules", text).pop().unwrap().unwrap_err();
        assert_eq!(e.to_string(), "t.rules:2:3: sid: invalid value '0'");
    }

    #[test]
    fn continuation_at_end_of_file() {
        let got = parse_rules("t.rules", "alert tcp any any -> any any (sid:1;) \\");
        assert!(got[0].is_ok());
    }

    #[test]
    fn disabled_rules() {
        let text = "# alert tcp any any -> any any (msg:\"off\"; sid:7;)\n##alert udp any any -> any any (sid:8;)\n# alert is on\n";
        let got = items(text);
        assert_eq!(got.len(), 2);
        let Entry::Disabled(r) = &got[0] else {
            panic!("{got:?}")
        };
        assert_eq!((r.sid, r.line, r.msg.as_deref()), (7, 1, Some("off")));
        assert_eq!(r.text, "alert tcp any any -> any any (msg:\"off\"; sid:7;)");
        assert_eq!(
            &r.text[r.options[1].span.start..r.options[1].span.end],
            "sid:7"
        );
        assert_eq!(r.location(r.options[1].span.start), (1, 44));
        assert!(matches!(&got[1], Entry::Disabled(r) if r.sid == 8));
    }

    #[test]
    fn long_rules_are_errors_and_do_not_desync() {
        let long = format!(
            "alert tcp any any -> any any (content:\"{}\"; sid:1;)\n",
            "a".repeat(MAX_RULE_LEN)
        );
        let mut text = long.clone();
        text.push_str("alert tcp any any -> any any (sid:2;)\n");
        let got = parse_rules("t.rules", &text);
        assert_eq!(got[0].as_ref().unwrap_err().kind, crate::ErrorKind::TooLong);
        assert_eq!(got[1].as_ref().unwrap().line, 2);
        // A huge continued rule is consumed whole.
        let cont = format!(
            "alert tcp any any -> any any (content:\"x\"; \\\n{}",
            "a\\\n".repeat(10_000)
        );
        let text = format!("{cont}x;)\nalert tcp any any -> any any (sid:3;)\n");
        let got = parse_rules("t.rules", &text);
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].as_ref().unwrap().line, 10_003);
    }
}
