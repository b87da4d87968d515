//! Suricata's `host-os-policy`, `flow` and `defrag` sections, with the checks and the
//! `check-config` summary of those and of the `stream` memory keys.
//!
//! See [`HostOsPolicy`] for how `host-os-policy` resolves.

use std::fmt::{self, Write as _};
use std::net::IpAddr;

use ipnet::IpNet;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::Config;
use crate::error::KeyPath;
use crate::values::{ByteSize, de_bool, parse_net};

/// A `host-os-policy` name: the operating system (or `first`/`last` rule) of the
/// hosts in the networks listed under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum OsPolicy {
    /// `windows`.
    Windows,
    /// `bsd`: Suricata's default for unlisted addresses.
    #[default]
    Bsd,
    /// `bsd-right` (HP JetDirect in Novak's paper).
    BsdRight,
    /// `old-linux`.
    OldLinux,
    /// `linux`.
    Linux,
    /// `old-solaris`.
    OldSolaris,
    /// `solaris`.
    Solaris,
    /// `hpux10`.
    Hpux10,
    /// `hpux11`.
    Hpux11,
    /// `irix`.
    Irix,
    /// `macos`.
    Macos,
    /// `vista`.
    Vista,
    /// `windows2k3`.
    Windows2k3,
    /// `first` (mirador's key): earlier-arrived data wins.
    First,
    /// `last` (mirador's key): later-arrived data wins.
    Last,
}

/// The `host-os-policy` keys, in [`OsPolicy::ALL`] order.
const NAMES: [&str; 15] = [
    "windows",
    "bsd",
    "bsd-right",
    "old-linux",
    "linux",
    "old-solaris",
    "solaris",
    "hpux10",
    "hpux11",
    "irix",
    "macos",
    "vista",
    "windows2k3",
    "first",
    "last",
];

impl OsPolicy {
    /// Every name, in the order of Suricata's `suricata.yaml`, then `first`, `last`.
    pub const ALL: [OsPolicy; 15] = [
        OsPolicy::Windows,
        OsPolicy::Bsd,
        OsPolicy::BsdRight,
        OsPolicy::OldLinux,
        OsPolicy::Linux,
        OsPolicy::OldSolaris,
        OsPolicy::Solaris,
        OsPolicy::Hpux10,
        OsPolicy::Hpux11,
        OsPolicy::Irix,
        OsPolicy::Macos,
        OsPolicy::Vista,
        OsPolicy::Windows2k3,
        OsPolicy::First,
        OsPolicy::Last,
    ];

    /// The policy of an address no listed network contains: `bsd`.
    pub const DEFAULT: OsPolicy = OsPolicy::Bsd;

