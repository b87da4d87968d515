//! The rule set at match time: signatures grouped as Suricata groups them,
//! a prefilter per group, and full verification of the candidates only.
//!
//! Groups are per variable set (each tenant with its own variables gets its
//! own resolution of every rule's addresses and ports; tenants without
//! overrides share the default one), per protocol class (TCP, UDP, ICMP,
//! other IP) and per inspection kind (packet payload or reassembled
//! stream), and within those per *port group*: the destination ports are
//! cut into ranges over which the set of rules whose destination ports
//! cover them is constant (Suricata's `SigGroupHead`s by port), with a
//! 65,536-entry table from port to group. Rules whose ports cannot be
//! known (any, or `<>` rules) sit in every group of their class. Each
//! group has its own prefilter ([`Prefilter`]) over its rules' fast
//! patterns; a packet's candidates are verified in rule order, so the
//! alerts of one packet come out in the same order every run.
//!
//! Matching allocates nothing per packet once [`Scratch`] has warmed up.

use std::collections::HashMap;
use std::net::IpAddr;

use mirador_rules::Vars;

use crate::buffer::AppProto;
use crate::flowvars::Flowbits;
use crate::flowvars::{FlowVars, Names};
use crate::header::PacketView;
use crate::iponly::{IpOnly, Member};
use crate::payload::{DecodeBuf, Vars as PayloadVars};
use crate::prefilter::{Candidates, Entry, Prefilter};
use crate::signature::{Inspect, Proto, Resolved, Signature, Skip, header_matches};

/// The protocol classes rules are grouped by.
const CLASSES: usize = 4;

fn class_of(ip_proto: u8) -> usize {
    match ip_proto {
        6 => 0,
        17 => 1,
        1 | 58 => 2,
        _ => 3,
    }
}

/// The classes a rule's protocol can match.
fn classes_of(p: Proto) -> &'static [usize] {
    match p {
        Proto::Tcp => &[0],
        Proto::Udp => &[1],
        Proto::Icmp | Proto::Icmpv4 | Proto::Icmpv6 => &[2],
        Proto::Sctp => &[3],
        Proto::TcpUdp => &[0, 1],
        Proto::Ip | Proto::Ipv4 | Proto::Ipv6 => &[0, 1, 2, 3],
    }
}

#[derive(Debug)]
struct Group {
    rules: Vec<u32>,
    prefilter: Prefilter,
}

/// One class and inspection kind: the rules that apply to any port, and
/// port groups of the rest with the port → group table.
///
/// Each port group also holds the any-port rules (Suricata's way), so that
/// a packet runs one prefilter, the one of its destination port's group, or
/// the any-port group when no rule names its port. The prefilter's cost is
/// per byte searched far more than per pattern (BENCHMARKS.md), so one pass
/// over the union beats two passes. The copies were the bulk of rule
/// memory with aho-corasick automatons; the prefilter's own structures are
/// small enough now.
#[derive(Debug)]
struct PortGroups {
    any: Group,
    groups: Vec<Group>,
    /// Destination port → index into `groups` + 1 (0 = no port-specific
    /// rule for that port). Empty for classes without ports.
    by_port: Vec<u16>,
}

impl PortGroups {
    fn group(&self, dport: u16) -> Option<&Group> {
        let i = usize::from(*self.by_port.get(usize::from(dport))?);
        i.checked_sub(1).and_then(|i| self.groups.get(i))
    }
}

/// Every signature resolved for one variable set, grouped.
#[derive(Debug)]
struct VarSet {
    resolved: Vec<Option<Resolved>>,
    /// The IP-only rules (see [`crate::iponly`]), in no group.
    ip_only: IpOnly,
    /// `[class][kind]`, kinds as [`Kind`] numbers them.
    groups: Vec<[PortGroups; 3]>,
    /// Transaction rules, `[app][dir]`.
    tx: tx::TxGroups,
}

