//! Transaction rules: Suricata's app-layer inspection (`DetectRunTx`) as a
//! pure step.
//!
//! Rules with sticky buffers are grouped per protocol and inspection
//! direction; within a group, per buffer slot (buffer, side, transform)
//! with a prefilter over the fast patterns that lie in that slot. The
//! caller keeps a [`TxState`] per transaction and direction and calls
//! [`Engine::inspect_tx`] whenever the transaction progressed: each slot's
//! prefilter runs once, when its buffer is final; a candidate is verified
//! once every buffer it reads is final, and then never again on that
//! transaction (Suricata's per-transaction detect state), so a rule
//! alerts at most once per transaction and direction.

use std::net::IpAddr;

use crate::buffer::{AppProto, Buffer, Ready, Slot, TxBuffers, TxDir};
use crate::flowvars::FlowVars;
use crate::header::PacketView;
use crate::payload::Vars as PayloadVars;
use crate::prefilter::{Entry, Prefilter};
use crate::signature::{Resolved, Signature, TxRule, header_matches};

use super::{BuildStats, Engine, Group, Match, Scratch};

/// Buffers of one transaction give at most this many instances each to
/// inspection (DNS queries, TLS certificates, HTTP headers); Suricata caps
/// its multi-buffers too.
const MAX_INSTANCES: usize = 256;

/// The rules of one protocol and inspection direction.
#[derive(Debug, Default)]
pub(super) struct TxGroup {
    /// Slots holding some rule's fast pattern, with their prefilter.
    slots: Vec<(Slot, Group)>,
    /// Rules without a usable fast pattern: candidates on every
    /// transaction.
    always: Vec<u32>,
}

/// `[app][dir]`.
pub(super) type TxGroups = [[TxGroup; 2]; 3];

/// Members of one slot while building: (rule, (pattern, nocase)).
type SlotMembers = Vec<(u32, (Vec<u8>, bool))>;

/// Groups the transaction rules of one variable set.
pub(super) fn build(
    sigs: &[Signature],
    resolved: &[Option<Resolved>],
    stats: &mut BuildStats,
) -> TxGroups {
    let mut by: Vec<Vec<(Slot, SlotMembers)>> = (0..6).map(|_| Vec::new()).collect();
    let mut groups: TxGroups = Default::default();
    for (i, s) in sigs.iter().enumerate() {
        let (Some(tx), Some(_)) = (&s.tx, &resolved[i]) else {
            continue;
        };
        for dir in [TxDir::ToServer, TxDir::ToClient] {
            if !tx.dirs[dir.index()] {
                continue;
            }
            let g = tx.app.index() * 2 + dir.index();
            match &tx.fast {
                Some((li, pat, nocase)) => {
                    let slot = tx.lists[*li].slot(dir);
                    let slots = &mut by[g];
                    let k = match slots.iter().position(|(s, _)| *s == slot) {
                        Some(k) => k,
                        None => {
                            slots.push((slot, Vec::new()));
                            slots.len() - 1
                        }
                    };
                    slots[k].1.push((i as u32, (pat.clone(), *nocase)));
                }
                None => groups[tx.app.index()][dir.index()].always.push(i as u32),
            }
        }
    }
    for (g, slots) in by.into_iter().enumerate() {
        let group = &mut groups[g / 2][g % 2];
        for (k, (slot, members)) in slots.into_iter().enumerate() {
            // Slots past the state bitmap's width are inspected as
            // always-candidates (never reached with the buffers there are).
            if k >= 128 {
                group.always.extend(members.iter().map(|(r, _)| *r));
                continue;
            }
            let entries: Vec<Entry> = members
                .iter()
                .enumerate()
                .map(|(local, (_, p))| Entry {
                    rule: local as u32,
                    pattern: Some(p.clone()),
                })
                .collect();
            let rules: Vec<u32> = members.iter().map(|(r, _)| *r).collect();
            let prefilter = match Prefilter::build(rules.len(), &entries) {
                Ok(p) => p,
                Err(_) => {
                    // Cannot happen for bounded patterns; if it did, every
                    // rule of the slot is a candidate (slower, never wrong).
                    group.always.extend(&rules);
                    continue;
                }
            };
            stats.groups += 1;
            stats.largest_group = stats.largest_group.max(rules.len());
            stats.patterns += prefilter.patterns();
            group.slots.push((slot, Group { rules, prefilter }));
        }
        group.always.sort_unstable();
    }
    groups
}