    /// The configuration key (`windows`, `bsd-right`, `old-linux`, ...).
    pub const fn as_str(self) -> &'static str {
        NAMES[self as usize]
    }

    /// Parses a configuration key, ASCII case-insensitively (as Suricata's
    /// `SCMapEnumNameToValue`); `None` if unknown.
    pub fn from_name(name: &str) -> Option<OsPolicy> {
        OsPolicy::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(name.trim()))
    }

    /// The TCP overlap policy a host of this kind gets, as Suricata resolves it:
    /// `StreamTcpSetOSPolicy` (`stream-tcp.c`) turns `bsd-right` into `bsd` and
    /// `old-solaris` into `solaris`, and `DoHandleDataOverlap` (`stream-tcp-list.c`,
    /// IDS mode) treats the others as follows:
    ///
    /// | name | TCP policy |
    /// |---|---|
    /// | `bsd`, `bsd-right`, `hpux10`, `irix`, `macos` | `bsd` |
    /// | `windows`, `windows2k3` | `windows` (resolves TCP overlaps as `bsd` does) |
    /// | `linux`, `old-linux` | `linux` |
    /// | `solaris`, `old-solaris`, `hpux11` | `solaris` |
    /// | `vista`, `first` | `first` (Suricata's overlap code has no case for `vista`: the data held wins) |
    /// | `last` | `last` |
    ///
    /// `old-linux` is the one approximation: Suricata's `old-linux` also takes the new
    /// data when a segment repeats exactly the range of a held one, where `linux`
    /// keeps the held data; everywhere else they agree.
    pub const fn stream_policy(self) -> StreamPolicy {
        match self {
            OsPolicy::Bsd
            | OsPolicy::BsdRight
            | OsPolicy::Hpux10
            | OsPolicy::Irix
            | OsPolicy::Macos => StreamPolicy::Bsd,
            OsPolicy::Windows | OsPolicy::Windows2k3 => StreamPolicy::Windows,
            OsPolicy::Linux | OsPolicy::OldLinux => StreamPolicy::Linux,
            OsPolicy::Solaris | OsPolicy::OldSolaris | OsPolicy::Hpux11 => StreamPolicy::Solaris,
            OsPolicy::Vista | OsPolicy::First => StreamPolicy::First,
            OsPolicy::Last => StreamPolicy::Last,
        }
    }

    /// The IP fragment overlap policy a host of this kind gets, as Suricata's
    /// `DefragGetOsPolicy` (`defrag.c`) maps it:
    ///
    /// | name | defrag policy |
    /// |---|---|
    /// | `bsd`, `hpux10`, `irix` | `bsd` |
    /// | `bsd-right` | `bsd-right` |
    /// | `linux`, `old-linux` | `linux` |
    /// | `first`, `old-solaris`, `hpux11`, `macos` | `first` |
    /// | `solaris` | `solaris` |
    /// | `windows`, `vista`, `windows2k3` | `windows` |
    /// | `last` | `last` |
    ///
    /// It differs from the TCP mapping ([`OsPolicy::stream_policy`]) for `macos`,
    /// `old-solaris`, `hpux11` (`first` here), `vista` (`windows` here) and
    /// `bsd-right` (its own policy here). Suricata maps `bsd-right` to
    /// `DEFRAG_POLICY_BSD_RIGHT` but its `DefragInsertFrag` has no case for it (a
    /// `\todo` in `defrag.c`); mirador's defragmenter implements it.
    pub const fn defrag_policy(self) -> DefragPolicy {
        match self {
            OsPolicy::Bsd | OsPolicy::Hpux10 | OsPolicy::Irix => DefragPolicy::Bsd,
            OsPolicy::BsdRight => DefragPolicy::BsdRight,
            OsPolicy::Linux | OsPolicy::OldLinux => DefragPolicy::Linux,
            OsPolicy::First | OsPolicy::OldSolaris | OsPolicy::Hpux11 | OsPolicy::Macos => {
                DefragPolicy::First
            }
            OsPolicy::Solaris => DefragPolicy::Solaris,
            OsPolicy::Windows | OsPolicy::Vista | OsPolicy::Windows2k3 => DefragPolicy::Windows,
            OsPolicy::Last => DefragPolicy::Last,
        }
    }
}

impl fmt::Display for OsPolicy {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The TCP overlap policies mirador's stream reassembly implements (the names
/// `mirador_flow::reassembly::Policy::from_name` takes); see
/// [`OsPolicy::stream_policy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum StreamPolicy {
    /// Held data always wins.
    First,
    /// New data always wins.
    Last,
    /// Suricata's `linux`.
    Linux,
    /// Suricata's `windows` (the same TCP resolution as `bsd`).
    Windows,
    /// Suricata's `bsd`, the default.
    #[default]
    Bsd,
    /// Suricata's `solaris`.
    Solaris,
}

impl StreamPolicy {
    /// `first`, `last`, `linux`, `windows`, `bsd` or `solaris`.
    pub const fn as_str(self) -> &'static str {
        match self {
            StreamPolicy::First => "first",
            StreamPolicy::Last => "last",
            StreamPolicy::Linux => "linux",
            StreamPolicy::Windows => "windows",
            StreamPolicy::Bsd => "bsd",
            StreamPolicy::Solaris => "solaris",
        }
    }
}

impl fmt::Display for StreamPolicy {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The IP fragment overlap policies mirador's defragmenter implements (the names
/// `mirador_flow::defrag::Policy` parses); see [`OsPolicy::defrag_policy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DefragPolicy {
    /// Earlier-arrived bytes win.
    First,
    /// Later-arrived bytes win.
    Last,
    /// Suricata's `bsd`, the default.
    #[default]
    Bsd,
    /// `bsd-right`.
    BsdRight,
    /// Suricata's `linux`.
    Linux,
    /// Suricata's `windows`.
    Windows,
    /// Suricata's `solaris`.
    Solaris,
}