/// Which rules a set of port groups holds, by where they inspect.
///
/// `Either` rules inspect a packet only when its flow's direction is not
/// reassembled (or the packet has no payload): keeping them apart from the
/// rules that always inspect packets lets a reassembled flow's packets skip
/// their prefilter altogether, instead of finding candidates that
/// verification then refuses. On TCP that halves the prefilter's work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `Packet` and `Both` rules: every packet.
    Packet = 0,
    /// `Either` rules, on packets of flows not reassembled.
    PacketUnlessStream = 1,
    /// `Stream`, `Either` and `Both` rules: reassembled stream data.
    Stream = 2,
}

impl Kind {
    fn holds(self, i: Inspect) -> bool {
        match self {
            Kind::Packet => matches!(i, Inspect::Packet | Inspect::Both),
            Kind::PacketUnlessStream => i == Inspect::Either,
            Kind::Stream => matches!(i, Inspect::Stream | Inspect::Either | Inspect::Both),
        }
    }

    /// The kinds that inspect `data` of a packet (`stream == false`) or of
    /// a stream.
    fn of(stream: bool, reassembled: bool, data: &[u8]) -> &'static [Kind] {
        if stream {
            &[Kind::Stream]
        } else if reassembled && !data.is_empty() {
            &[Kind::Packet]
        } else {
            &[Kind::Packet, Kind::PacketUnlessStream]
        }
    }
}

/// Counters of building.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildStats {
    /// Port groups over all classes, kinds and variable sets.
    pub groups: usize,
    /// The largest group's rule count.
    pub largest_group: usize,
    /// Distinct prefilter patterns, summed over groups.
    pub patterns: usize,
    /// IP-only rules, summed over variable sets.
    pub ip_only: usize,
    /// Rules whose header did not resolve for some variable set, with why.
    pub unresolved: Vec<(u32, String)>,
}

/// A rule set ready to match.
pub struct Engine {
    sigs: Vec<Signature>,
    /// Signature → its place in Suricata's inspection order ([`order`]).
    rank: Vec<u32>,
    names: Names,
    var_sets: Vec<VarSet>,
    /// Tenant name → index into `var_sets` (absent = 0, the default).
    tenants: HashMap<String, usize>,
    stats: BuildStats,
    /// See [`Engine::has_tx_payload_rules`], per protocol.
    tx_payload: [bool; 3],
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("signatures", &self.sigs.len())
            .field("var_sets", &self.var_sets.len())
            .field("stats", &self.stats)
            .finish()
    }
}

/// What one packet (or stream chunk) offers to matching.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// The variable set (from [`Engine::var_set`]).
    pub var_set: usize,
    /// Header fields for the header keywords.
    pub view: PacketView,
    /// Source address and port (of this packet or stream direction).
    pub src: IpAddr,
    /// Source port (0 without ports).
    pub sport: u16,
    /// Destination address.
    pub dst: IpAddr,
    /// Destination port.
    pub dport: u16,
    /// The bytes the payload keywords inspect: the packet payload, or the
    /// stream window.
    pub data: &'a [u8],
    /// Events the packet raised (decoder and stream), Suricata's names.
    pub events: &'a [&'a str],
    /// The flow is reassembled (its TCP payload is inspected as a stream).
    pub reassembled: bool,
    /// This is the first packet of its direction of the flow: IP-only
    /// rules are inspected on it, and on no other.
    pub first_in_direction: bool,
    /// Matches that do not stand (the stream window's carried-over bytes
    /// gave them already): not reported, and their flow actions not seen
    /// by the rules after them.
    pub skip: &'a [Match],
    /// The flow's application-layer protocol, once detected.
    pub app: Option<AppProto>,
    /// This packet completed the flow's protocol detection: only the rules
    /// with nothing but `app-layer-protocol` (Suricata's "PD-only" rules,
    /// which match on such packets alone) are inspected on this pass.
    pub proto_detect: bool,
    /// The flow's payload is not inspected (a TLS session past its
    /// handshake, Suricata's default `encryption-handling`): rules with
    /// payload keywords do not match; the others still do.
    pub no_payload: bool,
}

