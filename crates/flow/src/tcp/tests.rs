use super::*;
use crate::reassembly::{Event, UrgentPolicy};
use crate::table::tcp_flags::PSH;
use proptest::prelude::*;

fn t(ms: i64) -> Timestamp {
    Timestamp::from_nanos(ms * 1_000_000)
}

struct Harness {
    cfg: TcpConfig,
    ssn: TcpSession,
    budget: StreamBudget,
    counters: TcpCounters,
    events: TcpEvents,
    /// Delivered bytes per direction, gaps as `?` bytes.
    out: [Vec<u8>; 2],
    gaps: [u64; 2],
    stream_events: [Events; 2],
    /// The window every segment advertises.
    window: u16,
    /// The urgent pointer of the next segments.
    urgent: u16,
}

impl Harness {
    fn new(cfg: TcpConfig) -> Harness {
        Harness {
            cfg,
            ssn: TcpSession::default(),
            budget: StreamBudget {
                max_sessions: 10,
                max_bytes: 1 << 20,
                ..StreamBudget::default()
            },
            counters: TcpCounters::default(),
            events: TcpEvents::default(),
            out: [Vec::new(), Vec::new()],
            gaps: [0, 0],
            stream_events: [Events::NONE; 2],
            window: 65535,
            urgent: 0,
        }
    }

    fn seg(&mut self, to_server: bool, seq: u32, ack: u32, flags: u8, payload: &[u8]) {
        self.seg_missing(to_server, seq, ack, flags, payload, 0);
    }

    fn seg_missing(
        &mut self,
        to_server: bool,
        seq: u32,
        ack: u32,
        flags: u8,
        payload: &[u8],
        missing: u32,
    ) {
        let s = Segment {
            ts: t(1),
            to_server,
            seq,
            ack,
            flags,
            payload,
            missing,
            window: self.window,
            wscale: None,
            urgent: self.urgent,
        };
        self.ssn.packet(
            &self.cfg,
            &s,
            || (Policy::Bsd, Policy::Bsd),
            &mut self.budget,
            &mut self.counters,
            &mut self.events,
        );
        self.drain();
    }

    fn drain(&mut self) {
        for d in 0..2 {
            while let Some(c) = self.ssn.poll(d) {
                match c {
                    Chunk::Data { bytes, .. } => self.out[d].extend_from_slice(bytes),
                    Chunk::Gap { len, .. } => {
                        self.gaps[d] += len;
                        self.out[d].extend(std::iter::repeat_n(b'?', len as usize));
                    }
                }
            }
            self.ssn.sync(&mut self.budget);
            let e = self.ssn.take_stream_events(d);
            for ev in e.iter() {
                self.stream_events[d].insert(ev);
            }
        }
    }

    fn end(&mut self) {
        self.ssn.flush();
        self.drain();
        self.ssn.release(&mut self.budget);
    }
}

const C: bool = true;
const S: bool = false;

/// Client ISN 1000, server ISN 5000: the three-way handshake.
fn handshake(h: &mut Harness) {
    h.seg(C, 1000, 0, SYN, b"");
    h.seg(S, 5000, 1001, SYN | ACK, b"");
    h.seg(C, 1001, 5001, ACK, b"");
}

#[test]
fn handshake_then_data_is_delivered_on_ack() {
    let mut h = Harness::new(TcpConfig::default());
    handshake(&mut h);
    assert_eq!(h.ssn.state(), SsnState::Established);
    assert!(!h.ssn.is_async());
    h.seg(C, 1001, 5001, ACK | PSH, b"GET / HTTP/1.0\r\n\r\n");
    // IDS mode: not deliverable before the server's ACK.
    assert!(h.out[0].is_empty());
    h.seg(S, 5001, 1019, ACK | PSH, b"HTTP/1.0 200 OK\r\n");
    assert_eq!(h.out[0], b"GET / HTTP/1.0\r\n\r\n");
    assert!(h.out[1].is_empty());
    h.seg(C, 1019, 5018, ACK | FIN, b"");
    assert_eq!(h.out[1], b"HTTP/1.0 200 OK\r\n");
    assert_eq!(h.ssn.state(), SsnState::Closing);
    h.seg(S, 5018, 1020, ACK | FIN, b"");
    assert_eq!(h.ssn.state(), SsnState::Closed);
    h.end();
    assert_eq!(h.gaps, [0, 0]);
    assert_eq!(h.counters.sessions, 1);
    assert_eq!((h.counters.syn, h.counters.synack), (1, 1));
    assert_eq!(
        h.budget,
        StreamBudget {
            max_sessions: 10,
            max_bytes: 1 << 20,
            ..StreamBudget::default()
        }
    );
    assert!(h.events.is_empty());
}

