//! `classification.config`: `config classification: name,description,priority`
//! lines, parsed as Suricata's util-classification-config.c does (its
//! regex `^\s*config\s*classification\s*:\s*([a-zA-Z][a-zA-Z0-9-_]*)\s*,\s*(.+)\s*,\s*(\d+)\s*$`):
//! names are lowercased, the description runs to the last comma, the
//! first definition of a name wins, `#` starts a comment line.

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::{SideFileError, quote};
use crate::sidefile::{lines, strip_keyword};

/// The `config classification:` lines of Suricata's default
/// `etc/classification.config` (itself from Snort 2.8.5.3), in order.
/// The descriptions are what EVE prints as `alert.category`, so they must
/// match Suricata's byte for byte.
pub const DEFAULT_CLASSIFICATION_CONFIG: &str = "\
config classification: not-suspicious,Not Suspicious Traffic,3
config classification: unknown,Unknown Traffic,3
config classification: bad-unknown,Potentially Bad Traffic, 2
config classification: attempted-recon,Attempted Information Leak,2
config classification: successful-recon-limited,Information Leak,2
config classification: successful-recon-largescale,Large Scale Information Leak,2
config classification: attempted-dos,Attempted Denial of Service,2
config classification: successful-dos,Denial of Service,2
config classification: attempted-user,Attempted User Privilege Gain,1
config classification: unsuccessful-user,Unsuccessful User Privilege Gain,1
config classification: successful-user,Successful User Privilege Gain,1
config classification: attempted-admin,Attempted Administrator Privilege Gain,1
config classification: successful-admin,Successful Administrator Privilege Gain,1
config classification: rpc-portmap-decode,Decode of an RPC Query,2
config classification: shellcode-detect,Executable code was detected,1
config classification: string-detect,A suspicious string was detected,3
config classification: suspicious-filename-detect,A suspicious filename was detected,2
config classification: suspicious-login,An attempted login using a suspicious username was detected,2
config classification: system-call-detect,A system call was detected,2
config classification: tcp-connection,A TCP connection was detected,4
config classification: trojan-activity,A Network Trojan was detected, 1
config classification: unusual-client-port-connection,A client was using an unusual port,2
config classification: network-scan,Detection of a Network Scan,3
config classification: denial-of-service,Detection of a Denial of Service Attack,2
config classification: non-standard-protocol,Detection of a non-standard protocol or event,2
config classification: protocol-command-decode,Generic Protocol Command Decode,3
config classification: web-application-activity,access to a potentially vulnerable web application,2
config classification: web-application-attack,Web Application Attack,1
config classification: misc-activity,Misc activity,3
config classification: misc-attack,Misc Attack,2
config classification: icmp-event,Generic ICMP event,3
config classification: kickass-porn,SCORE! Get the lotion!,1
config classification: policy-violation,Potential Corporate Privacy Violation,1
config classification: default-login-attempt,Attempt to login by a default username and password,2
config classification: targeted-activity,Targeted Malicious Activity was Detected,1
config classification: exploit-kit,Exploit Kit Activity Detected,1
config classification: external-ip-check,Device Retrieving External IP Address Detected,2
config classification: domain-c2,Domain Observed Used for C2 Detected,1
config classification: pup-activity,Possibly Unwanted Program Detected,2
config classification: credential-theft,Successful Credential Theft Detected,1
config classification: social-engineering,Possible Social Engineering Attempted,2
config classification: coin-mining,Crypto Currency Mining Activity Detected,2
config classification: command-and-control,Malware Command and Control Activity Detected,1
";

/// One classtype.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Classification {
    /// The short name rules use in `classtype:`, lowercased.
    pub name: String,
    /// The description (EVE `alert.category`).
    pub description: String,
    /// The default priority of rules of this class.
    pub priority: u32,
    /// 1-based line it was read from.
    pub line: u32,
}

/// Parses `classification.config` text: one result per non-comment line.
pub fn parse_classification_config(
    file: &str,
    text: &str,
) -> Vec<Result<Classification, SideFileError>> {
    let file: Arc<str> = Arc::from(file);
    lines(text)
        .map(|(line, s)| {
            parse_line(&s)
                .map(|(name, description, priority)| Classification {
                    name,
                    description,
                    priority,
                    line,
                })
                .map_err(|message| SideFileError {
                    file: file.clone(),
                    line,
                    message,
                })
        })
        .collect()
}