/// Reusable match state of one worker.
#[derive(Debug, Default)]
pub struct Scratch {
    candidates: Candidates,
    /// A packet's candidates from every group: (rank, signature, IP-only).
    ordered: Vec<(u32, u32, bool)>,
    /// The flow's variables as the rules matched so far on this packet
    /// left them (used once one of them has a flowbits/flowint action).
    vars: FlowVars,
    pvars: PayloadVars,
    /// `base64_decode`'s output, allocated on first use.
    decode: DecodeBuf,
    /// A transformed buffer (`dotprefix`).
    xform: Vec<u8>,
}

/// A rule that matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    /// The signature (index into [`Engine::signatures`]).
    pub sig: u32,
}

impl Engine {
    /// Groups `sigs` (compiled with `names`) for the default variables and
    /// each tenant's overrides.
    pub fn build(
        sigs: Vec<Signature>,
        names: Names,
        default_vars: &Vars,
        tenant_vars: &[(String, Vars)],
    ) -> Engine {
        let mut stats = BuildStats::default();
        let mut var_sets = vec![Self::var_set_for(&sigs, default_vars, &mut stats)];
        let mut tenants = HashMap::new();
        for (name, vars) in tenant_vars {
            tenants.insert(name.clone(), var_sets.len());
            var_sets.push(Self::var_set_for(&sigs, vars, &mut stats));
        }
        let rank = order(&sigs);
        let mut tx_payload = [false; 3];
        for s in &sigs {
            if let (Some(t), false) = (&s.tx, s.payload.is_empty()) {
                tx_payload[t.app.index()] = true;
            }
        }
        Engine {
            tx_payload,
            sigs,
            rank,
            names,
            var_sets,
            tenants,
            stats,
        }
    }

    fn var_set_for(sigs: &[Signature], vars: &Vars, stats: &mut BuildStats) -> VarSet {
        let resolved: Vec<Option<Resolved>> = sigs
            .iter()
            .map(|s| match Resolved::new(s, vars) {
                Ok(r) => Some(r),
                Err(e) => {
                    stats.unresolved.push((s.sid, e.to_string()));
                    None
                }
            })
            .collect();
        let ip_only_rule: Vec<bool> = sigs
            .iter()
            .zip(&resolved)
            .map(|(s, r)| r.is_some() && is_ip_only(s, vars))
            .collect();
        let members: Vec<Member<'_>> = sigs
            .iter()
            .enumerate()
            .filter(|(i, _)| ip_only_rule[*i])
            .filter_map(|(i, s)| {
                let r = resolved[i].as_ref()?;
                Some(Member {
                    rule: i as u32,
                    src: &r.header.src,
                    dst: &r.header.dst,
                    bidirectional: s.bidirectional,
                })
            })
            .collect();
        let ip_only = IpOnly::build(&members);
        stats.ip_only += ip_only.len();
        let mut groups = Vec::with_capacity(CLASSES);
        for class in 0..CLASSES {
            let kinds = [Kind::Packet, Kind::PacketUnlessStream, Kind::Stream].map(|kind| {
                let members: Vec<u32> = sigs
                    .iter()
                    .enumerate()
                    .filter(|(i, s)| {
                        resolved[*i].is_some()
                            && !ip_only_rule[*i]
                            && s.tx.is_none()
                            && classes_of(s.proto).contains(&class)
                            && kind.holds(s.inspect)
                    })
                    .map(|(i, _)| i as u32)
                    .collect();
                Self::port_groups(sigs, &resolved, &members, class < 2 || class == 3, stats)
            });
            groups.push(kinds);
        }
        let tx = tx::build(sigs, &resolved, stats);
        VarSet {
            resolved,
            ip_only,
            groups,
            tx,
        }
    }

