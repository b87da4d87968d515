//! Mirror session attribution.
//!
//! A packet is attributed by its encapsulation key (VXLAN/GENEVE VNI,
//! ERSPAN II/III session id, or none) and its outer source IP, falling back
//! to the key alone when exactly one declared session has that key. An
//! undeclared or ambiguous key follows `mirror.unknown-session`: `inspect`
//! makes one anonymous session per key, `drop` filters the packet as
//! `unknown_session`. Anonymous sessions are capped by
//! `mirror.max-anonymous-sessions`: packets of further keys are filtered as
//! `unknown_session` and counted in [`SessionTable::anonymous_overflow`], so
//! a sender spraying keys cannot grow the table nor push out the sessions
//! already seen.
//!
//! Several sessions may share a key *and* a source (AWS allows three
//! sessions per source ENI, and one VNI per VPC is common). AWS mirrors a
//! packet once, through the session with the lowest `session-number` whose
//! filter accepts it; the table therefore returns the lowest-numbered one
//! and lists the others as [`SessionTable::siblings`], in order, for the
//! reader stage to try.

use std::collections::HashMap;
use std::net::IpAddr;

use mirador_config::{Filter, SessionKey};
use mirador_wire::{EncapKind, Mirror};

use crate::eve::SessionLabel;

/// Index of a session in a [`SessionTable`].
pub type SessionId = usize;

/// What the table needs to know about one declared session.
#[derive(Debug, Clone)]
pub struct SessionSpec {
    /// The encapsulation key.
    pub key: SessionKey,
    /// Outer source IPs (the source ENI's primary IP); empty = any source.
    pub source_ips: Vec<IpAddr>,
    /// EVE `mirror` labels.
    pub label: SessionLabel,
    /// How summaries and stats name it.
    pub display: String,
    /// The declared session (`None` for anonymous ones).
    pub declared: Option<mirador_config::Session>,
    /// The session's Traffic Mirror Filter.
    pub filter: Option<Filter>,
}

/// One session's state: its spec and its counters.
#[derive(Debug, Clone)]
pub struct Session {
    /// The declared or anonymous spec.
    pub spec: SessionSpec,
    /// Whether it was created for an undeclared key.
    pub anonymous: bool,
    /// Per-session counters.
    pub counters: crate::ingest::SessionCounters,
}

/// The key of a packet: its encapsulation key, or `Local` for traffic that
/// was not encapsulated.
pub fn packet_key(mirror: Option<&Mirror>) -> SessionKey {
    match mirror {
        None => SessionKey::None,
        Some(m) => match (m.encap, m.vni, m.erspan_session_id) {
            (EncapKind::Vxlan | EncapKind::Geneve | EncapKind::Gwlb, Some(vni), _) => {
                SessionKey::Vni(vni)
            }
            (EncapKind::Erspan, _, Some(id)) => SessionKey::Erspan(id),
            _ => SessionKey::None,
        },
    }
}

/// How a lookup ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attribution {
    /// A declared or anonymous session.
    Session(SessionId),
    /// No declared session, and `unknown-session: drop`.
    Unknown,
}

#[derive(Debug, Default, Clone)]
struct KeyEntry {
    /// Declared sessions with this key.
    count: usize,
    /// The session to use when `count == 1`.
    only: SessionId,
}

/// Declared and anonymous sessions, and the lookup from (key, outer source).
#[derive(Debug)]
pub struct SessionTable {
    sessions: Vec<Session>,
    exact: HashMap<(SessionKey, IpAddr), SessionId>,
    /// Per session: the other sessions with the same key and source, by
    /// ascending session number (empty for almost all).
    siblings: Vec<Vec<SessionId>>,
    /// Per session: its tenant as a small number (interned names).
    tenant_ids: Vec<u32>,
    tenants: HashMap<String, u32>,
    by_key: HashMap<SessionKey, KeyEntry>,
    anonymous: HashMap<SessionKey, SessionId>,
    max_anonymous: usize,
    inspect_unknown: bool,
    /// Packets refused an anonymous session because the cap was reached.
    pub anonymous_overflow: u64,
    /// The last lookup, since consecutive packets mostly share a session.
    last: Option<((SessionKey, Option<IpAddr>), SessionId)>,
}