impl DefragPolicy {
    /// `first`, `last`, `bsd`, `bsd-right`, `linux`, `windows` or `solaris`.
    pub const fn as_str(self) -> &'static str {
        match self {
            DefragPolicy::First => "first",
            DefragPolicy::Last => "last",
            DefragPolicy::Bsd => "bsd",
            DefragPolicy::BsdRight => "bsd-right",
            DefragPolicy::Linux => "linux",
            DefragPolicy::Windows => "windows",
            DefragPolicy::Solaris => "solaris",
        }
    }
}

impl fmt::Display for DefragPolicy {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `host-os-policy:` section, resolved: each listed network once, with the
/// policy it is listed under first.
///
/// `host-os-policy` names, per operating system, the destination networks that run it:
///
/// ```yaml
/// host-os-policy:
///   windows: [0.0.0.0/0]
///   linux: [10.0.0.0/8, "2001:db8::/32", 192.0.2.7]
/// ```
///
/// The fifteen names ([`OsPolicy`]) are Suricata's thirteen (`util-host-os-info.c`,
/// `sc_hinfo_os_policy_map`) plus `first` and `last`, which Suricata has internally
/// (`OS_POLICY_FIRST`/`OS_POLICY_LAST`) but does not accept in its configuration. A
/// packet's policy is that of its **destination** (the receiving host decides how to
/// resolve overlaps), found by **longest-prefix match** as in Suricata's radix tree;
/// an address no network contains gets [`OsPolicy::DEFAULT`], `bsd` (Suricata's
/// `OS_POLICY_DEFAULT` and `DEFRAG_POLICY_DEFAULT`). Suricata's shipped
/// `suricata.yaml` lists `windows: [0.0.0.0/0]`; mirador's embedded config lists no
/// network, so the built-in `bsd` applies.
///
/// A network listed under two policies (after masking host bits: `10.1.2.3/8` is
/// `10.0.0.0/8`; a bare address is a `/32` or `/128`) keeps the policy it is listed
/// under **first**, in the order of the file: Suricata's radix tree ignores a
/// duplicate key/netmask insert ("Duplicate entry for this ip address/netblock",
/// `util-radix-tree.c`), and its loader inserts the policies in file order. The later
/// listing is kept in [`HostOsPolicy::ignored`] so that `mirador check-config` shows
/// it.
///
/// TCP reassembly and IP defragmentation map the fifteen names to the policies they
/// implement differently; see [`OsPolicy::stream_policy`] and
/// [`OsPolicy::defrag_policy`].
///
/// Each key takes a list of CIDRs or bare addresses, IPv4 or IPv6 (quote IPv6 in
/// flow lists: `["2001:db8::/32"]`); an item may hold several, comma-separated, as
/// in Suricata; a single string or nothing is accepted too. Unknown keys are errors;
/// absent keys list nothing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HostOsPolicy {
    /// The listed networks (host bits masked), in the order of the file, each once.
    pub entries: Vec<(IpNet, OsPolicy)>,
    /// Networks listed again under a later key, with that later key: ignored, as
    /// Suricata ignores them.
    pub ignored: Vec<(IpNet, OsPolicy)>,
}

impl HostOsPolicy {
    /// The policy of a destination address: that of the longest listed prefix
    /// containing it, else [`OsPolicy::DEFAULT`] (`bsd`). A linear scan: meant for
    /// flow set-up, not per packet.
    pub fn policy_for(&self, addr: IpAddr) -> OsPolicy {
        self.entries
            .iter()
            .filter(|(net, _)| net.contains(&addr))
            .max_by_key(|(net, _)| net.prefix_len())
            .map_or(OsPolicy::DEFAULT, |&(_, p)| p)
    }

    /// [`HostOsPolicy::policy_for`], as a TCP overlap policy.
    pub fn stream_policy_for(&self, addr: IpAddr) -> StreamPolicy {
        self.policy_for(addr).stream_policy()
    }

    /// [`HostOsPolicy::policy_for`], as an IP fragment overlap policy.
    pub fn defrag_policy_for(&self, addr: IpAddr) -> DefragPolicy {
        self.policy_for(addr).defrag_policy()
    }

