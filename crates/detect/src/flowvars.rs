//! `flowbits`, `flowint` and `xbits`: state rules set on one packet and test
//! on later ones.
//!
//! Names are interned once per rule set ([`Names`]) so per-flow state is a
//! few integers. As in Suricata, a rule's *conditions* (`isset`,
//! `isnotset`, `flowint` comparisons) are checked with its other keywords,
//! and its *actions* (`set`, `unset`, `toggle`, `flowint` arithmetic) run
//! only once the whole rule has matched (Suricata's post-match list).
//!
//! Per-flow state ([`FlowVars`]) lives with the flow in its worker; xbits
//! tracked by host or host pair ([`HostBits`]) live in the host-keyed stage
//! and are applied in event-time order, so their outcome does not depend on
//! the worker count. Both are capped and count what the caps refuse.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use crate::header::KeywordError;

fn err(keyword: &'static str, message: impl Into<String>) -> KeywordError {
    KeywordError {
        keyword,
        message: message.into(),
    }
}

/// Interned variable names of one rule set.
#[derive(Debug, Default, Clone)]
pub struct Names {
    ids: HashMap<String, u32>,
    names: Vec<String>,
}

impl Names {
    /// The id of `name`, interning it.
    pub fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.ids.insert(name.to_string(), id);
        self.names.push(name.to_string());
        id
    }

    /// The name of `id`.
    pub fn name(&self, id: u32) -> Option<&str> {
        self.names.get(id as usize).map(String::as_str)
    }

    /// Names interned so far.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether none was interned.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 256
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-:".contains(&b))
}

/// A `flowbits` option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flowbits {
    /// `set`: set every named bit (post-match).
    Set(Vec<u32>),
    /// `unset` (post-match).
    Unset(Vec<u32>),
    /// `toggle` (post-match).
    Toggle(Vec<u32>),
    /// `isset`: any named bit is set (`a|b`).
    IsSet(Vec<u32>),
    /// `isnotset`: any named bit is not set.
    IsNotSet(Vec<u32>),
    /// `noalert`: the rule never alerts.
    NoAlert,
}

impl Flowbits {
    /// Parses a `flowbits` value, interning its names.
    pub fn parse(value: &str, names: &mut Names) -> Result<Flowbits, KeywordError> {
        let (cmd, rest) = match value.split_once(',') {
            Some((c, r)) => (c.trim(), Some(r.trim())),
            None => (value.trim(), None),
        };
        if cmd == "noalert" {
            return match rest {
                None => Ok(Flowbits::NoAlert),
                Some(_) => Err(err("flowbits", "noalert takes no name")),
            };
        }
        let rest = rest.ok_or_else(|| err("flowbits", format!("'{cmd}' needs a name")))?;
        let is_cond = matches!(cmd, "isset" | "isnotset");
        let parts: Vec<&str> = rest.split('|').map(str::trim).collect();
        if parts.len() > 1 && !is_cond {
            return Err(err(
                "flowbits",
                format!("'|' is only valid with isset and isnotset, not {cmd}"),
            ));
        }
        if parts.len() > 16 {
            return Err(err("flowbits", "more than 16 names"));
        }
        let mut ids = Vec::with_capacity(parts.len());
        for p in parts {
            if !valid_name(p) {
                return Err(err("flowbits", format!("invalid name '{p}'")));
            }
            ids.push(names.intern(p));
        }
        Ok(match cmd {
            "set" => Flowbits::Set(ids),
            "unset" => Flowbits::Unset(ids),
            "toggle" => Flowbits::Toggle(ids),
            "isset" => Flowbits::IsSet(ids),
            "isnotset" => Flowbits::IsNotSet(ids),
            other => return Err(err("flowbits", format!("unknown command '{other}'"))),
        })
    }

    /// Whether this is a condition (checked before the rule matches).
    pub fn is_condition(&self) -> bool {
        matches!(self, Flowbits::IsSet(_) | Flowbits::IsNotSet(_))
    }
}

/// What a `flowint` compares or does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowintOp {
    /// `=`: assign (post-match).
    Assign,
    /// `+`: add (post-match; creates the variable at 0).
    Add,
    /// `-`: subtract (post-match; saturates at 0).
    Sub,
    /// `==`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `isset`.
    IsSet,
    /// `notset` / `isnotset`.
    NotSet,
}