impl SessionTable {
    /// Builds the table from declared sessions.
    pub fn new(specs: Vec<SessionSpec>, inspect_unknown: bool, max_anonymous: usize) -> Self {
        let mut t = SessionTable {
            sessions: Vec::with_capacity(specs.len()),
            exact: HashMap::new(),
            siblings: Vec::new(),
            tenant_ids: Vec::new(),
            tenants: HashMap::new(),
            by_key: HashMap::new(),
            anonymous: HashMap::new(),
            max_anonymous,
            inspect_unknown,
            anonymous_overflow: 0,
            last: None,
        };
        let mut groups: HashMap<(SessionKey, IpAddr), Vec<SessionId>> = HashMap::new();
        for mut spec in specs {
            let id = t.sessions.len();
            spec.display = t.unique_display(spec.display);
            for ip in &spec.source_ips {
                groups.entry((spec.key, *ip)).or_default().push(id);
            }
            let e = t.by_key.entry(spec.key).or_default();
            if e.count == 0 {
                e.only = id;
            }
            e.count += 1;
            let tid = t.intern(&spec.label.tenant);
            t.tenant_ids.push(tid);
            t.sessions.push(Session {
                spec,
                anonymous: false,
                counters: Default::default(),
            });
        }
        // Lowest session number first; undeclared numbers last, in
        // declaration order.
        let order = |sessions: &[Session], id: SessionId| {
            let n = sessions[id]
                .spec
                .declared
                .as_ref()
                .and_then(|d| d.session_number);
            (n.unwrap_or(u16::MAX), id)
        };
        t.siblings = vec![Vec::new(); t.sessions.len()];
        for (k, mut ids) in groups {
            ids.sort_by_key(|id| order(&t.sessions, *id));
            ids.dedup();
            let first = ids[0];
            t.exact.insert(k, first);
            for id in ids.into_iter().skip(1) {
                if !t.siblings[first].contains(&id) {
                    t.siblings[first].push(id);
                }
            }
        }
        for i in 0..t.siblings.len() {
            let mut list = std::mem::take(&mut t.siblings[i]);
            list.sort_by_key(|id| order(&t.sessions, *id));
            t.siblings[i] = list;
        }
        t
    }

    /// The sessions that share `id`'s key and one of its outer sources, to
    /// try after it, by ascending session number (check
    /// [`SessionSpec::source_ips`] against the packet's source).
    pub fn siblings(&self, id: SessionId) -> &[SessionId] {
        self.siblings.get(id).map_or(&[], |v| v.as_slice())
    }

    /// Attributes a packet with encapsulation key `key` and outer source
    /// `outer_src` (`None` for traffic that was not encapsulated).
    pub fn attribute(&mut self, key: SessionKey, outer_src: Option<IpAddr>) -> Attribution {
        if let Some((k, id)) = self.last
            && k == (key, outer_src)
        {
            return Attribution::Session(id);
        }
        let found = outer_src
            .and_then(|ip| self.exact.get(&(key, ip)).copied())
            .or_else(|| match self.by_key.get(&key) {
                Some(e) if e.count == 1 => Some(e.only),
                _ => None,
            });
        let id = match found {
            Some(id) => id,
            None if !self.inspect_unknown => return Attribution::Unknown,
            None => match self.anonymous_for(key) {
                Some(id) => id,
                None => return Attribution::Unknown,
            },
        };
        self.last = Some(((key, outer_src), id));
        Attribution::Session(id)
    }

    fn anonymous_for(&mut self, key: SessionKey) -> Option<SessionId> {
        if let Some(id) = self.anonymous.get(&key) {
            return Some(*id);
        }
        if self.anonymous.len() >= self.max_anonymous {
            self.anonymous_overflow += 1;
            return None;
        }
        let display = match key {
            SessionKey::Vni(v) => format!("anonymous vni {v}"),
            SessionKey::Erspan(e) => format!("anonymous erspan-id {e}"),
            SessionKey::None => "anonymous".to_string(),
        };
        let id = self.push_anonymous(SessionSpec {
            key,
            source_ips: Vec::new(),
            label: SessionLabel {
                tenant: mirador_config::Session::default_tenant(key),
                ..Default::default()
            },
            display,
            declared: None,
            filter: None,
        });
        self.anonymous.insert(key, id);
        Some(id)
    }

    fn push_anonymous(&mut self, mut spec: SessionSpec) -> SessionId {
        let id = self.sessions.len();
        spec.display = self.unique_display(spec.display);
        self.siblings.push(Vec::new());
        let tid = self.intern(&spec.label.tenant);
        self.tenant_ids.push(tid);
        self.sessions.push(Session {
            spec,
            anonymous: true,
            counters: Default::default(),
        });
        id
    }

    /// `name`, or `name #2`, `name #3`, ... when taken: stats key sessions
    /// by this name, so it must be unique. Runs once per session created.
    fn unique_display(&self, name: String) -> String {
        let taken = |n: &str| self.sessions.iter().any(|s| s.spec.display == n);
        if !taken(&name) {
            return name;
        }
        (2..)
            .map(|i| format!("{name} #{i}"))
            .find(|n| !taken(n))
            .expect("a free name")
    }