    fn make_group(sigs: &[Signature], rules: Vec<u32>, stats: &mut BuildStats) -> Group {
        let entries: Vec<Entry> = rules
            .iter()
            .enumerate()
            .map(|(local, &r)| Entry {
                rule: local as u32,
                pattern: sigs[r as usize].fast_pattern.clone(),
            })
            .collect();
        // Building cannot fail for in-range rules and bounded patterns;
        // if it ever did, every rule becomes a candidate (slower, never
        // wrong).
        let prefilter = Prefilter::build(rules.len(), &entries).unwrap_or_else(|_| {
            let all: Vec<Entry> = (0..rules.len() as u32)
                .map(|rule| Entry {
                    rule,
                    pattern: None,
                })
                .collect();
            Prefilter::build(rules.len(), &all).unwrap_or_else(|_| unreachable!("no patterns"))
        });
        stats.groups += 1;
        stats.largest_group = stats.largest_group.max(rules.len());
        stats.patterns += prefilter.patterns();
        Group { rules, prefilter }
    }

    fn port_groups(
        sigs: &[Signature],
        resolved: &[Option<Resolved>],
        members: &[u32],
        has_ports: bool,
        stats: &mut BuildStats,
    ) -> PortGroups {
        // A rule's destination ports, or `None` for any port (and for
        // `<>` rules, which may match either way round).
        let dst_ranges = |i: u32| -> Option<Vec<(u16, u16)>> {
            let s = &sigs[i as usize];
            let r = resolved[i as usize].as_ref()?;
            if !has_ports || s.bidirectional || r.header.dst_ports.is_any() {
                None
            } else {
                Some(r.header.dst_ports.ranges().to_vec())
            }
        };
        let (any, specific): (Vec<u32>, Vec<u32>) =
            members.iter().partition(|&&m| dst_ranges(m).is_none());
        let any_rules = any.clone();
        let any = Self::make_group(sigs, any, stats);
        if !has_ports {
            return PortGroups {
                any,
                groups: Vec::new(),
                by_port: Vec::new(),
            };
        }
        // Cut points: every start and end+1 of the port-specific ranges;
        // between two cuts the set of rules is constant.
        let ranges: Vec<(u32, Vec<(u16, u16)>)> = specific
            .iter()
            .map(|&m| (m, dst_ranges(m).unwrap_or_default()))
            .collect();
        let mut cuts = vec![0u32, 65536];
        for (_, rs) in &ranges {
            for &(a, b) in rs {
                cuts.push(u32::from(a));
                cuts.push(u32::from(b) + 1);
            }
        }
        cuts.sort_unstable();
        cuts.dedup();
        let mut groups: Vec<Group> = Vec::new();
        let mut index: HashMap<Vec<u32>, u16> = HashMap::new();
        let mut by_port = vec![0u16; 65536];
        for w in cuts.windows(2) {
            let (lo, hi) = (w[0], w[1]);
            let rules: Vec<u32> = ranges
                .iter()
                .filter(|(_, rs)| {
                    rs.iter()
                        .any(|&(a, b)| u32::from(a) <= lo && lo <= u32::from(b))
                })
                .map(|(m, _)| *m)
                .collect();
            if rules.is_empty() {
                continue;
            }
            let gi = match index.get(&rules) {
                Some(&g) => g,
                None => {
                    let g = u16::try_from(groups.len() + 1).unwrap_or(u16::MAX);
                    let mut all = rules.clone();
                    all.extend_from_slice(&any_rules);
                    all.sort_unstable();
                    groups.push(Self::make_group(sigs, all, stats));
                    index.insert(rules, g);
                    g
                }
            };
            for p in lo..hi {
                by_port[p as usize] = gi;
            }
        }
        PortGroups {
            any,
            groups,
            by_port,
        }
    }

    /// The compiled signatures.
    pub fn signatures(&self) -> &[Signature] {
        &self.sigs
    }

    /// Whether some rule's outcome depends on matches in other flows
    /// (`threshold`, `detection_filter`, `xbits`): those go through the
    /// host-keyed stage.
    pub fn needs_host_stage(&self) -> bool {
        self.sigs
            .iter()
            .any(|s| s.threshold.is_some() || s.detection_filter.is_some() || !s.xbits.is_empty())
    }