/// A `flowint` operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operand {
    /// A number.
    Value(u32),
    /// Another flowint.
    Var(u32),
}

/// A `flowint` option: `name, op[, value]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flowint {
    /// The variable.
    pub var: u32,
    /// The operation.
    pub op: FlowintOp,
    /// The operand (none for isset/notset).
    pub operand: Option<Operand>,
}

impl Flowint {
    /// Parses a `flowint` value.
    pub fn parse(value: &str, names: &mut Names) -> Result<Flowint, KeywordError> {
        let parts: Vec<&str> = value.split(',').map(str::trim).collect();
        let (name, op, rest) = match parts.as_slice() {
            [n, o] => (*n, *o, None),
            [n, o, v] => (*n, *o, Some(*v)),
            _ => {
                return Err(err(
                    "flowint",
                    format!("expected 'name, op[, value]' in '{value}'"),
                ));
            }
        };
        if !valid_name(name) {
            return Err(err("flowint", format!("invalid name '{name}'")));
        }
        let op = match op {
            "=" => FlowintOp::Assign,
            "+" => FlowintOp::Add,
            "-" => FlowintOp::Sub,
            "==" => FlowintOp::Eq,
            "!=" => FlowintOp::Ne,
            "<" => FlowintOp::Lt,
            "<=" => FlowintOp::Le,
            ">" => FlowintOp::Gt,
            ">=" => FlowintOp::Ge,
            "isset" => FlowintOp::IsSet,
            "notset" | "isnotset" => FlowintOp::NotSet,
            other => return Err(err("flowint", format!("unknown operator '{other}'"))),
        };
        let needs = !matches!(op, FlowintOp::IsSet | FlowintOp::NotSet);
        let operand = match (needs, rest) {
            (false, None) => None,
            (false, Some(_)) => return Err(err("flowint", "isset/notset take no value")),
            (true, None) => return Err(err("flowint", "missing value")),
            (true, Some(v)) => Some(match v.parse::<u32>() {
                Ok(n) => Operand::Value(n),
                Err(_) if valid_name(v) => Operand::Var(names.intern(v)),
                Err(_) => return Err(err("flowint", format!("invalid value '{v}'"))),
            }),
        };
        Ok(Flowint {
            var: names.intern(name),
            op,
            operand,
        })
    }

    /// Whether this is a condition (checked before the rule matches).
    pub fn is_condition(&self) -> bool {
        !matches!(self.op, FlowintOp::Assign | FlowintOp::Add | FlowintOp::Sub)
    }
}

/// The most bits plus integers one flow holds; past it `set` and new
/// integers are refused (counted by the caller through the return value).
pub const MAX_FLOW_VARS: usize = 64;

/// One flow's bits and integers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowVars {
    bits: Vec<u32>,
    ints: Vec<(u32, u32)>,
}

impl FlowVars {
    /// Makes `self` a copy of `other`, reusing its buffers (no allocation
    /// once they are large enough).
    pub fn copy_from(&mut self, other: &FlowVars) {
        self.bits.clear();
        self.bits.extend_from_slice(&other.bits);
        self.ints.clear();
        self.ints.extend_from_slice(&other.ints);
    }

    /// Whether bit `id` is set.
    pub fn bit(&self, id: u32) -> bool {
        self.bits.contains(&id)
    }

    /// The value of integer `id`, if set.
    pub fn int(&self, id: u32) -> Option<u32> {
        self.ints.iter().find(|(k, _)| *k == id).map(|(_, v)| *v)
    }

    fn room(&self) -> bool {
        self.bits.len() + self.ints.len() < MAX_FLOW_VARS
    }

    /// Checks a `flowbits` condition (actions and `noalert` pass).
    pub fn check_bits(&self, f: &Flowbits) -> bool {
        match f {
            Flowbits::IsSet(ids) => ids.iter().any(|&i| self.bit(i)),
            Flowbits::IsNotSet(ids) => ids.iter().any(|&i| !self.bit(i)),
            _ => true,
        }
    }

