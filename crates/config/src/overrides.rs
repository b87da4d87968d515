//! `--set KEY=VALUE` overrides: a dotted key path into the YAML tree and a value in
//! Suricata's syntax.

use serde_yaml::Value;

use crate::error::{ConfigError, KeyPath, Origin, Seg};

/// Splits a `--set` argument `KEY=VALUE` at its first `=`.
pub fn parse_set(arg: &str) -> Result<(String, String), ConfigError> {
    match arg.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(ConfigError {
            origin: Origin::Override {
                key: arg.to_string(),
                value: String::new(),
            },
            line: None,
            column: None,
            key: arg.to_string(),
            message: "expected KEY=VALUE, e.g. stream.midstream=yes".to_string(),
        }),
    }
}

/// Parses an override key: `a.b.c`, with list items as `a[0].b` or `a.0.b`.
pub(crate) fn parse_key(key: &str) -> Result<Vec<Seg>, String> {
    let mut out = Vec::new();
    for part in key.split('.') {
        let (name, mut rest) = match part.find('[') {
            Some(i) => part.split_at(i),
            None => (part, ""),
        };
        if name.is_empty() && (out.is_empty() || rest.is_empty()) {
            return Err(format!("invalid key '{key}': empty component"));
        }
        if !name.is_empty() {
            out.push(Seg::Key(name.to_string()));
        }
        while !rest.is_empty() {
            let Some(close) = rest.find(']') else {
                return Err(format!("invalid key '{key}': missing ']'"));
            };
            let idx = rest[1..close].trim().parse::<usize>().map_err(|_| {
                format!(
                    "invalid key '{key}': '{}' is not a list index",
                    &rest[1..close]
                )
            })?;
            out.push(Seg::Index(idx));
            rest = &rest[close + 1..];
            if !rest.is_empty() && !rest.starts_with('[') {
                return Err(format!("invalid key '{key}': unexpected '{rest}'"));
            }
        }
    }
    Ok(out)
}

/// Parses an override value with Suricata's syntax: `yes`/`no`/`true`/`false`/`on`/
/// `off` (kept as text; boolean keys accept them), integers, sizes (`1mb`, kept as
/// text; size keys parse them), lists `[a, b]`, `null`; anything else is a string.
pub(crate) fn parse_value(s: &str) -> Value {
    let t = s.trim();
    if t.is_empty() {
        return Value::String(String::new());
    }
    match serde_yaml::from_str::<Value>(t) {
        Ok(
            v @ (Value::Null
            | Value::Bool(_)
            | Value::Number(_)
            | Value::String(_)
            | Value::Sequence(_)),
        ) => v,
        _ => Value::String(t.to_string()),
    }
}

/// Sets `path` in `root` to `value`, creating maps on the way. Returns the canonical
/// path (dotted numeric components turned into list indexes).
pub(crate) fn set_path(root: &mut Value, path: &[Seg], value: Value) -> Result<KeyPath, String> {
    let mut cur = root;
    let mut canon = KeyPath::default();
    for seg in path {
        if cur.is_null() {
            *cur = match seg {
                Seg::Key(_) => Value::Mapping(Default::default()),
                Seg::Index(_) => Value::Sequence(Vec::new()),
            };
        }
        // A dotted numeric component addresses a list item.
        let seg = match (seg, &*cur) {
            (Seg::Key(k), Value::Sequence(_)) => match k.parse::<usize>() {
                Ok(i) => Seg::Index(i),
                Err(_) => return Err(format!("'{canon}' is a list; '{k}' is not an index")),
            },
            _ => seg.clone(),
        };
        cur = match (seg, cur) {
            (Seg::Key(k), Value::Mapping(m)) => {
                canon = canon.key(&k);
                m.entry(Value::String(k)).or_insert(Value::Null)
            }
            (Seg::Index(i), Value::Sequence(s)) => {
                canon = canon.index(i);
                if i == s.len() {
                    s.push(Value::Null);
                } else if i > s.len() {
                    return Err(format!(
                        "index {i} is out of range: '{}' has {} items",
                        canon.parent(),
                        s.len()
                    ));
                }
                &mut s[i]
            }
            (Seg::Key(k), _) => {
                return Err(format!("cannot set key '{k}': '{canon}' is not a map"));
            }
            (Seg::Index(i), _) => {
                return Err(format!("cannot set item [{i}]: '{canon}' is not a list"));
            }
        };
    }
    *cur = value;
    Ok(canon)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        let k = |s: &str| parse_key(s).map(KeyPath).map(|p| p.to_string());
        assert_eq!(k("stream.midstream").unwrap(), "stream.midstream");
        assert_eq!(
            k("mirror.sessions[1].vni").unwrap(),
            "mirror.sessions[1].vni"
        );
        assert_eq!(k("a[0][2]").unwrap(), "a[0][2]");
        assert!(k("a..b").is_err());
        assert!(k("a[x]").is_err());
        assert!(k("a[1").is_err());
    }

    #[test]
    fn values() {
        assert_eq!(parse_value("yes"), Value::String("yes".into()));
        assert_eq!(parse_value("true"), Value::Bool(true));
        assert_eq!(parse_value("42"), Value::Number(42.into()));
        assert_eq!(parse_value("1mb"), Value::String("1mb".into()));
        assert_eq!(parse_value("a: b"), Value::String("a: b".into()));
        assert_eq!(
            parse_value("[8472, 4789]"),
            Value::Sequence(vec![Value::Number(8472.into()), Value::Number(4789.into())])
        );
    }

    #[test]
    fn set_creates_and_indexes() {
        let mut v: Value = serde_yaml::from_str("mirror: {sessions: [{vni: 1}]}").unwrap();
        let p = set_path(
            &mut v,
            &parse_key("mirror.sessions.0.vni").unwrap(),
            Value::Number(7.into()),
        )
        .unwrap();
        assert_eq!(p.to_string(), "mirror.sessions[0].vni");
        set_path(
            &mut v,
            &parse_key("stream.reassembly.depth").unwrap(),
            Value::String("2mb".into()),
        )
        .unwrap();
        assert_eq!(v["mirror"]["sessions"][0]["vni"], Value::Number(7.into()));
        assert_eq!(
            v["stream"]["reassembly"]["depth"],
            Value::String("2mb".into())
        );
        assert!(
            set_path(
                &mut v,
                &parse_key("mirror.sessions[5].vni").unwrap(),
                Value::Null
            )
            .is_err()
        );
        assert!(
            set_path(
                &mut v,
                &parse_key("stream.reassembly.depth.x").unwrap(),
                Value::Null
            )
            .is_err()
        );
    }
}
