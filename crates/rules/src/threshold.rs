//! `threshold.config`: global `threshold`, `event_filter`, `suppress` and
//! `rate_filter` entries, parsed as Suricata's util-threshold-config.c
//! does:
//!
//! ```text
//! threshold    gen_id G, sig_id S, type limit|threshold|both, track by_src|by_dst|by_rule|by_both, count N, seconds T
//! event_filter gen_id G, sig_id S, type ..., track ..., count N, seconds T
//! suppress     gen_id G, sig_id S[, track by_src|by_dst|by_either, ip ADDRESS-EXPRESSION]
//! rate_filter  gen_id G, sig_id S, track ..., count N, seconds T, new_action A, timeout T
//! ```
//!
//! The fields come in this order, as Suricata's regexes require. `gen_id
//! 0`/`sig_id 0` mean "every"; `sig_id` > 0 with `gen_id 0` is an error.
//! Lines ending in `\` continue on the next line. `rate_filter` is parsed
//! but mirador does not apply it ([`ThresholdEntry::is_supported`]).

use std::sync::Arc;

use crate::addr::AddrExpr;
use crate::error::{SideFileError, quote};
use crate::sidefile::continued_lines;

/// How a threshold counts (`type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ThresholdType {
    /// `limit`: alert at most `count` times per `seconds`.
    Limit,
    /// `threshold`: alert every `count`-th match per `seconds`.
    Threshold,
    /// `both`: alert once per `seconds`, after `count` matches.
    Both,
}

/// What a threshold counts by (`track`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Track {
    /// `by_src`: per source address.
    BySrc,
    /// `by_dst`: per destination address.
    ByDst,
    /// `by_rule`: per rule, whatever the hosts.
    ByRule,
    /// `by_both`: per source and destination pair.
    ByBoth,
}

/// Which address a `suppress` matches (`track`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SuppressTrack {
    /// `by_src`: the source is in `ip`.
    BySrc,
    /// `by_dst`: the destination is in `ip`.
    ByDst,
    /// `by_either`: either one is in `ip`.
    ByEither,
}

/// A `threshold` or `event_filter` entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ThresholdSpec {
    /// `gen_id` (0: every gid).
    pub gen_id: u32,
    /// `sig_id` (0: every sid).
    pub sig_id: u32,
    /// `type`.
    pub kind: ThresholdType,
    /// `track`.
    pub track: Track,
    /// `count`.
    pub count: u32,
    /// `seconds`.
    pub seconds: u32,
}

/// A `suppress` entry: no alerts from the rule(s), or none for the given
/// addresses.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Suppress {
    /// `gen_id` (0: every gid).
    pub gen_id: u32,
    /// `sig_id` (0: every sid).
    pub sig_id: u32,
    /// `track` and `ip`; `None` suppresses every alert of the rule(s).
    pub only: Option<(SuppressTrack, AddrExpr)>,
}

/// A `rate_filter` entry (parsed, not applied).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RateFilter {
    /// `gen_id`.
    pub gen_id: u32,
    /// `sig_id`.
    pub sig_id: u32,
    /// `track`.
    pub track: Track,
    /// `count`.
    pub count: u32,
    /// `seconds`.
    pub seconds: u32,
    /// `new_action`: alert, drop, pass, log, sdrop or reject.
    pub new_action: String,
    /// `timeout`.
    pub timeout: u32,
}

/// One entry of `threshold.config`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ThresholdEntry {
    /// `threshold ...`.
    Threshold(ThresholdSpec),
    /// `event_filter ...` (same fields as `threshold`).
    EventFilter(ThresholdSpec),
    /// `suppress ...`.
    Suppress(Suppress),
    /// `rate_filter ...`.
    RateFilter(RateFilter),
}

impl ThresholdEntry {
    /// Whether mirador applies this entry (`rate_filter` is IPS-only in
    /// effect and not supported: report it, don't apply it).
    pub fn is_supported(&self) -> bool {
        !matches!(self, ThresholdEntry::RateFilter(_))
    }

    /// The entry's keyword (`threshold`, `event_filter`, ...).
    pub fn keyword(&self) -> &'static str {
        match self {
            ThresholdEntry::Threshold(_) => "threshold",
            ThresholdEntry::EventFilter(_) => "event_filter",
            ThresholdEntry::Suppress(_) => "suppress",
            ThresholdEntry::RateFilter(_) => "rate_filter",
        }
    }

    /// The `(gen_id, sig_id)` the entry applies to.
    pub fn ids(&self) -> (u32, u32) {
        match self {
            ThresholdEntry::Threshold(t) | ThresholdEntry::EventFilter(t) => (t.gen_id, t.sig_id),
            ThresholdEntry::Suppress(s) => (s.gen_id, s.sig_id),
            ThresholdEntry::RateFilter(r) => (r.gen_id, r.sig_id),
        }
    }
}