    /// Every listed network with its TCP overlap policy (networks are distinct, so
    /// the order does not matter to a longest-prefix lookup).
    pub fn stream_policies(&self) -> Vec<(IpNet, StreamPolicy)> {
        self.entries
            .iter()
            .map(|&(n, p)| (n, p.stream_policy()))
            .collect()
    }

    /// Every listed network with its IP fragment overlap policy.
    pub fn defrag_policies(&self) -> Vec<(IpNet, DefragPolicy)> {
        self.entries
            .iter()
            .map(|&(n, p)| (n, p.defrag_policy()))
            .collect()
    }

    fn push(&mut self, net: IpNet, policy: OsPolicy) {
        let net = net.trunc();
        match self.entries.iter().find(|(n, _)| *n == net) {
            Some(&(_, first)) if first == policy => {}
            Some(_) => self.ignored.push((net, policy)),
            None => self.entries.push((net, policy)),
        }
    }
}

fn net_msg(v: &str) -> String {
    format!("invalid value '{v}', expected an IP address or a CIDR such as 10.0.0.0/16")
}

/// Networks from one string: one or more, comma-separated.
fn parse_nets<E: de::Error>(v: &str) -> Result<Vec<IpNet>, E> {
    v.split(',')
        .map(|s| parse_net(s).ok_or_else(|| E::custom(net_msg(s.trim()))))
        .collect()
}

/// One list item of a `host-os-policy` key.
struct NetItem(Vec<IpNet>);

impl<'de> Deserialize<'de> for NetItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = NetItem;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an IP address or a CIDR")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<NetItem, E> {
                parse_nets(v).map(NetItem)
            }
        }
        d.deserialize_str(V)
    }
}

/// The value of a `host-os-policy` key: a list, one string, or nothing.
struct NetList(Vec<IpNet>);