#[test]
fn unacknowledged_data_is_flushed_at_the_end() {
    let mut h = Harness::new(TcpConfig::default());
    handshake(&mut h);
    h.seg(C, 1001, 5001, ACK, b"abc");
    h.seg(C, 1004, 5001, ACK, b"def");
    assert!(h.out[0].is_empty());
    h.end();
    assert_eq!(h.out[0], b"abcdef");
}

#[test]
fn inline_delivers_without_waiting_for_the_ack() {
    let mut cfg = TcpConfig::default();
    cfg.stream.inline = true;
    let mut h = Harness::new(cfg);
    handshake(&mut h);
    h.seg(C, 1001, 5001, ACK, b"abc");
    assert_eq!(h.out[0], b"abc");
}

#[test]
fn synack_with_wrong_ack_is_ignored_with_an_event() {
    let mut h = Harness::new(TcpConfig::default());
    h.seg(C, 1000, 0, SYN, b"");
    h.seg(S, 5000, 777, SYN | ACK, b"");
    assert!(h.events.contains(TcpEvent::SynAckWithWrongAck));
    assert_eq!(h.ssn.state(), SsnState::SynSent);
}

#[test]
fn ack_from_the_server_in_syn_recv_is_in_the_wrong_direction() {
    let mut h = Harness::new(TcpConfig::default());
    h.seg(C, 1000, 0, SYN, b"");
    h.seg(S, 5000, 1001, SYN | ACK, b"");
    h.seg(S, 5001, 1001, ACK, b"");
    assert!(h.events.contains(TcpEvent::AckInWrongDir));
    assert_eq!(h.ssn.state(), SsnState::SynRecv);
}

#[test]
fn first_rst_or_fin_starts_no_session() {
    let mut h = Harness::new(TcpConfig::default());
    h.seg(C, 1, 2, RST | ACK, b"");
    assert!(h.events.contains(TcpEvent::RstButNoSession));
    assert_eq!(h.ssn.state(), SsnState::None);
    let mut h = Harness::new(TcpConfig::default());
    h.seg(C, 1, 2, FIN | ACK, b"");
    assert!(h.events.contains(TcpEvent::FinButNoSession));
    assert_eq!(h.ssn.state(), SsnState::None);
}

#[test]
fn without_midstream_a_session_without_handshake_is_not_reassembled() {
    let cfg = TcpConfig {
        midstream: false,
        async_oneside: false,
        ..TcpConfig::default()
    };
    let mut h = Harness::new(cfg);
    h.seg(C, 1001, 5001, ACK, b"abc");
    h.seg(S, 5001, 1004, ACK, b"xyz");
    h.end();
    assert_eq!(h.ssn.state(), SsnState::None);
    assert!(h.out[0].is_empty() && h.out[1].is_empty());
    assert_eq!(h.budget.sessions, 0);
}

#[test]
fn midstream_pickup_two_sided() {
    let cfg = TcpConfig {
        midstream: true,
        async_oneside: false,
        ..TcpConfig::default()
    };
    let mut h = Harness::new(cfg);
    h.seg(C, 1001, 5001, ACK, b"abc");
    assert_eq!(h.ssn.state(), SsnState::Established);
    assert!(h.ssn.is_midstream() && !h.ssn.is_async());
    assert!(h.out[0].is_empty());
    h.seg(S, 5001, 1004, ACK, b"xyz");
    assert_eq!(h.out[0], b"abc");
    h.seg(C, 1004, 5004, ACK, b"");
    assert_eq!(h.out[1], b"xyz");
    assert_eq!(h.counters.midstream_pickups, 1);
}

