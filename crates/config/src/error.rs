//! Errors that name the file, line, column and key, and the machinery that finds them.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Where a configuration error comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A config file (or text) by the name it was loaded under.
    File(String),
    /// A `--set KEY=VALUE` override.
    Override {
        /// The override's dotted key.
        key: String,
        /// The override's value, as given.
        value: String,
    },
}

/// A configuration error: the origin (file or `--set`), the line and column where it
/// has them, the dotted key path, and what is wrong.
///
/// Displays as `FILE:LINE:COL: KEY: MESSAGE` (e.g. `sensor.yaml:14:7:
/// mirror.sessions[1].vni: invalid value 16777216, expected a 24-bit VNI
/// (0..=16777215)`), or `--set KEY=VALUE: MESSAGE` for overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Where the faulty value comes from.
    pub origin: Origin,
    /// 1-based line in the file, where known.
    pub line: Option<u32>,
    /// 1-based column in the file, where known.
    pub column: Option<u32>,
    /// The dotted key path (`mirror.sessions[1].vni`); empty for the whole document.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match &self.origin {
            Origin::File(name) => {
                f.write_str(name)?;
                if let Some(line) = self.line {
                    write!(f, ":{line}")?;
                    if let Some(col) = self.column {
                        write!(f, ":{col}")?;
                    }
                }
                if !self.key.is_empty() {
                    write!(f, ": {}", self.key)?;
                }
                write!(f, ": {}", self.message)
            }
            Origin::Override { key, value } => write!(f, "--set {key}={value}: {}", self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

/// A dotted key path such as `mirror.sessions[1].vni`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct KeyPath(pub Vec<Seg>);

impl KeyPath {
    pub fn key(&self, k: &str) -> KeyPath {
        let mut v = self.0.clone();
        v.push(Seg::Key(k.to_string()));
        KeyPath(v)
    }
    pub fn index(&self, i: usize) -> KeyPath {
        let mut v = self.0.clone();
        v.push(Seg::Index(i));
        KeyPath(v)
    }
    pub fn from_p2e(p: &serde_path_to_error::Path) -> KeyPath {
        use serde_path_to_error::Segment;
        KeyPath(
            p.iter()
                .filter_map(|s| match s {
                    Segment::Seq { index } => Some(Seg::Index(*index)),
                    Segment::Map { key } => Some(Seg::Key(key.clone())),
                    Segment::Enum { variant } => Some(Seg::Key(variant.clone())),
                    Segment::Unknown => None,
                })
                .collect(),
        )
    }
    /// Whether `self` starts with `prefix`.
    pub fn starts_with(&self, prefix: &KeyPath) -> bool {
        self.0.len() >= prefix.0.len() && self.0[..prefix.0.len()] == prefix.0[..]
    }
    pub fn parent(&self) -> KeyPath {
        let mut v = self.0.clone();
        v.pop();
        KeyPath(v)
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            match s {
                Seg::Key(k) if i == 0 => f.write_str(k)?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// Rewrites serde's wording into the config's: keys, not fields; single quotes.
pub(crate) fn humanize(msg: &str) -> String {
    if msg.starts_with("data did not match any variant of untagged enum") {
        return "invalid type of value".to_string();
    }
    let s = msg.replace('`', "'");
    if let Some(rest) = s.strip_prefix("unknown field ") {
        let rest = rest.replace(", there are no fields", ", this section takes no keys");
        format!("unknown key {rest}")
    } else if let Some(rest) = s.strip_prefix("missing field ") {
        format!("missing key {rest}")
    } else if let Some(rest) = s.strip_prefix("unknown variant ") {
        format!("invalid value {rest}")
    } else {
        s
    }
}

/// The message of a YAML error without its location suffix and its path prefix.
pub(crate) fn bare_yaml_message(err: &serde_yaml::Error) -> String {
    let mut s = err.to_string();
    if let Some(loc) = err.location() {
        let suffix = format!(" at line {} column {}", loc.line(), loc.column());
        if let Some(i) = s.find(&suffix) {
            s.replace_range(i..i + suffix.len(), "");
        }
    }
    if let Some((head, rest)) = s.split_once(": ")
        && !head.is_empty()
        && !head.contains(char::is_whitespace)
    {
        s = rest.to_string();
    }
    s
}

/// A YAML location as 1-based (line, column).
pub(crate) fn to_pos(l: &serde_yaml::Location) -> (u32, u32) {
    let c = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    (c(l.line()), c(l.column()))
}

/// The error a [`Probe`] raises at its target; only its location matters.
const PROBE: &str = "\u{1}mirador-config-probe\u{1}";

/// Finds the line and column (1-based) of the value at `path` in YAML `text`, using the
/// YAML parser itself: a probe walks to the node and fails there, and the failure
/// carries the node's position.
pub(crate) fn locate(text: &str, path: &KeyPath) -> Option<(u32, u32)> {
    let de = serde_yaml::Deserializer::from_str(text);
    match (Probe { path: &path.0 }).deserialize(de) {
        Err(e) if e.to_string().contains(PROBE) => e.location().map(|l| to_pos(&l)),
        _ => None,
    }
}

/// Like [`locate`], but walks up to the nearest ancestor that exists in the text.
pub(crate) fn locate_nearest(text: &str, path: &KeyPath) -> Option<(u32, u32)> {
    let mut p = path.clone();
    loop {
        if p.0.is_empty() {
            return None;
        }
        if let Some(loc) = locate(text, &p) {
            return Some(loc);
        }
        p.0.pop();
    }
}

struct Probe<'a> {
    path: &'a [Seg],
}

impl<'de> DeserializeSeed<'de> for Probe<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

/// A map key as text, whatever its scalar type.
struct KeyText(Option<String>);

impl<'de> de::Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeyText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyText, E> {
                Ok(KeyText(Some(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<KeyText, E> {
                Ok(KeyText(Some(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<KeyText, E> {
                Ok(KeyText(Some(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<KeyText, E> {
                Ok(KeyText(Some(v.to_string())))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<KeyText, E> {
                Ok(KeyText(Some(v.to_string())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<KeyText, E> {
                Ok(KeyText(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<KeyText, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(KeyText(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<KeyText, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(KeyText(None))
            }
        }
        d.deserialize_any(V)
    }
}

impl Probe<'_> {
    fn hit<E: de::Error>(&self) -> Result<(), E> {
        if self.path.is_empty() {
            Err(E::custom(PROBE))
        } else {
            Ok(())
        }
    }
}

impl<'de> Visitor<'de> for Probe<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.hit()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.hit()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.hit()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.hit()
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.hit()
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.hit()
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.hit()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        self.hit()?;
        let Some(Seg::Index(want)) = self.path.first() else {
            while a.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(());
        };
        let mut i = 0;
        loop {
            if i == *want {
                return a
                    .next_element_seed(Probe {
                        path: &self.path[1..],
                    })
                    .map(|_| ());
            }
            if a.next_element::<IgnoredAny>()?.is_none() {
                return Ok(());
            }
            i += 1;
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        self.hit()?;
        let Some(Seg::Key(want)) = self.path.first() else {
            while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(());
        };
        while let Some(KeyText(k)) = a.next_key::<KeyText>()? {
            if k.as_deref() == Some(want.as_str()) {
                return a.next_value_seed(Probe {
                    path: &self.path[1..],
                });
            }
            a.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }
}