impl<'de> Deserialize<'de> for NetList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = NetList;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of IP addresses or CIDRs")
            }
            fn visit_unit<E: de::Error>(self) -> Result<NetList, E> {
                Ok(NetList(Vec::new()))
            }
            fn visit_none<E: de::Error>(self) -> Result<NetList, E> {
                Ok(NetList(Vec::new()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<NetList, E> {
                parse_nets(v).map(NetList)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NetList, A::Error> {
                let mut out = Vec::new();
                while let Some(NetItem(nets)) = seq.next_element()? {
                    out.extend(nets);
                }
                Ok(NetList(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// Reads a `host-os-policy` key; rejects unknown names and a name given twice.
struct KeySeed<'a>(&'a [OsPolicy]);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = OsPolicy;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<OsPolicy, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySeed<'_> {
    type Value = OsPolicy;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an operating system name")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<OsPolicy, E> {
        match OsPolicy::from_name(v) {
            Some(p) if self.0.contains(&p) => Err(E::duplicate_field(p.as_str())),
            Some(p) => Ok(p),
            None => Err(E::unknown_field(v, &NAMES)),
        }
    }
}

impl<'de> Deserialize<'de> for HostOsPolicy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = HostOsPolicy;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of operating system names to lists of CIDRs")
            }
            fn visit_unit<E: de::Error>(self) -> Result<HostOsPolicy, E> {
                Ok(HostOsPolicy::default())
            }
            fn visit_none<E: de::Error>(self) -> Result<HostOsPolicy, E> {
                Ok(HostOsPolicy::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<HostOsPolicy, A::Error> {
                let mut out = HostOsPolicy::default();
                let mut seen = Vec::new();
                while let Some(policy) = map.next_key_seed(KeySeed(&seen))? {
                    seen.push(policy);
                    let NetList(nets) = map.next_value()?;
                    for net in nets {
                        out.push(net, policy);
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_any(V)
    }
}

/// The `flow:` section: the flow table, Suricata's keys and `suricata.yaml` defaults.
///
/// The values are for the whole sensor: the runtime splits them across its worker
/// shards (each worker gets its share of `memcap`, `prealloc` and `max-flows`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct FlowConfig {
    /// `memcap`: memory the flow table may use (default 128mb, as in
    /// `suricata.yaml`; Suricata's built-in default is 32mb). Past it the table goes
    /// into emergency mode.
    pub memcap: ByteSize,
    /// `hash-size`: flow hash buckets (default 65536).
    pub hash_size: u32,
    /// `prealloc`: flows allocated at start-up (default 10000).
    pub prealloc: usize,
    /// `emergency-recovery`: the percentage of flows to prune, once the table is in
    /// emergency mode, before it leaves it (1..=100, default 30).
    #[serde(deserialize_with = "de_percent")]
    pub emergency_recovery: u8,
    /// `max-flows` (mirador's key): the most flows tracked at once; 0 (default) =
    /// derived from `memcap` (`memcap` divided by the memory one flow takes).
    pub max_flows: usize,
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            memcap: ByteSize::mib(128),
            hash_size: 65536,
            prealloc: 10000,
            emergency_recovery: 30,
            max_flows: 0,
        }
    }
}

fn de_percent<'de, D: Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
    fn msg(v: impl fmt::Display) -> String {
        format!("invalid value {v}, expected a percentage (1..=100)")
    }
    struct V;
    impl Visitor<'_> for V {
        type Value = u8;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a percentage (1..=100)")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<u8, E> {
            match u8::try_from(v) {
                Ok(p @ 1..=100) => Ok(p),
                _ => Err(E::custom(msg(v))),
            }
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<u8, E> {
            match u64::try_from(v) {
                Ok(u) => self.visit_u64(u),
                Err(_) => Err(E::custom(msg(v))),
            }
        }
    }
    d.deserialize_any(V)
}

/// The `defrag:` section: IP defragmentation, Suricata's keys and `suricata.yaml`
/// defaults. The overlap policy of each datagram comes from `host-os-policy` (by
/// destination; [`OsPolicy::defrag_policy`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct DefragConfig {
    /// `memcap`: memory all datagrams in progress may hold (default 32mb, as in
    /// `suricata.yaml`; Suricata's built-in default is 16mb).
    pub memcap: ByteSize,
    /// `hash-size`: tracker hash buckets (default 65536, as in `suricata.yaml`;
    /// Suricata's built-in default is 4096).
    pub hash_size: u32,
    /// `trackers`: datagrams in progress at most (default 65535).
    pub trackers: usize,
    /// `max-frags`: fragments held at most, all datagrams together (default 65535).
    pub max_frags: usize,
    /// `prealloc`: allocate the trackers at start-up (default yes).
    #[serde(deserialize_with = "de_bool")]
    pub prealloc: bool,
    /// `timeout`: seconds a datagram in progress is kept after its latest fragment
    /// (1..=86400, default 60).
    pub timeout: u32,
    /// `max-fragments-per-datagram` (mirador's key): fragments one datagram may hold,
    /// duplicates included (default 8192: a maximum-size datagram cut into 8-byte
    /// fragments, as some evasion tests send).
    pub max_fragments_per_datagram: usize,
}

impl Default for DefragConfig {
    fn default() -> Self {
        DefragConfig {
            memcap: ByteSize::mib(32),
            hash_size: 65536,
            trackers: 65535,
            max_frags: 65535,
            prealloc: true,
            timeout: 60,
            max_fragments_per_datagram: 8192,
        }
    }
}

/// Suricata's bounds on `defrag.timeout` (`TIMEOUT_MIN`, `TIMEOUT_MAX` in `defrag.c`).
const DEFRAG_TIMEOUT: std::ops::RangeInclusive<u32> = 1..=86400;