    /// Whether some transaction rule of protocol `app` has payload
    /// keywords outside its sticky buffers (inspected on the raw stream
    /// with the transaction).
    pub fn has_tx_payload_rules(&self, app: AppProto) -> bool {
        self.tx_payload[app.index()]
    }

    /// Whether some loaded rule checks file digests of `kind`.
    pub fn uses_file_hash(&self, kind: crate::buffer::FileHashKind) -> bool {
        self.sigs
            .iter()
            .filter_map(|s| s.tx.as_ref())
            .any(|t| t.file_hashes.iter().any(|h| h.kind == kind))
    }

    /// Whether some loaded rule inspects sticky buffer `b`.
    pub fn uses_buffer(&self, b: crate::buffer::Buffer) -> bool {
        self.sigs
            .iter()
            .filter_map(|s| s.tx.as_ref())
            .any(|t| t.lists.iter().any(|l| l.buffer == b))
    }

    /// Interned variable names.
    pub fn names(&self) -> &Names {
        &self.names
    }

    /// Grouping figures.
    pub fn stats(&self) -> &BuildStats {
        &self.stats
    }

    /// The variable set of tenant `name` (0, the default, unless the
    /// config gave the tenant variables of its own).
    pub fn var_set(&self, tenant: &str) -> usize {
        self.tenants.get(tenant).copied().unwrap_or(0)
    }

    /// Matches one packet (`stream == false`) or stream window
    /// (`stream == true`): appends the rules that match to `out`, in
    /// Suricata's inspection order (see [`order`]). Flow-state conditions
    /// are checked against `flow` as the rules matched before them on this
    /// packet would leave it; `flow` itself is not changed: post-match
    /// actions are the caller's ([`Engine::apply_actions`], in the order of
    /// `out`), once it has decided which matches stand.
    pub fn matches(
        &self,
        input: &Input<'_>,
        stream: bool,
        flow: &FlowVars,
        scratch: &mut Scratch,
        out: &mut Vec<Match>,
    ) {
        let Some(vs) = self.var_sets.get(input.var_set) else {
            return;
        };
        // Every stream rule has payload keywords.
        if stream && input.no_payload {
            return;
        }
        let class = class_of(input.view.ip_proto);
        let Scratch {
            candidates,
            ordered,
            vars,
            pvars,
            decode,
            ..
        } = scratch;
        ordered.clear();
        // (The protocol-detection pass is for PD-only rules alone.)
        if input.first_in_direction && !stream && !input.proto_detect {
            vs.ip_only.candidates(input.src, input.dst, |si| {
                ordered.push((self.rank[si as usize], si, true));
            });
        }
        // Per kind, the destination port's group, which holds the any-port
        // rules too (`<>` rules are any-port rules, so the destination
        // port is the only lookup).
        let groups = Kind::of(stream, input.reassembled, input.data)
            .iter()
            .map(|&k| &vs.groups[class][k as usize])
            .map(|pg| pg.group(input.dport).unwrap_or(&pg.any));
        for group in groups {
            group.prefilter.candidates(input.data, candidates);
            for &local in candidates.as_slice() {
                if let Some(&si) = group.rules.get(local as usize) {
                    ordered.push((self.rank[si as usize], si, false));
                }
            }
        }
        // Suricata's order, so that a rule sees the flowbits and flowints
        // that rules before it set on this packet.
        ordered.sort_unstable();
        let mut changed = false;
        for &(_, si, ip_only) in ordered.iter() {
            let sig = &self.sigs[si as usize];
            let Some(res) = vs.resolved[si as usize].as_ref() else {
                continue;
            };
            let flow_now = if changed { &*vars } else { flow };
            let hit = if ip_only {
                sig.proto.admits(input.view.ip_proto, input.src.is_ipv6())
                    && (res.admits(input.src, input.sport, input.dst, input.dport)
                        || sig.bidirectional
                            && res.admits(input.dst, input.dport, input.src, input.sport))
            } else {
                self.verify(sig, res, input, stream, flow_now, (pvars, decode))
            };
            if !hit {
                continue;
            }
            let m = Match { sig: si };
            if input.skip.contains(&m) {
                continue;
            }
            out.push(m);
            if sig.has_flow_actions() {
                if !changed {
                    vars.copy_from(flow);
                    changed = true;
                }
                self.apply_actions(m, vars);
            }
        }
    }

