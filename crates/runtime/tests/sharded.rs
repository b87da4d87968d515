//! The sharded runtime driven directly (no binary): ICMP flows, ICMP errors
//! that join the flow they quote, packets without a flow, and the same
//! records for any worker count.

use std::net::IpAddr;

use mirador_config::Config;
use mirador_engine::{Ingest, Verdict};
use mirador_runtime::{RuntimeConfig, RuntimeStats, Sharded};
use mirador_testkit::frame::{FrameSpec, arp_request};
use mirador_wire::community_id::community_id_v1;
use mirador_wire::{Timestamp, linktype};
use serde_json::Value;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn run(frames: &[(i64, Vec<u8>)], workers: usize) -> (Vec<Value>, RuntimeStats) {
    let config = Config::embedded_default();
    let mut ingest = Ingest::from_config(&config);
    let mut sharded = Sharded::start(&RuntimeConfig::from_config(&config, workers)).unwrap();
    let mut eve = Vec::new();
    for (i, (secs, f)) in frames.iter().enumerate() {
        let ts = Timestamp::from_secs_nanos(1_700_000_000 + secs, 0);
        let v = ingest.process(ts, linktype::ETHERNET, f, i as u64 + 1, &mut eve);
        sharded.observe(ts);
        if let Verdict::Inspect {
            session,
            mirror,
            packet,
        } = v
        {
            sharded.inspect(&ingest, ts, session, mirror, &packet, i as u64 + 1);
        }
        sharded.drain(&mut eve);
    }
    let (stats, _) = sharded
        .finish(|c| {
            eve.extend_from_slice(c);
            Ok(())
        })
        .unwrap();
    let mut recs: Vec<Value> = eve
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .filter(|r: &Value| r["event_type"] == "flow")
        .collect();
    recs.sort_by_key(|r| r.to_string());
    (recs, stats)
}

#[test]
fn icmp_flows_errors_and_non_ip() {
    let (a, b, router) = (ip("10.0.0.1"), ip("10.0.0.2"), ip("10.0.0.254"));
    let udp = FrameSpec::udp(a, b, 40000, 9999).build().bytes;
    // The ICMP error quotes the UDP packet's IP header and 8 bytes.
    let quote = udp[14..14 + 28].to_vec();
    let unreach = FrameSpec::icmp(router, a, 3, 3, [0; 4])
        .payload(quote)
        .build()
        .bytes;
    let frames = vec![
        (0, FrameSpec::icmp_echo(a, b, true, 77, 1).build().bytes),
        (0, FrameSpec::icmp_echo(b, a, false, 77, 1).build().bytes),
        (1, udp.clone()),
        (1, unreach),
        (
            2,
            arp_request(
                [2, 0, 0, 0, 0, 1],
                "10.0.0.1".parse().unwrap(),
                "10.0.0.2".parse().unwrap(),
            ),
        ),
    ];
    let (one, s1) = run(&frames, 1);
    let (three, s3) = run(&frames, 3);
    assert_eq!(one, three);
    assert_eq!(s1.no_flow, 1, "ARP makes no flow");
    assert_eq!(s1.flow_totals().created, 2, "{one:#?}");
    assert_eq!(s3.flow_totals().created, 2);
    assert_eq!(
        s3.workers.iter().map(|w| w.packets).sum::<u64>(),
        4,
        "every IP packet reached a worker"
    );
    let echo = one.iter().find(|r| r["proto"] == "ICMP").unwrap();
    assert_eq!(echo["src_ip"], "10.0.0.1");
    assert_eq!(echo["icmp_type"], 8);
    assert_eq!(echo["icmp_code"], 0);
    assert!(echo.get("src_port").is_none());
    assert_eq!(echo["flow"]["pkts_toserver"], 1);
    assert_eq!(echo["flow"]["pkts_toclient"], 1);
    assert_eq!(
        echo["community_id"],
        community_id_v1(0, a, b, 1, 8, 0).as_str()
    );
    let u = one.iter().find(|r| r["proto"] == "UDP").unwrap();
    assert_eq!(u["src_port"], 40000);
    assert_eq!(u["flow"]["pkts_toserver"], 1);
    assert_eq!(
        u["flow"]["pkts_toclient"], 1,
        "the ICMP error joined the flow"
    );
}