fn parse_line(s: &str) -> Result<(String, String, u32), String> {
    let bad = || {
        format!(
            "invalid classification {}, expected 'config classification: name,description,priority'",
            quote(s.trim())
        )
    };
    let rest = strip_keyword(s, "classification").ok_or_else(bad)?;
    let (name, rest) = rest.split_once(',').ok_or_else(bad)?;
    let name = name.trim_end();
    let b = name.as_bytes();
    let name_ok = b.first().is_some_and(u8::is_ascii_alphabetic)
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_');
    if !name_ok {
        return Err(format!("invalid classtype name {}", quote(name)));
    }
    // `,\s*(.+)\s*,\s*(\d+)\s*$`: the description runs to the last comma
    // and keeps any blanks before it, as the greedy `.+` does.
    let (description, priority) = rest.rsplit_once(',').ok_or_else(bad)?;
    let description = description.trim_start();
    let priority = priority.trim();
    if description.is_empty()
        || priority.is_empty()
        || !priority.bytes().all(|c| c.is_ascii_digit())
    {
        return Err(bad());
    }
    let priority = priority
        .parse()
        .map_err(|_| format!("invalid priority {}", quote(priority)))?;
    Ok((name.to_ascii_lowercase(), description.to_string(), priority))
}

/// A loaded classification table, looked up case-insensitively.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Classifications {
    entries: Vec<Classification>,
    index: HashMap<String, usize>,
}

impl Classifications {
    /// Suricata's default table ([`DEFAULT_CLASSIFICATION_CONFIG`]).
    pub fn suricata_default() -> Classifications {
        Classifications::from_config("classification.config", DEFAULT_CLASSIFICATION_CONFIG).0
    }

    /// Loads `classification.config` text, keeping the valid lines (the
    /// first definition of a name wins, as in Suricata) and returning the
    /// invalid ones.
    pub fn from_config(file: &str, text: &str) -> (Classifications, Vec<SideFileError>) {
        let mut table = Classifications::default();
        let mut errors = Vec::new();
        for r in parse_classification_config(file, text) {
            match r {
                Ok(c) => table.insert(c),
                Err(e) => errors.push(e),
            }
        }
        (table, errors)
    }

    /// Adds a class unless one of that name exists.
    pub fn insert(&mut self, c: Classification) {
        let key = c.name.to_ascii_lowercase();
        if !self.index.contains_key(&key) {
            self.index.insert(key, self.entries.len());
            self.entries.push(c);
        }
    }

    /// The class named `name`, case-insensitively.
    pub fn get(&self, name: &str) -> Option<&Classification> {
        self.index
            .get(&name.to_ascii_lowercase())
            .map(|&i| &self.entries[i])
    }

    /// Every class, in file order.
    pub fn iter(&self) -> impl Iterator<Item = &Classification> {
        self.entries.iter()
    }

    /// How many classes.
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
        let t = Classifications::suricata_default();
        assert_eq!(t.len(), 43);
        let c = t.get("Trojan-Activity").unwrap();
        assert_eq!(
            (c.description.as_str(), c.priority),
            ("A Network Trojan was detected", 1)
        );
        assert_eq!(
            t.get("bad-unknown").unwrap().description,
            "Potentially Bad Traffic"
        );
        assert_eq!(t.get("tcp-connection").unwrap().priority, 4);
        assert!(t.get("nope").is_none());
    }

    #[test]
    fn lines_and_errors() {
        let text = "# comment\n\n  config classification: A-b_c,Desc, with comma ,7\nconfig classification: a-b_c,Second,1\nconfig reference: x y\nconfig classification: 1bad,x,1\nconfig classification: x,,1\nconfig classification: y,desc,z\n   # indented comment\n";
        let (t, errs) = Classifications::from_config("c.config", text);
        assert_eq!(t.len(), 1);
        let c = t.get("a-b_c").unwrap();
        assert_eq!(
            (c.name.as_str(), c.description.as_str(), c.priority, c.line),
            ("a-b_c", "Desc, with comma ", 7, 3)
        );
        let lines: Vec<u32> = errs.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![5, 6, 7, 8]);
        assert!(
            errs[1]
                .to_string()
                .starts_with("c.config:6: invalid classtype name '1bad'"),
            "{}",
            errs[1]
        );
    }
}