/// What the caller knows about the transaction's flow and the packet that
/// moved it on.
#[derive(Debug, Clone, Copy)]
pub struct TxInput<'a> {
    /// The variable set.
    pub var_set: usize,
    /// The transaction's protocol.
    pub app: AppProto,
    /// The direction inspected: the side of the data that moved the
    /// transaction on.
    pub dir: TxDir,
    /// Header fields for the header keywords (`flow`, ...).
    pub view: PacketView,
    /// Source address (of the packets of direction `dir`).
    pub src: IpAddr,
    /// Source port.
    pub sport: u16,
    /// Destination address.
    pub dst: IpAddr,
    /// Destination port.
    pub dport: u16,
    /// The packet payload or stream data that moved the transaction on:
    /// what the rule's payload keywords (outside sticky buffers) inspect.
    pub data: &'a [u8],
}

/// One transaction's detection state in one direction.
#[derive(Debug, Default, Clone)]
pub struct TxState {
    started: bool,
    /// Slots whose prefilter ran.
    scanned: u128,
    /// Candidates not yet decided (waiting for a buffer to be final).
    pending: Vec<u32>,
    /// Rules inspected on this transaction (sorted).
    decided: Vec<u32>,
}

impl TxState {
    /// Whether rules are still waiting for buffers of this transaction.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Marks rule `m` as inspected here: a rule inspected in both
    /// directions that matched in the other one alerts once per
    /// transaction.
    pub fn decide(&mut self, m: Match) {
        if let Err(at) = self.decided.binary_search(&m.sig) {
            self.decided.insert(at, m.sig);
        }
    }
}

impl Engine {
    /// Inspects transaction `tx` in direction `input.dir`: appends the
    /// rules that match now to `out`, in Suricata's order. Call it each
    /// time the transaction progressed in either direction (buffers of the
    /// other side can complete a rule), and once more when it is complete.
    /// Flow-variable conditions see `flow` as the rules before them on this
    /// call left it; the actions themselves are the caller's
    /// ([`Engine::apply_actions`]), as for packets.
    pub fn inspect_tx(
        &self,
        input: &TxInput<'_>,
        tx: &dyn TxBuffers,
        state: &mut TxState,
        flow: &FlowVars,
        scratch: &mut Scratch,
        out: &mut Vec<Match>,
    ) {
        let Some(vs) = self.var_sets.get(input.var_set) else {
            return;
        };
        let group = &vs.tx[input.app.index()][input.dir.index()];
        if !state.started {
            state.started = true;
            state.pending.extend_from_slice(&group.always);
        }
        for (k, (slot, g)) in group.slots.iter().enumerate() {
            let bit = 1u128 << k;
            if state.scanned & bit != 0 || tx.ready(slot.buffer, slot.side) != Ready::Final {
                continue;
            }
            state.scanned |= bit;
            for i in 0..MAX_INSTANCES {
                let Some(data) = slot.get(tx, i, &mut scratch.xform) else {
                    break;
                };
                g.prefilter.candidates(data, &mut scratch.candidates);
                for &local in scratch.candidates.as_slice() {
                    if let Some(&si) = g.rules.get(local as usize) {
                        state.pending.push(si);
                    }
                }
            }
        }
        if state.pending.is_empty() {
            return;
        }
        let rank = &self.rank;
        state.pending.sort_unstable_by_key(|&si| rank[si as usize]);
        state.pending.dedup();
        let mut changed = false;
        let mut keep = 0;
        for j in 0..state.pending.len() {
            let si = state.pending[j];
            if state.decided.binary_search(&si).is_ok() {
                continue;
            }
            let sig = &self.sigs[si as usize];
            let Some(txr) = &sig.tx else { continue };
            // Final when every buffer is; `tls.version` when its hello was
            // seen; a rule with events and no buffer when the transaction
            // is complete (Suricata inspects such rules again until then).
            let ready = txr
                .lists
                .iter()
                .all(|l| tx.ready(l.buffer, l.slot(input.dir).side) == Ready::Final)
                && (txr.tls_version.is_none() || tx.tls_version_ready(input.dir))
                && (txr.events.is_empty() || !txr.lists.is_empty() || tx.complete())
                && (txr.file_hashes.is_empty()
                    || tx.ready(Buffer::FileData, input.dir) == Ready::Final);
            if !ready {
                state.pending[keep] = si;
                keep += 1;
                continue;
            }
            if let Err(at) = state.decided.binary_search(&si) {
                state.decided.insert(at, si);
            }
            let Some(res) = vs.resolved[si as usize].as_ref() else {
                continue;
            };
            let flow_now = if changed { &scratch.vars } else { flow };
            let hit = verify_tx(
                sig,
                txr,
                res,
                input,
                tx,
                flow_now,
                &mut scratch.pvars,
                &mut scratch.decode,
                &mut scratch.xform,
            );
            if !hit {
                continue;
            }
            let m = Match { sig: si };
            out.push(m);
            if sig.has_flow_actions() {
                if !changed {
                    scratch.vars.copy_from(flow);
                    changed = true;
                }
                self.apply_actions(m, &mut scratch.vars);
            }
        }
        state.pending.truncate(keep);
    }
}