/// One parsed line of `threshold.config`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ThresholdLine {
    /// 1-based line (the first of a continued entry).
    pub line: u32,
    /// The entry.
    pub entry: ThresholdEntry,
}

/// Parses `threshold.config` text: one result per entry.
pub fn parse_threshold_config(file: &str, text: &str) -> Vec<Result<ThresholdLine, SideFileError>> {
    let file: Arc<str> = Arc::from(file);
    continued_lines(text)
        .map(|(line, s)| {
            parse_entry(&s)
                .map(|entry| ThresholdLine { line, entry })
                .map_err(|message| SideFileError {
                    file: file.clone(),
                    line,
                    message,
                })
        })
        .collect()
}

/// Splits on commas outside `[...]`, trimming each part; also returns
/// where each part starts in `s`.
fn split_fields(s: &str) -> (Vec<&str>, Vec<usize>) {
    let mut parts = Vec::new();
    let mut starts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ',' if depth <= 0 => {
                parts.push(s[start..i].trim());
                starts.push(start);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(s[start..].trim());
    starts.push(start);
    (parts, starts)
}

/// `key value` in a field, with the key checked.
fn field<'a>(part: Option<&&'a str>, key: &str) -> Result<&'a str, String> {
    let part = part.ok_or_else(|| format!("missing '{key}'"))?;
    let rest = part
        .strip_prefix(key)
        .filter(|r| r.is_empty() || r.starts_with(char::is_whitespace))
        .ok_or_else(|| format!("expected '{key}', got {}", quote(part)))?;
    let value = rest.trim();
    if value.is_empty() {
        return Err(format!("missing value for '{key}'"));
    }
    Ok(value)
}

fn number(part: Option<&&str>, key: &str) -> Result<u32, String> {
    let v = field(part, key)?;
    if !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("invalid {key} {}", quote(v)));
    }
    v.parse()
        .map_err(|_| format!("{key} {} is too large", quote(v)))
}

fn track(v: &str) -> Result<Track, String> {
    Ok(match v {
        "by_src" => Track::BySrc,
        "by_dst" => Track::ByDst,
        "by_rule" => Track::ByRule,
        "by_both" => Track::ByBoth,
        _ => {
            return Err(format!(
                "invalid track {}, expected by_src, by_dst, by_rule or by_both",
                quote(v)
            ));
        }
    })
}

fn no_more(parts: &[&str], used: usize) -> Result<(), String> {
    match parts.get(used) {
        Some(extra) => Err(format!("unexpected {}", quote(extra))),
        None => Ok(()),
    }
}