#[test]
fn midstream_one_sided_async_delivers_up_to_each_packets_seq() {
    let mut h = Harness::new(TcpConfig::default());
    h.seg(C, 1001, 5001, ACK, b"abc");
    assert!(h.ssn.is_async());
    // Suricata's async mode: data before this packet's SEQ is deliverable.
    h.seg(C, 1004, 5001, ACK, b"def");
    assert_eq!(h.out[0], b"abc");
    h.end();
    assert_eq!(h.out[0], b"abcdef");
    assert_eq!(h.counters.async_sessions, 1);
}

#[test]
fn syn_then_client_ack_without_synack_is_async_when_enabled() {
    let mut h = Harness::new(TcpConfig::default());
    h.seg(C, 1000, 0, SYN, b"");
    h.seg(C, 1001, 5001, ACK, b"");
    assert_eq!(h.ssn.state(), SsnState::Established);
    assert!(h.ssn.is_async());
    h.seg(C, 1001, 5001, ACK, b"hello");
    h.seg(C, 1006, 5001, ACK, b"world");
    assert_eq!(h.out[0], b"hello");
    // The server shows up: its ACKs take over.
    h.seg(S, 5001, 1011, ACK, b"");
    assert!(!h.ssn.is_async());
    assert_eq!(h.out[0], b"helloworld");
}

#[test]
fn syn_then_client_ack_is_ignored_without_async_oneside() {
    let cfg = TcpConfig {
        midstream: false,
        async_oneside: false,
        ..TcpConfig::default()
    };
    let mut h = Harness::new(cfg);
    h.seg(C, 1000, 0, SYN, b"");
    h.seg(C, 1001, 5001, ACK, b"hello");
    h.end();
    assert_eq!(h.ssn.state(), SsnState::SynSent);
    assert!(h.out[0].is_empty());
}

#[test]
fn async_ack_with_the_wrong_seq_is_an_event() {
    let mut h = Harness::new(TcpConfig::default());
    h.seg(C, 1000, 0, SYN, b"");
    h.seg(C, 4242, 5001, ACK, b"");
    assert!(h.events.contains(TcpEvent::AsyncWrongSeq));
    assert_eq!(h.ssn.state(), SsnState::SynSent);
}

#[test]
fn synack_first_is_picked_up() {
    // The table made the SYN-ACK's receiver the client.
    let mut h = Harness::new(TcpConfig::default());
    h.seg(S, 5000, 1001, SYN | ACK, b"");
    assert_eq!(h.ssn.state(), SsnState::SynRecv);
    h.seg(C, 1001, 5001, ACK, b"abc");
    assert_eq!(h.ssn.state(), SsnState::Established);
    h.seg(S, 5001, 1004, ACK, b"");
    assert_eq!(h.out[0], b"abc");
}

#[test]
fn syn_on_an_established_session_is_an_event() {
    let mut h = Harness::new(TcpConfig::default());
    handshake(&mut h);
    h.seg(C, 1000, 0, SYN, b"");
    assert!(h.events.contains(TcpEvent::EstSynResend));
    h.seg(C, 9999, 0, SYN, b"");
    assert!(h.events.contains(TcpEvent::EstSynResendDiffSeq));
    assert_eq!(h.ssn.state(), SsnState::Established);
}

#[test]
fn rst_closes_and_its_payload_is_ignored() {
    let mut h = Harness::new(TcpConfig::default());
    handshake(&mut h);
    h.seg(C, 1001, 5001, ACK, b"abc");
    h.seg(S, 5001, 1004, RST | ACK, b"evil");
    assert_eq!(h.ssn.state(), SsnState::Closed);
    h.end();
    assert_eq!(h.out[0], b"abc");
    assert!(h.out[1].is_empty());
    assert_eq!(h.counters.rst, 1);
}

#[test]
fn ack_for_unseen_data_is_a_gap_and_counts_as_loss() {
    let mut h = Harness::new(TcpConfig::default());
    handshake(&mut h);
    h.seg(C, 1001, 5001, ACK, b"abc");
    // 100 bytes the mirror dropped, then more data.
    h.seg(C, 1104, 5001, ACK, b"def");
    h.seg(S, 5001, 1107, ACK, b"");
    assert_eq!(h.out[0].len(), 106);
    assert_eq!(&h.out[0][..3], b"abc");
    assert_eq!(&h.out[0][103..], b"def");
    assert_eq!(h.gaps[0], 100);
    let c = h.ssn.stream_counters(0);
    assert_eq!((c.gap_bytes, c.unseen_gap_bytes), (100, 100));
    assert!(h.stream_events[0].contains(Event::SeqGap));
    assert!(h.ssn.had_gap(0) && !h.ssn.had_gap(1));
}