#[allow(clippy::too_many_arguments)]
fn verify_tx(
    sig: &Signature,
    txr: &TxRule,
    res: &Resolved,
    input: &TxInput<'_>,
    tx: &dyn TxBuffers,
    flow: &FlowVars,
    pvars: &mut PayloadVars,
    decode: &mut crate::payload::DecodeBuf,
    xform: &mut Vec<u8>,
) -> bool {
    if !sig.proto.admits(input.view.ip_proto, input.src.is_ipv6()) {
        return false;
    }
    let fwd = res.admits(input.src, input.sport, input.dst, input.dport);
    let rev = sig.bidirectional && res.admits(input.dst, input.dport, input.src, input.sport);
    if !(fwd || rev) {
        return false;
    }
    if let Some((a, negated)) = sig.app
        && (a == input.app) == negated
    {
        return false;
    }
    let mut view = input.view;
    view.to_server = input.dir == TxDir::ToServer;
    if !header_matches(sig, &view) {
        return false;
    }
    if !sig.flowbits.iter().all(|f| flow.check_bits(f))
        || !sig.flowints.iter().all(|f| flow.check_int(f))
    {
        return false;
    }
    if !txr
        .events
        .iter()
        .all(|e| tx.events().iter().any(|t| t.eq_ignore_ascii_case(e)))
    {
        return false;
    }
    if let Some(v) = txr.tls_version
        && tx.tls_version(input.dir) != Some(v)
    {
        return false;
    }
    // A file of the inspected side, whole, and (not) listed.
    for h in &txr.file_hashes {
        match tx.file_hash(h.kind, input.dir) {
            Some((d, n)) if h.matches(&d[..usize::from(n).min(32)]) => {}
            _ => return false,
        }
    }
    *pvars = PayloadVars::new();
    for l in &txr.lists {
        let slot = l.slot(input.dir);
        let before = *pvars;
        let mut any = false;
        for i in 0..MAX_INSTANCES {
            let Some(data) = slot.get(tx, i, xform) else {
                break;
            };
            *pvars = before;
            if l.sizes.iter().all(|c| c.matches(data.len() as u64))
                && l.program.inspect_in(data, pvars, None, decode).matched
            {
                any = true;
                break;
            }
            if !slot.buffer.multi() {
                break;
            }
        }
        if !any {
            return false;
        }
    }
    if !sig.payload.is_empty()
        && !sig
            .payload
            .inspect_in(input.data, pvars, None, decode)
            .matched
    {
        return false;
    }
    true
}