    /// Applies a `flowbits` action; `false` when the cap refused a bit.
    pub fn apply_bits(&mut self, f: &Flowbits) -> bool {
        let mut ok = true;
        match f {
            Flowbits::Set(ids) => {
                for &i in ids {
                    if !self.bit(i) {
                        if self.room() {
                            self.bits.push(i);
                        } else {
                            ok = false;
                        }
                    }
                }
            }
            Flowbits::Unset(ids) => self.bits.retain(|b| !ids.contains(b)),
            Flowbits::Toggle(ids) => {
                for &i in ids {
                    if self.bit(i) {
                        self.bits.retain(|&b| b != i);
                    } else if self.room() {
                        self.bits.push(i);
                    } else {
                        ok = false;
                    }
                }
            }
            _ => {}
        }
        ok
    }

    fn operand(&self, o: Option<Operand>) -> Option<u32> {
        match o? {
            Operand::Value(v) => Some(v),
            Operand::Var(id) => self.int(id),
        }
    }

    /// Checks a `flowint` condition (actions pass). A comparison with an
    /// unset variable is false, as in Suricata.
    pub fn check_int(&self, f: &Flowint) -> bool {
        let cur = self.int(f.var);
        let rhs = self.operand(f.operand);
        match f.op {
            FlowintOp::IsSet => cur.is_some(),
            FlowintOp::NotSet => cur.is_none(),
            FlowintOp::Assign | FlowintOp::Add | FlowintOp::Sub => true,
            op => {
                let (Some(a), Some(b)) = (cur, rhs) else {
                    return false;
                };
                match op {
                    FlowintOp::Eq => a == b,
                    FlowintOp::Ne => a != b,
                    FlowintOp::Lt => a < b,
                    FlowintOp::Le => a <= b,
                    FlowintOp::Gt => a > b,
                    _ => a >= b,
                }
            }
        }
    }

    /// Applies a `flowint` action; `false` when the cap refused a new
    /// variable or the operand was unset.
    pub fn apply_int(&mut self, f: &Flowint) -> bool {
        let Some(rhs) = self.operand(f.operand) else {
            return !matches!(f.op, FlowintOp::Assign | FlowintOp::Add | FlowintOp::Sub);
        };
        let cur = self.int(f.var);
        let new = match f.op {
            FlowintOp::Assign => rhs,
            FlowintOp::Add => cur.unwrap_or(0).saturating_add(rhs),
            FlowintOp::Sub => cur.unwrap_or(0).saturating_sub(rhs),
            _ => return true,
        };
        if let Some(slot) = self.ints.iter_mut().find(|(k, _)| *k == f.var) {
            slot.1 = new;
            true
        } else if self.room() {
            self.ints.push((f.var, new));
            true
        } else {
            false
        }
    }
}

/// What an `xbits` bit is kept for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum XTrack {
    /// The packet's source host.
    IpSrc,
    /// The packet's destination host.
    IpDst,
    /// The (source, destination) pair, in either order.
    IpPair,
}

/// The `xbits` commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XCmd {
    /// `set` (post-match).
    Set,
    /// `unset` (post-match).
    Unset,
    /// `toggle` (post-match).
    Toggle,
    /// `isset`.
    IsSet,
    /// `isnotset`.
    IsNotSet,
}

/// An `xbits` option: `cmd, name, track ip_src|ip_dst|ip_pair[, expire N]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Xbits {
    /// The command.
    pub cmd: XCmd,
    /// The bit.
    pub name: u32,
    /// What it is kept for.
    pub track: XTrack,
    /// Seconds a `set` lasts (Suricata's default 30).
    pub expire: u32,
}