fn parse_entry(s: &str) -> Result<ThresholdEntry, String> {
    let s = s.trim();
    let (keyword, rest) = s.split_once(char::is_whitespace).unwrap_or((s, ""));
    if !matches!(
        keyword,
        "threshold" | "event_filter" | "suppress" | "rate_filter"
    ) {
        return Err(format!(
            "unknown entry {}, expected threshold, event_filter, suppress or rate_filter",
            quote(keyword)
        ));
    }
    let rest = rest.trim();
    let (parts, starts) = split_fields(rest);
    let gen_id = number(parts.first(), "gen_id")?;
    let sig_id = number(parts.get(1), "sig_id")?;
    if sig_id > 0 && gen_id == 0 {
        return Err("sig_id > 0 needs gen_id > 0".to_string());
    }
    match keyword {
        "threshold" | "event_filter" => {
            let kind = match field(parts.get(2), "type")? {
                "limit" => ThresholdType::Limit,
                "threshold" => ThresholdType::Threshold,
                "both" => ThresholdType::Both,
                other => {
                    return Err(format!(
                        "invalid type {}, expected limit, threshold or both",
                        quote(other)
                    ));
                }
            };
            let spec = ThresholdSpec {
                gen_id,
                sig_id,
                kind,
                track: track(field(parts.get(3), "track")?)?,
                count: number(parts.get(4), "count")?,
                seconds: number(parts.get(5), "seconds")?,
            };
            no_more(&parts, 6)?;
            Ok(if keyword == "threshold" {
                ThresholdEntry::Threshold(spec)
            } else {
                ThresholdEntry::EventFilter(spec)
            })
        }
        "suppress" => {
            if parts.len() == 2 {
                return Ok(ThresholdEntry::Suppress(Suppress {
                    gen_id,
                    sig_id,
                    only: None,
                }));
            }
            let t = match field(parts.get(2), "track")? {
                "by_src" => SuppressTrack::BySrc,
                "by_dst" => SuppressTrack::ByDst,
                "by_either" => SuppressTrack::ByEither,
                other => {
                    return Err(format!(
                        "invalid track {}, expected by_src, by_dst or by_either",
                        quote(other)
                    ));
                }
            };
            // The address expression may hold commas: take the rest.
            let start = *starts.get(3).ok_or_else(|| "missing 'ip'".to_string())?;
            let ip_text = field(Some(&rest[start..].trim()), "ip")?;
            let ip = AddrExpr::parse(ip_text).map_err(|e| format!("ip: {e}"))?;
            Ok(ThresholdEntry::Suppress(Suppress {
                gen_id,
                sig_id,
                only: Some((t, ip)),
            }))
        }
        // "rate_filter", the one keyword left.
        _ => {
            let t = track(field(parts.get(2), "track")?)?;
            let count = number(parts.get(3), "count")?;
            let seconds = number(parts.get(4), "seconds")?;
            let new_action = field(parts.get(5), "new_action")?;
            if !matches!(
                new_action,
                "alert" | "drop" | "pass" | "log" | "sdrop" | "reject"
            ) {
                return Err(format!("invalid new_action {}", quote(new_action)));
            }
            let timeout = number(parts.get(6), "timeout")?;
            no_more(&parts, 7)?;
            Ok(ThresholdEntry::RateFilter(RateFilter {
                gen_id,
                sig_id,
                track: t,
                count,
                seconds,
                new_action: new_action.to_string(),
                timeout,
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(s: &str) -> Result<ThresholdEntry, String> {
        parse_entry(s)
    }

    #[test]
    fn entries() {
        assert_eq!(
            one(
                "threshold gen_id 1, sig_id 2000328, type limit, track by_src, count 1, seconds 60"
            ),
            Ok(ThresholdEntry::Threshold(ThresholdSpec {
                gen_id: 1,
                sig_id: 2_000_328,
                kind: ThresholdType::Limit,
                track: Track::BySrc,
                count: 1,
                seconds: 60
            }))
        );
        let e = one("event_filter gen_id 1,sig_id 0,type both,track by_rule,count 10,seconds 3600")
            .unwrap();
        assert!(matches!(
            e,
            ThresholdEntry::EventFilter(ThresholdSpec {
                kind: ThresholdType::Both,
                track: Track::ByRule,
                ..
            })
        ));
        assert_eq!(
            one("suppress gen_id 1, sig_id 2"),
            Ok(ThresholdEntry::Suppress(Suppress {
                gen_id: 1,
                sig_id: 2,
                only: None
            }))
        );
        let e = one(
            "suppress gen_id 1, sig_id 2, track by_either, ip [10.0.0.0/8, $HOME_NET, fe80::/10]",
        )
        .unwrap();
        let ThresholdEntry::Suppress(Suppress {
            only: Some((SuppressTrack::ByEither, ip)),
            ..
        }) = e
        else {
            panic!("{e:?}")
        };
        assert_eq!(ip.to_string(), "[10.0.0.0/8,$HOME_NET,fe80::/10]");
        let e = one("rate_filter gen_id 1, sig_id 1000, track by_rule, count 100, seconds 60, new_action drop, timeout 30").unwrap();
        assert!(!e.is_supported());
        assert_eq!((e.keyword(), e.ids()), ("rate_filter", (1, 1000)));
    }

    #[test]
    fn errors() {
        for (bad, why) in [
            (
                "threshold gen_id 1, sig_id 2, type limit, track by_src, count 1",
                "missing 'seconds'",
            ),
            (
                "threshold gen_id 1, sig_id 2, track by_src, type limit, count 1, seconds 1",
                "expected 'type'",
            ),
            (
                "threshold gen_id 1, sig_id 2, type sometimes, track by_src, count 1, seconds 1",
                "invalid type",
            ),
            (
                "threshold gen_id 0, sig_id 2, type limit, track by_src, count 1, seconds 1",
                "needs gen_id",
            ),
            ("threshold gen_id x, sig_id 2", "invalid gen_id"),
            ("suppress gen_id 1, sig_id 2, track by_src", "missing 'ip'"),
            (
                "suppress gen_id 1, sig_id 2, track by_src, ip [1.2.3.4",
                "ip: missing ']'",
            ),
            (
                "suppress gen_id 1, sig_id 2, track by_rule, ip 1.2.3.4",
                "invalid track",
            ),
            ("limit gen_id 1, sig_id 2", "unknown entry"),
            (
                "threshold gen_id 1, sig_id 2, type limit, track by_src, count 1, seconds 1, extra",
                "unexpected",
            ),
        ] {
            let e = one(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn file_with_comments_and_continuation() {
        let text =
            "# global\nsuppress gen_id 1, sig_id 2 \\\n  , track by_src, ip 1.2.3.4\n\nbogus\n";
        let out = parse_threshold_config("threshold.config", text);
        assert_eq!(out.len(), 2);
        let ok = out[0].as_ref().unwrap();
        assert_eq!(ok.line, 2);
        assert!(matches!(
            ok.entry,
            ThresholdEntry::Suppress(Suppress { only: Some(_), .. })
        ));
        let err = out[1].as_ref().unwrap_err();
        assert_eq!(err.line, 5);
        assert!(err.to_string().starts_with("threshold.config:5: "), "{err}");
    }
}