#[test]
fn truncated_segments_are_gaps_but_not_loss() {
    let mut h = Harness::new(TcpConfig::default());
    handshake(&mut h);
    // A mirror session with PacketLength cut 1000 of 1010 payload bytes.
    h.seg_missing(C, 1001, 5001, ACK, b"0123456789", 1000);
    h.seg(S, 5001, 2011, ACK, b"");
    assert_eq!(h.gaps[0], 1000);
    let c = h.ssn.stream_counters(0);
    assert_eq!(
        (c.gap_bytes, c.unseen_gap_bytes, c.truncated_bytes),
        (1000, 0, 1000)
    );
}

#[test]
fn a_fuller_copy_fills_the_truncated_one_before_delivery() {
    let mut h = Harness::new(TcpConfig::default());
    handshake(&mut h);
    h.seg_missing(C, 1001, 5001, ACK, b"01234", 5);
    // The other ENI's copy, not truncated, arrives before the ACK.
    h.seg(C, 1001, 5001, ACK, b"0123456789");
    h.seg(S, 5001, 1011, ACK, b"");
    assert_eq!(h.out[0], b"0123456789");
    assert_eq!(h.gaps[0], 0);
}

#[test]
fn segments_beyond_the_byte_budget_become_gaps() {
    let mut h = Harness::new(TcpConfig::default());
    h.budget.max_bytes = 4;
    handshake(&mut h);
    h.seg(C, 1001, 5001, ACK, b"abcd");
    h.seg(C, 1005, 5001, ACK, b"efgh");
    assert_eq!(h.budget.segment_drops, 1);
    assert_eq!(h.budget.bytes, 4);
    h.seg(S, 5001, 1009, ACK, b"");
    assert_eq!(h.out[0], b"abcd????");
    assert_eq!(h.budget.bytes, 0);
    h.end();
    assert_eq!(h.budget.sessions, 0);
}

#[test]
fn sessions_beyond_the_budget_are_tracked_without_streams() {
    let mut h = Harness::new(TcpConfig::default());
    h.budget.max_sessions = 0;
    handshake(&mut h);
    h.seg(C, 1001, 5001, ACK, b"abcd");
    h.seg(C, 1005, 5001, ACK, b"efgh");
    assert_eq!(h.budget.session_drops, 1);
    assert_eq!(h.ssn.state(), SsnState::Established);
    h.end();
    assert!(h.out[0].is_empty());
}

#[test]
fn handshake_only_flows_allocate_no_streams() {
    let mut h = Harness::new(TcpConfig::default());
    h.seg(C, 1000, 0, SYN, b"");
    assert!(h.ssn.stream(0).is_none());
    assert_eq!(h.budget.sessions, 0);
    assert!(std::mem::size_of::<TcpSession>() <= 24);
}

#[test]
fn broken_ack_is_an_event() {
    let mut h = Harness::new(TcpConfig::default());
    handshake(&mut h);
    h.seg(C, 1001, 0, ACK, b"x");
    assert!(h.events.contains(TcpEvent::PktBrokenAck));
}