/// Checks what serde cannot: sizes and counts that must not be 0, ranges.
pub(crate) fn validate(config: &Config) -> Result<(), (KeyPath, String)> {
    let root = |k: &str| KeyPath::default().key(k);
    let sizes = [
        (root("stream").key("memcap"), config.stream.memcap),
        (
            root("stream").key("reassembly").key("memcap"),
            config.stream.reassembly.memcap,
        ),
        (
            root("stream")
                .key("reassembly")
                .key("max-buffered-per-direction"),
            config.stream.reassembly.max_buffered_per_direction,
        ),
        (root("flow").key("memcap"), config.flow.memcap),
        (root("defrag").key("memcap"), config.defrag.memcap),
    ];
    for (path, size) in sizes {
        if size.bytes() == 0 {
            return Err((path, "invalid value 0, expected a size above 0".into()));
        }
    }
    let counts = [
        (
            root("stream")
                .key("reassembly")
                .key("max-segments-per-direction"),
            config.stream.reassembly.max_segments_per_direction,
        ),
        (
            root("flow").key("hash-size"),
            config.flow.hash_size as usize,
        ),
        (
            root("defrag").key("hash-size"),
            config.defrag.hash_size as usize,
        ),
        (root("defrag").key("trackers"), config.defrag.trackers),
        (root("defrag").key("max-frags"), config.defrag.max_frags),
        (
            root("defrag").key("max-fragments-per-datagram"),
            config.defrag.max_fragments_per_datagram,
        ),
    ];
    for (path, n) in counts {
        if n == 0 {
            return Err((path, "invalid value 0, expected at least 1".into()));
        }
    }
    if !DEFRAG_TIMEOUT.contains(&config.defrag.timeout) {
        return Err((
            root("defrag").key("timeout"),
            format!(
                "invalid value {}, expected 1..=86400 (seconds)",
                config.defrag.timeout
            ),
        ));
    }
    Ok(())
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// The `check-config` lines for the stream memory keys, `host-os-policy`, `flow` and
/// `defrag`.
pub(crate) fn describe(config: &Config, w: &mut String) {
    let s = &config.stream;
    let r = &s.reassembly;
    let _ = writeln!(
        w,
        "stream.memcap {}; stream.reassembly: memcap {}; per direction at most {} segments, {} buffered; check-overlap-different-data {}",
        s.memcap,
        r.memcap,
        r.max_segments_per_direction,
        r.max_buffered_per_direction,
        yes_no(r.check_overlap_different_data)
    );

    let h = &config.host_os_policy;
    let d = OsPolicy::DEFAULT;
    if h.entries.is_empty() {
        let _ = writeln!(
            w,
            "host-os-policy: no networks listed; every destination is {d} (stream {}, defrag {})",
            d.stream_policy(),
            d.defrag_policy()
        );
    } else {
        let _ = writeln!(
            w,
            "host-os-policy (by destination, longest prefix wins; unlisted: {d}):"
        );
        let mut shown: Vec<OsPolicy> = Vec::new();
        for &(_, p) in &h.entries {
            if shown.contains(&p) {
                continue;
            }
            shown.push(p);
            let nets: Vec<String> = h
                .entries
                .iter()
                .filter(|(_, q)| *q == p)
                .map(|(n, _)| n.to_string())
                .collect();
            let _ = writeln!(
                w,
                "  {p} (stream {}, defrag {}): {}",
                p.stream_policy(),
                p.defrag_policy(),
                nets.join(", ")
            );
        }
        for &(net, later) in &h.ignored {
            let first = h.policy_for_exact(net).unwrap_or(d);
            let _ = writeln!(
                w,
                "  ignored: {net} under {later} (listed first under {first}, which wins as in Suricata)"
            );
        }
    }

    let f = &config.flow;
    let max_flows = if f.max_flows == 0 {
        "derived from memcap".to_string()
    } else {
        f.max_flows.to_string()
    };
    let _ = writeln!(
        w,
        "flow (all workers): memcap {}; hash-size {}; prealloc {}; emergency-recovery {}%; max-flows {max_flows}",
        f.memcap, f.hash_size, f.prealloc, f.emergency_recovery
    );
    let g = &config.defrag;
    let _ = writeln!(
        w,
        "defrag: memcap {}; hash-size {}; trackers {}; max-frags {}; prealloc {}; timeout {}s; max-fragments-per-datagram {}",
        g.memcap,
        g.hash_size,
        g.trackers,
        g.max_frags,
        yes_no(g.prealloc),
        g.timeout,
        g.max_fragments_per_datagram
    );
}

impl HostOsPolicy {
    /// The policy a network is listed under, exactly (no prefix match).
    fn policy_for_exact(&self, net: IpNet) -> Option<OsPolicy> {
        self.entries
            .iter()
            .find(|(n, _)| *n == net)
            .map(|&(_, p)| p)
    }
}

#[cfg(test)]
mod tests;