impl Xbits {
    /// Parses an `xbits` value (`track tx` is app-layer: rejected here).
    pub fn parse(value: &str, names: &mut Names) -> Result<Xbits, KeywordError> {
        let parts: Vec<&str> = value.split(',').map(str::trim).collect();
        if parts.len() < 3 || parts.len() > 4 {
            return Err(err(
                "xbits",
                format!("expected 'cmd, name, track T[, expire N]' in '{value}'"),
            ));
        }
        let cmd = match parts[0] {
            "set" => XCmd::Set,
            "unset" => XCmd::Unset,
            "toggle" => XCmd::Toggle,
            "isset" => XCmd::IsSet,
            "isnotset" => XCmd::IsNotSet,
            other => return Err(err("xbits", format!("unknown command '{other}'"))),
        };
        if !valid_name(parts[1]) {
            return Err(err("xbits", format!("invalid name '{}'", parts[1])));
        }
        let track = match parts[2].split_whitespace().collect::<Vec<_>>().as_slice() {
            ["track", "ip_src"] => XTrack::IpSrc,
            ["track", "ip_dst"] => XTrack::IpDst,
            ["track", "ip_pair"] => XTrack::IpPair,
            ["track", "tx"] => return Err(err("xbits", "track tx needs app-layer transactions")),
            _ => return Err(err("xbits", format!("invalid track '{}'", parts[2]))),
        };
        let expire = match parts.get(3) {
            None => 30,
            Some(p) => match p.split_whitespace().collect::<Vec<_>>().as_slice() {
                ["expire", n] => n
                    .parse::<u32>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| err("xbits", format!("invalid expire '{n}'")))?,
                _ => return Err(err("xbits", format!("invalid option '{p}'"))),
            },
        };
        Ok(Xbits {
            cmd,
            name: names.intern(parts[1]),
            track,
            expire,
        })
    }

    /// Whether this is a condition.
    pub fn is_condition(&self) -> bool {
        matches!(self.cmd, XCmd::IsSet | XCmd::IsNotSet)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum HostKey {
    Host(IpAddr),
    Pair(IpAddr, IpAddr),
}

/// xbits kept per host or host pair: the host-keyed stage's store.
#[derive(Debug)]
pub struct HostBits {
    /// (bit, host) → expiry time (ns).
    bits: HashMap<(u32, HostKey), i64>,
    /// Expiry order, for O(1) amortized expiry and eviction (entries reset
    /// since are skipped when reached).
    order: VecDeque<(i64, (u32, HostKey))>,
    max_entries: usize,
    /// Bits dropped at the cap.
    pub evicted: u64,
}

impl HostBits {
    /// A store of at most `max_entries` bits.
    pub fn new(max_entries: usize) -> HostBits {
        HostBits {
            bits: HashMap::new(),
            order: VecDeque::new(),
            max_entries: max_entries.max(1),
            evicted: 0,
        }
    }

    fn key(x: &Xbits, src: IpAddr, dst: IpAddr) -> (u32, HostKey) {
        let k = match x.track {
            XTrack::IpSrc => HostKey::Host(src),
            XTrack::IpDst => HostKey::Host(dst),
            XTrack::IpPair => HostKey::Pair(src.min(dst), src.max(dst)),
        };
        (x.name, k)
    }

    /// Checks an `isset`/`isnotset` at `now_ns` (actions pass).
    pub fn check(&self, x: &Xbits, now_ns: i64, src: IpAddr, dst: IpAddr) -> bool {
        let set = self
            .bits
            .get(&Self::key(x, src, dst))
            .is_some_and(|&exp| exp > now_ns);
        match x.cmd {
            XCmd::IsSet => set,
            XCmd::IsNotSet => !set,
            _ => true,
        }
    }

    /// Applies a `set`/`unset`/`toggle` at `now_ns`.
    pub fn apply(&mut self, x: &Xbits, now_ns: i64, src: IpAddr, dst: IpAddr) {
        self.expire(now_ns);
        let key = Self::key(x, src, dst);
        let live = self.bits.get(&key).is_some_and(|&e| e > now_ns);
        let set = match x.cmd {
            XCmd::Set => true,
            XCmd::Unset => false,
            XCmd::Toggle => !live,
            _ => return,
        };
        if !set {
            self.bits.remove(&key);
            return;
        }
        if !self.bits.contains_key(&key) && self.bits.len() >= self.max_entries {
            while let Some((t, k)) = self.order.pop_front() {
                if self.bits.get(&k) == Some(&t) {
                    self.bits.remove(&k);
                    self.evicted += 1;
                    break;
                }
            }
        }
        let exp = now_ns.saturating_add(i64::from(x.expire).saturating_mul(1_000_000_000));
        self.bits.insert(key, exp);
        self.order.push_back((exp, key));
        if self.order.len() > 2 * self.max_entries + 64 {
            let bits = &self.bits;
            self.order.retain(|(t, k)| bits.get(k) == Some(t));
        }
    }

    /// Forgets bits expired by `now_ns`.
    pub fn expire(&mut self, now_ns: i64) {
        while let Some(&(t, k)) = self.order.front() {
            if t > now_ns {
                break;
            }
            self.order.pop_front();
            if self.bits.get(&k) == Some(&t) {
                self.bits.remove(&k);
            }
        }
    }

    /// Bits held.
    pub fn len(&self) -> usize {
        self.bits.len()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.bits.is_empty()
    }
}

#[cfg(test)]
mod tests;