    /// The prefilter step alone: how many candidates the groups of a
    /// packet (`ip_proto`, destination port) give for `data`. For
    /// benchmarks and tools.
    pub fn candidates(
        &self,
        var_set: usize,
        ip_proto: u8,
        dport: u16,
        stream: bool,
        data: &[u8],
        scratch: &mut Scratch,
    ) -> usize {
        let Some(vs) = self.var_sets.get(var_set) else {
            return 0;
        };
        let mut n = 0;
        // A packet here is one of a flow that is not reassembled.
        let groups = Kind::of(stream, false, data)
            .iter()
            .map(|&k| &vs.groups[class_of(ip_proto)][k as usize])
            .map(|pg| pg.group(dport).unwrap_or(&pg.any));
        for group in groups {
            group.prefilter.candidates(data, &mut scratch.candidates);
            n += scratch.candidates.as_slice().len();
        }
        n
    }

    fn verify(
        &self,
        sig: &Signature,
        res: &Resolved,
        input: &Input<'_>,
        stream: bool,
        flow: &FlowVars,
        (pvars, decode): (&mut PayloadVars, &mut DecodeBuf),
    ) -> bool {
        let v6 = input.src.is_ipv6();
        if !sig.proto.admits(input.view.ip_proto, v6) {
            return false;
        }
        let fwd = res.admits(input.src, input.sport, input.dst, input.dport);
        let rev = sig.bidirectional && res.admits(input.dst, input.dport, input.src, input.sport);
        if !(fwd || rev) {
            return false;
        }
        // `Either` rules run on the stream when the flow is reassembled,
        // on packets otherwise; never both for the same bytes (`Both`
        // rules do run on both: the caller drops a packet match that the
        // stream gave on the same packet).
        if sig.inspect == Inspect::Either && !stream && input.reassembled && !input.data.is_empty()
        {
            return false;
        }
        if sig.pd_only != input.proto_detect || input.no_payload && !sig.payload.is_empty() {
            return false;
        }
        if let Some((a, negated)) = sig.app
            && (input.app == Some(a)) == negated
        {
            return false;
        }
        let mut view = input.view;
        view.stream = stream;
        if !header_matches(sig, &view) {
            return false;
        }
        if let Some(d) = &sig.dsize
            && (stream || !d.matches(input.data.len()))
        {
            return false;
        }
        if !sig
            .stream_events
            .iter()
            .all(|e| input.events.contains(&e.as_str()))
            || !sig
                .decode_events
                .iter()
                .all(|e| input.events.contains(&e.as_str()))
        {
            return false;
        }
        if !sig.flowbits.iter().all(|f| flow.check_bits(f))
            || !sig.flowints.iter().all(|f| flow.check_int(f))
        {
            return false;
        }
        if !sig.payload.is_empty() {
            *pvars = PayloadVars::new();
            if !sig
                .payload
                .inspect_in(input.data, pvars, None, decode)
                .matched
            {
                return false;
            }
        }
        true
    }

    /// Runs a matched rule's flow actions (`flowbits` set/unset/toggle,
    /// `flowint` arithmetic); returns `false` if the per-flow cap refused a
    /// variable.
    pub fn apply_actions(&self, m: Match, flow: &mut FlowVars) -> bool {
        let sig = &self.sigs[m.sig as usize];
        let mut ok = true;
        for f in &sig.flowbits {
            if !f.is_condition() {
                ok &= flow.apply_bits(f);
            }
        }
        for f in &sig.flowints {
            if !f.is_condition() {
                ok &= flow.apply_int(f);
            }
        }
        ok
    }
}

