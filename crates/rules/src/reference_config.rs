//! `reference.config`: `config reference: system url` lines, parsed as
//! Suricata's util-reference-config.c does (its regex
//! `^\s*config\s+reference\s*:\s*([a-zA-Z][a-zA-Z0-9-_]*)\s+(.+)\s*$`):
//! system names are matched case-insensitively, the first definition wins.

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::{SideFileError, quote};
use crate::sidefile::{lines, strip_keyword};

/// The `config reference:` lines of Suricata's default
/// `etc/reference.config`, in order.
pub const DEFAULT_REFERENCE_CONFIG: &str = "\
config reference: bugtraq   http://www.securityfocus.com/bid/
config reference: bid\t    http://www.securityfocus.com/bid/
config reference: cve       http://cve.mitre.org/cgi-bin/cvename.cgi?name=
config reference: secunia   http://www.secunia.com/advisories/
config reference: arachNIDS http://www.whitehats.com/info/IDS
config reference: McAfee    http://vil.nai.com/vil/content/v_
config reference: nessus    http://cgi.nessus.org/plugins/dump.php3?id=
config reference: url       http://
config reference: et        http://doc.emergingthreats.net/
config reference: etpro     http://doc.emergingthreatspro.com/
config reference: telus     http://
config reference: osvdb     http://osvdb.org/show/osvdb/
config reference: threatexpert http://www.threatexpert.com/report.aspx?md5=
config reference: md5\t    http://www.threatexpert.com/report.aspx?md5=
config reference: exploitdb http://www.exploit-db.com/exploits/
config reference: openpacket https://www.openpacket.org/capture/grab/
config reference: securitytracker http://securitytracker.com/id?
config reference: secunia   http://secunia.com/advisories/
config reference: xforce    http://xforce.iss.net/xforce/xfdb/
config reference: msft      http://technet.microsoft.com/security/bulletin/
";

/// One reference system.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReferenceSystem {
    /// The name rules use in `reference:name,id`, lowercased.
    pub name: String,
    /// The URL prefix the id is appended to.
    pub url: String,
    /// 1-based line it was read from.
    pub line: u32,
}

/// Parses `reference.config` text: one result per non-comment line.
pub fn parse_reference_config(
    file: &str,
    text: &str,
) -> Vec<Result<ReferenceSystem, SideFileError>> {
    let file: Arc<str> = Arc::from(file);
    lines(text)
        .map(|(line, s)| {
            parse_line(&s)
                .map(|(name, url)| ReferenceSystem { name, url, line })
                .map_err(|message| SideFileError {
                    file: file.clone(),
                    line,
                    message,
                })
        })
        .collect()
}

fn parse_line(s: &str) -> Result<(String, String), String> {
    let bad = || {
        format!(
            "invalid reference {}, expected 'config reference: system url'",
            quote(s.trim())
        )
    };
    let rest = strip_keyword(s, "reference").ok_or_else(bad)?;
    let (name, url) = rest.split_once([' ', '\t']).ok_or_else(bad)?;
    let b = name.as_bytes();
    let name_ok = b.first().is_some_and(u8::is_ascii_alphabetic)
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_');
    let url = url.trim();
    if !name_ok {
        return Err(format!("invalid reference system name {}", quote(name)));
    }
    if url.is_empty() {
        return Err(bad());
    }
    Ok((name.to_ascii_lowercase(), url.to_string()))
}

/// A loaded reference table, looked up case-insensitively.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReferenceSystems {
    entries: Vec<ReferenceSystem>,
    index: HashMap<String, usize>,
}

impl ReferenceSystems {
    /// Suricata's default table ([`DEFAULT_REFERENCE_CONFIG`]).
    pub fn suricata_default() -> ReferenceSystems {
        ReferenceSystems::from_config("reference.config", DEFAULT_REFERENCE_CONFIG).0
    }

    /// Loads `reference.config` text, keeping the valid lines (the first
    /// definition of a name wins) and returning the invalid ones.
    pub fn from_config(file: &str, text: &str) -> (ReferenceSystems, Vec<SideFileError>) {
        let mut table = ReferenceSystems::default();
        let mut errors = Vec::new();
        for r in parse_reference_config(file, text) {
            match r {
                Ok(s) => {
                    if !table.index.contains_key(&s.name) {
                        table.index.insert(s.name.clone(), table.entries.len());
                        table.entries.push(s);
                    }
                }
                Err(e) => errors.push(e),
            }
        }
        (table, errors)
    }

    /// The system named `name`, case-insensitively.
    pub fn get(&self, name: &str) -> Option<&ReferenceSystem> {
        self.index
            .get(&name.to_ascii_lowercase())
            .map(|&i| &self.entries[i])
    }

    /// The URL of reference `id` in system `system` (`url` + `id`), if the
    /// system is known.
    pub fn url(&self, system: &str, id: &str) -> Option<String> {
        self.get(system).map(|s| format!("{}{id}", s.url))
    }

    /// Every system, in file order.
    pub fn iter(&self) -> impl Iterator<Item = &ReferenceSystem> {
        self.entries.iter()
    }

    /// How many systems.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_table() {
        let t = ReferenceSystems::suricata_default();
        // 20 lines, `secunia` twice: the first wins.
        assert_eq!(t.len(), 19);
        assert_eq!(
            t.get("SECUNIA").unwrap().url,
            "http://www.secunia.com/advisories/"
        );
        assert_eq!(t.get("mcafee").unwrap().name, "mcafee");
        assert_eq!(
            t.url("cve", "2024-1234").unwrap(),
            "http://cve.mitre.org/cgi-bin/cvename.cgi?name=2024-1234"
        );
        assert_eq!(
            t.url("url", "example.com/x").unwrap(),
            "http://example.com/x"
        );
    }

    #[test]
    fn errors_name_lines() {
        let (t, errs) = ReferenceSystems::from_config(
            "r.config",
            "config reference: ok http://x/\nconfig reference: nourl\nconfig reference: 9x http://y/\n",
        );
        assert_eq!(t.len(), 1);
        assert_eq!(errs.len(), 2);
        assert_eq!(errs[0].line, 2);
        assert!(
            errs[1]
                .to_string()
                .starts_with("r.config:3: invalid reference system name '9x'"),
            "{}",
            errs[1]
        );
    }
}
