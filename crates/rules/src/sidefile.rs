//! Line handling shared by the side files (`classification.config`,
//! `reference.config`, `threshold.config`).

/// The lines that are neither blank nor comments (first non-blank
/// character `#`), with their 1-based numbers; `\r` line ends are
/// dropped. Lines ending in `\` continue on the next line when
/// `continued` is set (threshold.config), numbered by their first line.
pub(crate) fn lines(text: &str) -> impl Iterator<Item = (u32, String)> + '_ {
    logical_lines(text, false)
}

/// As [`lines`], joining backslash-continued lines.
pub(crate) fn continued_lines(text: &str) -> impl Iterator<Item = (u32, String)> + '_ {
    logical_lines(text, true)
}

fn logical_lines(text: &str, continued: bool) -> impl Iterator<Item = (u32, String)> + '_ {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut physical = text
        .lines()
        .enumerate()
        .map(|(i, l)| (u32::try_from(i + 1).unwrap_or(u32::MAX), l));
    std::iter::from_fn(move || {
        loop {
            let (n, l) = physical.next()?;
            let t = l.trim_start();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let mut joined = l.to_string();
            while continued && joined.trim_end().ends_with('\\') {
                let keep = joined.trim_end().len() - 1;
                joined.truncate(keep);
                // Bounded like Suricata's 8192-byte line buffer.
                if joined.len() > 8192 {
                    break;
                }
                match physical.next() {
                    Some((_, next)) => joined.push_str(next),
                    None => break,
                }
            }
            return Some((n, joined));
        }
    })
}

/// Strips `config <keyword>:` (any blanks around the words and the colon)
/// from the start of `s`, returning the rest.
pub(crate) fn strip_keyword<'a>(s: &'a str, keyword: &str) -> Option<&'a str> {
    let s = s.trim_start().strip_prefix("config")?.trim_start();
    let s = s.strip_prefix(keyword)?.trim_start();
    Some(s.strip_prefix(':')?.trim_start())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_blanks_and_continuations() {
        let text = "\u{feff}# c\n\n a \\\n b\r\n  # c2\nc\\\n";
        let plain: Vec<_> = lines(text).collect();
        assert_eq!(
            plain,
            vec![
                (3, " a \\".to_string()),
                (4, " b".to_string()),
                (6, "c\\".to_string())
            ]
        );
        let joined: Vec<_> = continued_lines(text).collect();
        assert_eq!(joined, vec![(3, " a  b".to_string()), (6, "c".to_string())]);
        assert_eq!(
            strip_keyword(" config  reference :  x y", "reference"),
            Some("x y")
        );
        assert_eq!(
            strip_keyword("config classification:x", "classification"),
            Some("x")
        );
        assert_eq!(strip_keyword("configure reference: x", "reference"), None);
    }
}