/// Each signature's place in the order Suricata inspects (and logs) the
/// rules of a packet (`SCSigOrderSignatures` with its default comparators):
/// by action (drop, then reject, then alert; `pass` rules are not loaded),
/// then rules that set flowbits before rules that set and read them before
/// rules that only read them, the same for flowints (and for xbits, with a
/// Suricata quirk: only their reads count), then
/// by priority (1 first), then by sid. Within one packet a rule sees the
/// flowbits and flowints set by the rules before it.
fn order(sigs: &[Signature]) -> Vec<u32> {
    use mirador_rules::Action;
    // Suricata's `DETECT_*_TYPE_*` values: not used 1, read 2, set and
    // read 3, set 4; the higher comes first.
    fn kind(read: bool, write: bool) -> u8 {
        match (read, write) {
            (false, false) => 1,
            (true, false) => 2,
            (true, true) => 3,
            (false, true) => 4,
        }
    }
    let key = |s: &Signature| {
        let action = match s.action {
            Action::Drop => 1u8,
            Action::Reject | Action::RejectSrc | Action::RejectDst | Action::RejectBoth => 2,
            _ => 3,
        };
        let bits = kind(
            s.flowbits.iter().any(|f| f.is_condition()),
            s.flowbits
                .iter()
                .any(|f| !f.is_condition() && !matches!(f, Flowbits::NoAlert)),
        );
        let ints = kind(
            s.flowints.iter().any(|f| f.is_condition()),
            s.flowints.iter().any(|f| !f.is_condition()),
        );
        // Suricata's `SCSigGetXbitsType` counts xbits reads, but looks for
        // writes under the `hostbits` keyword's type, so an `xbits:set`
        // rule counts as not using xbits: readers come first.
        let xbits = kind(s.xbits.iter().any(|x| x.is_condition()), false);
        (
            action,
            std::cmp::Reverse(bits),
            std::cmp::Reverse(ints),
            std::cmp::Reverse(xbits),
            s.severity,
            s.sid,
        )
    };
    let mut by: Vec<u32> = (0..sigs.len() as u32).collect();
    // Stable: equal keys (the same sid under two gids) keep load order.
    by.sort_by_key(|&i| key(&sigs[i as usize]));
    let mut rank = vec![0u32; sigs.len()];
    for (r, &i) in by.iter().enumerate() {
        rank[i as usize] = r as u32;
    }
    rank
}

/// Whether `sig` is an IP-only rule under `vars`, as Suricata's
/// `SignatureIsIPOnly` decides: nothing inspected but addresses, ports and
/// protocol (no payload, `dsize`, header keyword, `flow`, event or flow
/// variable condition; `flowbits:set` and `noalert` are allowed), and no
/// negation anywhere in either address (Suricata's "like IP-only" rules,
/// such as those on `$EXTERNAL_NET`, are inspected on every packet).
///
/// `xbits` rules are IP-only in Suricata; here they stay per-packet rules,
/// since their state lives in the host-keyed stage.
fn is_ip_only(sig: &Signature, vars: &Vars) -> bool {
    sig.inspect == Inspect::Packet
        && sig.tx.is_none()
        && sig.app.is_none()
        && sig.payload.is_empty()
        && sig.fast_pattern.is_none()
        && sig.dsize.is_none()
        && sig.header.is_empty()
        && sig.stream_events.is_empty()
        && sig.decode_events.is_empty()
        && sig.flowints.is_empty()
        && sig.xbits.is_empty()
        && sig
            .flowbits
            .iter()
            .all(|f| matches!(f, Flowbits::Set(_) | Flowbits::NoAlert))
        && !sig.rule.src.contains_negation(vars)
        && !sig.rule.dst.contains_negation(vars)
}

/// Why [`Engine`]-building callers skip rules, re-exported for them.
pub type SkipReason = Skip;

mod tx;
pub use tx::{TxInput, TxState};

#[cfg(test)]
mod tests;