    fn intern(&mut self, tenant: &str) -> u32 {
        let next = u32::try_from(self.tenants.len()).unwrap_or(u32::MAX);
        *self.tenants.entry(tenant.to_string()).or_insert(next)
    }

    /// The session's tenant as a number: equal for sessions of one tenant
    /// (for flow keys and dedup), numbered in order of first appearance.
    pub fn tenant_id(&self, id: SessionId) -> u32 {
        self.tenant_ids.get(id).copied().unwrap_or(u32::MAX)
    }

    /// A session by id.
    pub fn get(&self, id: SessionId) -> &Session {
        &self.sessions[id]
    }

    /// A session by id, mutably (for its counters).
    pub fn get_mut(&mut self, id: SessionId) -> &mut Session {
        &mut self.sessions[id]
    }

    /// Every session, declared first.
    pub fn iter(&self) -> impl Iterator<Item = &Session> {
        self.sessions.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(key: SessionKey, ips: &[&str], name: &str) -> SessionSpec {
        SessionSpec {
            key,
            source_ips: ips.iter().map(|s| s.parse().unwrap()).collect(),
            label: SessionLabel {
                tenant: "t".into(),
                ..Default::default()
            },
            display: name.into(),
            declared: None,
            filter: None,
        }
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn exact_then_key_alone_then_anonymous() {
        // Two sessions share VNI 42 (one VNI per VPC is common); VNI 7 has one.
        let mut t = SessionTable::new(
            vec![
                spec(SessionKey::Vni(42), &["10.0.1.15"], "a"),
                spec(SessionKey::Vni(42), &["10.0.1.16"], "b"),
                spec(SessionKey::Vni(7), &["10.0.2.20"], "c"),
            ],
            true,
            2,
        );
        assert_eq!(
            t.attribute(SessionKey::Vni(42), ip("10.0.1.16")),
            Attribution::Session(1)
        );
        assert_eq!(
            t.attribute(SessionKey::Vni(42), ip("10.0.1.15")),
            Attribution::Session(0)
        );
        // VNI 7 from an unlisted source: exactly one session has the key.
        assert_eq!(
            t.attribute(SessionKey::Vni(7), ip("10.9.9.9")),
            Attribution::Session(2)
        );
        // VNI 42 from an unlisted source is ambiguous: anonymous per key.
        let Attribution::Session(anon) = t.attribute(SessionKey::Vni(42), ip("10.9.9.9")) else {
            panic!()
        };
        assert!(t.get(anon).anonymous);
        assert_eq!(t.get(anon).spec.label.tenant, "42");
        assert_eq!(
            t.attribute(SessionKey::Vni(42), ip("10.9.9.8")),
            Attribution::Session(anon)
        );
        // The second anonymous key fits the cap of 2, the third does not.
        let Attribution::Session(a2) = t.attribute(SessionKey::Vni(99), ip("1.1.1.1")) else {
            panic!()
        };
        assert_ne!(a2, anon);
        assert_eq!(
            t.attribute(SessionKey::Erspan(3), ip("1.1.1.1")),
            Attribution::Unknown
        );
        assert_eq!(t.attribute(SessionKey::None, None), Attribution::Unknown);
        assert_eq!(t.anonymous_overflow, 2);
        // Keys already seen keep their sessions.
        assert_eq!(
            t.attribute(SessionKey::Vni(99), ip("1.1.1.2")),
            Attribution::Session(a2)
        );
    }

    #[test]
    fn session_names_are_made_unique() {
        let mut t = SessionTable::new(
            vec![
                spec(SessionKey::Vni(1), &[], "web"),
                spec(SessionKey::Vni(2), &[], "web"),
                spec(SessionKey::Vni(3), &[], "anonymous vni 9"),
            ],
            true,
            8,
        );
        let Attribution::Session(anon) = t.attribute(SessionKey::Vni(9), None) else {
            panic!()
        };
        let names: Vec<&str> = t.iter().map(|s| s.spec.display.as_str()).collect();
        assert_eq!(
            names,
            ["web", "web #2", "anonymous vni 9", "anonymous vni 9 #2"]
        );
        assert_eq!(anon, 3);
    }

    #[test]
    fn unknown_sessions_are_refused_under_drop() {
        let mut t = SessionTable::new(vec![spec(SessionKey::Vni(42), &[], "any-source")], false, 8);
        assert_eq!(
            t.attribute(SessionKey::Vni(42), ip("10.0.0.1")),
            Attribution::Session(0)
        );
        assert_eq!(
            t.attribute(SessionKey::Vni(43), ip("10.0.0.1")),
            Attribution::Unknown
        );
        assert_eq!(t.attribute(SessionKey::None, None), Attribution::Unknown);
    }
}