#[test]
fn event_names_are_suricatas() {
    for e in TcpEvent::ALL {
        assert!(e.as_str().starts_with("stream."), "{e:?}");
    }
    assert_eq!(
        TcpEvent::AckInWrongDir.as_str(),
        "stream.3whs_ack_in_wrong_dir"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// A whole connection, each direction cut into random segments, sent
    /// in a random interleaving with duplicates and reordering, the
    /// receiver acknowledging what it has: both directions reassemble to
    /// the original bytes, with no gap.
    #[test]
    fn both_directions_reassemble(
        up in proptest::collection::vec(any::<u8>(), 0..3000),
        down in proptest::collection::vec(any::<u8>(), 0..3000),
        cuts in proptest::collection::vec(1usize..400, 1..40),
        order in proptest::collection::vec(any::<u16>(), 0..200),
        isn_c in any::<u32>(),
        isn_s in any::<u32>(),
    ) {
        let mut h = Harness::new(TcpConfig::default());
        h.seg(C, isn_c, 0, SYN, b"");
        h.seg(S, isn_s, isn_c.wrapping_add(1), SYN | ACK, b"");
        h.seg(C, isn_c.wrapping_add(1), isn_s.wrapping_add(1), ACK, b"");
        // Segments: (to_server, offset, len).
        let mut segs = Vec::new();
        for (dir, data) in [(C, &up), (S, &down)] {
            let mut off = 0usize;
            let mut i = 0;
            while off < data.len() {
                let n = cuts[i % cuts.len()].min(data.len() - off);
                segs.push((dir, off, n));
                off += n;
                i += 1;
            }
        }
        // Reorder by swapping, and duplicate some.
        for (k, r) in order.iter().enumerate() {
            if segs.is_empty() { break; }
            let a = k % segs.len();
            let b = usize::from(*r) % segs.len();
            if r % 5 == 0 {
                let s = segs[a];
                segs.push(s);
            } else {
                segs.swap(a, b);
            }
        }
        let mut max_seen = [0usize; 2];
        for (dir, off, n) in segs {
            let d = usize::from(!dir);
            let (data, isn, peer_isn) = if dir { (&up, isn_c, isn_s) } else { (&down, isn_s, isn_c) };
            let seq = isn.wrapping_add(1).wrapping_add(off as u32);
            // The receiver ACKs the contiguous data it holds: approximated
            // by the highest byte the sender sent so far in order.
            let peer_acked = peer_isn.wrapping_add(1).wrapping_add(max_seen[1 - d] as u32);
            h.seg(dir, seq, peer_acked, ACK, &data[off..off + n]);
            if off <= max_seen[d] {
                max_seen[d] = max_seen[d].max(off + n);
            }
        }
        h.end();
        prop_assert_eq!(&h.out[0], &up);
        prop_assert_eq!(&h.out[1], &down);
        prop_assert_eq!(h.budget.bytes, 0);
    }
}

#[test]
fn roles_of_first_payloads() {
    assert_eq!(
        Role::of(b"HTTP/1.1 200 OK\r\n", 80, 5000),
        Some(Role::Response)
    );
    assert_eq!(
        Role::of(b"GET / HTTP/1.1\r\n", 5000, 80),
        Some(Role::Request)
    );
    assert_eq!(
        Role::of(&[0x16, 3, 3, 0, 50, 2, 0], 443, 5000),
        Some(Role::Response)
    );
    assert_eq!(
        Role::of(&[0x16, 3, 1, 0, 50, 1, 0], 5000, 443),
        Some(Role::Request)
    );
    let dns_resp = [0, 30, 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
    assert_eq!(Role::of(&dns_resp, 53, 5000), Some(Role::Response));
    // Not DNS unless port 53 is involved.
    assert_eq!(Role::of(&dns_resp, 5353, 5000), None);
    let mut smb1 = vec![0, 0, 0, 40, 0xff, b'S', b'M', b'B', 0x72, 0, 0, 0, 0, 0x98];
    assert_eq!(Role::of(&smb1, 445, 5000), Some(Role::Response));
    smb1[13] = 0x18;
    assert_eq!(Role::of(&smb1, 5000, 445), Some(Role::Request));
    let mut smb2 = vec![0, 0, 0, 64, 0xfe, b'S', b'M', b'B'];
    smb2.extend_from_slice(&[0; 12]);
    smb2.extend_from_slice(&[1, 0, 0, 0]);
    assert_eq!(Role::of(&smb2, 445, 5000), Some(Role::Response));
    assert_eq!(Role::of(b"SSH-2.0-OpenSSH\r\n", 22, 5000), None);
    assert_eq!(Role::of(b"", 80, 5000), None);
}

#[test]
fn reversing_a_one_sided_midstream_session_keeps_delivery() {
    // The first packet seen is the server's response (server seq 5001);
    // the worker reverses the flow before applying it.
    // The table made its sender the client; the worker applies the packet,
    // sees a response "to the server", and reverses.
    let mut h = Harness::new(TcpConfig::default());
    assert!(!h.ssn.direction_unchecked(b"x"));
    h.seg(C, 5001, 1001, ACK, b"HTTP/1.1 200 OK\r\n");
    assert!(h.ssn.direction_unchecked(b"HTTP/1.1 200 OK\r\n"));
    h.ssn.direction_checked();
    assert!(!h.ssn.direction_unchecked(b"x"));
    h.ssn.reverse();
    // Now the sender is the server: one-sided, the server is the seen side.
    assert!(h.ssn.is_async() && h.ssn.is_midstream());
    h.seg(S, 5018, 1001, ACK, b"body");
    assert_eq!(h.out[1], b"HTTP/1.1 200 OK\r\n");
    assert!(h.out[0].is_empty());
    // The client shows up: two-sided again, its ACKs drive delivery.
    h.seg(C, 1001, 5022, ACK, b"");
    assert!(!h.ssn.is_async());
    assert_eq!(h.out[1], b"HTTP/1.1 200 OK\r\nbody");
}

#[test]
fn data_beyond_the_receivers_window_is_ignored_with_an_event() {
    let mut h = Harness::new(TcpConfig::default());
    h.window = 100;
    handshake(&mut h);
    h.seg(C, 1001, 5001, ACK, b"abc");
    // The server acknowledges 1004 with a window of 100: 1004..1104.
    h.seg(S, 5001, 1004, ACK, b"");
    // Data starting at 1200 lies beyond it: the server drops it, so must we
    // (else it would be an insertion).
    h.seg(C, 1200, 5001, ACK, b"evil");
    assert!(h.events.contains(TcpEvent::EstPacketOutOfWindow));
    assert_eq!(h.counters.out_of_window, 1);
    // In-window data is kept.
    h.seg(C, 1004, 5001, ACK, b"def");
    h.seg(S, 5001, 1007, ACK, b"");
    h.end();
    assert_eq!(h.out[0], b"abcdef");
    assert_eq!(h.gaps[0], 0);
}

#[test]
fn window_scale_from_both_syns_widens_the_window() {
    let mut h = Harness::new(TcpConfig::default());
    h.window = 100;
    let syn = |h: &mut Harness, to_server: bool, seq: u32, ack: u32, flags: u8| {
        let s = Segment {
            ts: t(1),
            to_server,
            seq,
            ack,
            flags,
            payload: b"",
            missing: 0,
            window: 100,
            wscale: Some(4),
            urgent: 0,
        };
        h.ssn.packet(
            &h.cfg,
            &s,
            || (Policy::Bsd, Policy::Bsd),
            &mut h.budget,
            &mut h.counters,
            &mut h.events,
        );
    };
    syn(&mut h, C, 1000, 0, SYN);
    syn(&mut h, S, 5000, 1001, SYN | ACK);
    h.seg(C, 1001, 5001, ACK, b"abc");
    // Window 100 << 4 = 1600 from the server's ACK of 1004.
    h.seg(S, 5001, 1004, ACK, b"");
    h.seg(C, 2500, 5001, ACK, b"in");
    assert!(!h.events.contains(TcpEvent::EstPacketOutOfWindow));
    h.seg(C, 2700, 5001, ACK, b"out");
    assert!(h.events.contains(TcpEvent::EstPacketOutOfWindow));
}

#[test]
fn window_scale_option_is_parsed() {
    // NOP, WS 7, MSS 1460, SACK-permitted, EOL.
    let opts = [1, 3, 3, 7, 2, 4, 5, 180, 4, 2, 0];
    assert_eq!(super::window_scale(&opts), Some(7));
    assert_eq!(super::window_scale(&[3, 3, 20]), Some(14));
    assert_eq!(super::window_scale(&[2, 4, 5, 180]), None);
    // Malformed lengths end the walk.
    assert_eq!(super::window_scale(&[8, 0, 3, 3, 7]), None);
    assert_eq!(super::window_scale(&[8, 40, 3, 3, 7]), None);
}

#[test]
fn synack_pickup_with_only_the_server_seen_goes_on_one_sided() {
    // A mirror of the server's side only: SYN-ACK, then its data.
    let mut h = Harness::new(TcpConfig::default());
    h.seg(S, 5000, 1001, SYN | ACK, b"");
    assert!(h.ssn.is_async());
    h.seg(S, 5001, 1016, ACK, b"* OK ready\r\n");
    assert_eq!(h.ssn.state(), SsnState::Established);
    h.seg(S, 5013, 1016, ACK, b"C1 OK\r\n");
    assert_eq!(h.out[1], b"* OK ready\r\n");
    h.end();
    assert_eq!(h.out[1], b"* OK ready\r\nC1 OK\r\n");
    // Without async-oneside, Suricata does not establish such a session.
    let cfg = TcpConfig {
        async_oneside: false,
        ..TcpConfig::default()
    };
    let mut h = Harness::new(cfg);
    h.seg(S, 5000, 1001, SYN | ACK, b"");
    h.seg(S, 5001, 1016, ACK, b"* OK ready\r\n");
    assert_eq!(h.ssn.state(), SsnState::SynRecv);
}

/// suricata-verify tcp-urgp-01 and -04 at session level: "GET /malic", then
/// an URG segment ("X" with pointer 1, or "XY" with pointer 2), the server's
/// ACKs of it, then the rest of the request.
fn urgent_session(urgent: UrgentPolicy, oob: &[u8]) -> Harness {
    let mut cfg = TcpConfig::default();
    cfg.stream.urgent = urgent;
    let mut h = Harness::new(cfg);
    handshake(&mut h);
    h.seg(C, 1001, 5001, ACK | PSH, b"GET /malic");
    h.urgent = oob.len() as u16;
    h.seg(C, 1011, 5001, ACK | PSH | URG, oob);
    h.urgent = 0;
    let next = 1011 + oob.len() as u32;
    // The ACK of the bytes before the urgent segment comes after it.
    h.seg(S, 5001, 1011, ACK, b"");
    assert_eq!(h.out[0], b"GET /malic");
    h.seg(S, 5001, next, ACK, b"");
    h.seg(C, next, 5001, ACK | PSH, b"ious HTTP/1.1\r\n\r\n");
    h.seg(S, 5001, next + 17, ACK, b"");
    h
}

#[test]
fn urgent_policy_decides_what_the_stream_holds() {
    let h = urgent_session(UrgentPolicy::Inline, b"X");
    assert_eq!(h.out[0], b"GET /malicXious HTTP/1.1\r\n\r\n");
    assert_eq!(h.counters.urg, 1);
    let h = urgent_session(UrgentPolicy::Drop, b"X");
    assert_eq!(h.out[0], b"GET /malicXious HTTP/1.1\r\n\r\n");
    let h = urgent_session(UrgentPolicy::Oob, b"X");
    assert_eq!(h.out[0], b"GET /malicious HTTP/1.1\r\n\r\n");
    assert_eq!(h.gaps, [0, 0]);
    assert_eq!(
        (h.ssn.urgent_oob_bytes(0), h.ssn.urgent_oob_bytes(1)),
        (1, 0)
    );
    assert_eq!(h.ssn.stream_counters(0).urgent_oob, 1);
    // Only the last urgent byte is out-of-band.
    let h = urgent_session(UrgentPolicy::Oob, b"XY");
    assert_eq!(h.out[0], b"GET /malicXious HTTP/1.1\r\n\r\n");
    let h = urgent_session(UrgentPolicy::Gap, b"X");
    assert_eq!(h.out[0], b"GET /malic?ious HTTP/1.1\r\n\r\n");
    assert_eq!(h.gaps, [1, 0]);
    assert!(h.stream_events[0].contains(Event::SeqGap));
}

#[test]
fn urgent_pointer_is_read_from_the_header() {
    // Raw IPv4, TCP with URG|ACK|PSH and urgent pointer 2, payload "XY".
    let mut f = vec![
        0x45, 0, 0, 42, 0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ];
    f.extend_from_slice(&[
        0x30, 0x39, 0x23, 0x82, 0, 0, 0x03, 0xf3, 0, 0, 0x13, 0x89, 0x50, 0x38, 0xff, 0xff, 0, 0,
        0, 2,
    ]);
    f.extend_from_slice(b"XY");
    let d = mirador_wire::decode(mirador_wire::linktype::RAW, &f, &Default::default());
    let p = d.outcome.expect("decodes");
    let fields = segment_fields(&p).expect("tcp");
    assert_eq!((fields.urgent, fields.payload_len), (2, 2));
    // Without URG the field means nothing and reads as 0.
    f[20 + 13] = 0x18;
    let d = mirador_wire::decode(mirador_wire::linktype::RAW, &f, &Default::default());
    let fields = segment_fields(&d.outcome.expect("decodes")).expect("tcp");
    assert_eq!(fields.urgent, 0);
}
