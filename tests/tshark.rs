//! Cross-check of the tunnel decoder against tshark: for every VXLAN, GENEVE,
//! ERSPAN and GRE capture of the shared corpus, the inner packets counted per
//! inner 5-tuple by `mirador_wire::decode` equal what tshark decodes from the
//! same file.
//!
//! Needs the shared corpus and tshark; skipped without them unless
//! `MIRADOR_REQUIRE_OPTIONAL=1` (as `.ci/run` sets).

mod common;

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use mirador_capture::PcapSource;
use mirador_wire::{DecodeOptions, PortSet};

/// (source, destination, IP protocol, source port, destination port); ports
/// are 0 for protocols without ports, as in `mirador_wire::FiveTuple`.
type Tuple = (IpAddr, IpAddr, u8, u16, u16);
type Counts = HashMap<Tuple, usize>;

/// File names containing one of these are tunnel captures.
const TUNNEL_WORDS: [&str; 4] = ["vxlan", "geneve", "erspan", "gre"];

/// Captures left out, with why. Each is a case where tshark decodes something
/// mirador deliberately does not, or where the two legitimately disagree on
/// a packet that is not a tunnel packet.
const EXCLUDED: &[(&str, &str)] = &[
    // The outer IP/UDP length fields are zero (GSO/BIG TCP), so tshark stops
    // at the outer header and decodes no inner packet to compare with.
    (
        "/bigtcp-",
        "outer length fields are zero: tshark decodes no inner packet",
    ),
    // VXLAN-GPE (UDP 4790) carrying NSH: mirador decodes neither.
    (
        "/nsh-over-vxlan-gpe.pcap",
        "VXLAN-GPE/NSH, which mirador does not decode",
    ),
    // suricata-verify's decode-too-small: no tunnel at all (it is listed for
    // a 2-byte GRE header), only L4 headers cut below their minimum size;
    // tshark reports whatever fields it could read (ports from a 4-byte UDP
    // header, the outer IP of an unreadable GRE header) where mirador reports
    // no ports or an invalid packet.
    (
        "/decode-too-small/test.pcap",
        "not a tunnel capture: L4 headers shorter than their minimum",
    ),
];

/// Captures that carry no inner IP packet at all (only ARP, STP, CDP, or
/// ERSPAN payloads that are not Ethernet): both sides must find no inner
/// 5-tuple there, and these are not held to the "more than zero" rule.
const NO_INNER_IP: &[&str] = &[
    "erspan-type-i-3.pcap",
    "erspan-type-ii-3.pcap",
    "erspan-type-iii-ft-7.pcap",
    "erspan-type-iii-pb-1.pcap",
    "geneve-arp.pcap",
    "geneve-truncated.pcapng",
    "vxlan-arp.pcap",
    "arp-encap.pcap",
];

/// The decoder options a capture needs to match tshark's port defaults.
fn options_for(path: &Path) -> DecodeOptions {
    let mut opts = DecodeOptions::default();
    match file_name(path).as_str() {
        // tshark is told to decode UDP 8472 (the Linux kernel's historical
        // default) as VXLAN for this file; mirador decodes it when configured to.
        "vxlan_port_8472.pcap" => opts.vxlan_ports = PortSet::new(&[4789, 8472]).unwrap(),
        // The mirrored VXLAN goes from UDP 4789 to UDP 4790. tshark picks the
        // VXLAN dissector by either port, mirador by the destination port only
        // (by design), so mirador is configured with 4790.
        "gre-erspan-vxlan.pcap" => opts.vxlan_ports = PortSet::new(&[4789, 4790]).unwrap(),
        _ => {}
    }
    opts
}

/// Extra tshark options a capture needs.
fn tshark_args_for(path: &Path) -> &'static [&'static str] {
    match file_name(path).as_str() {
        // tshark 4.0 does not decode UDP 8472 as VXLAN by default.
        "vxlan_port_8472.pcap" => &["-d", "udp.port==8472,vxlan"],
        _ => &[],
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

fn is_tunnel_word(s: &str) -> bool {
    let s = s.to_ascii_lowercase();
    TUNNEL_WORDS.iter().any(|w| s.contains(w))
}

/// The tunnel captures of the corpus: `captures/**` by file name or by the
/// protocol stacks `index.json` records for them, and the suricata-verify
/// inputs whose `encapsulations_in_pcap` lists a tunnel.
fn tunnel_captures(corpus: &Path) -> Vec<PathBuf> {
    let mut out = BTreeSet::new();
    for p in common::captures_in(&corpus.join("captures")) {
        if is_tunnel_word(&file_name(&p)) {
            out.insert(p);
        }
    }
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(corpus.join("index.json")).unwrap()).unwrap();
    for c in index["captures"].as_array().into_iter().flatten() {
        let stacks = c["protocol_stacks"].as_object();
        let tunnel = stacks.is_some_and(|s| {
            s.keys()
                .any(|k| k.split(':').any(|l| TUNNEL_WORDS.contains(&l)))
        });
        if let (true, Some(dest)) = (tunnel, c["dest"].as_str()) {
            out.insert(corpus.join(dest));
        }
    }
    for t in index["tests"].as_array().into_iter().flatten() {
        let encaps = t["encapsulations_in_pcap"].as_array();
        let tunnel = encaps.is_some_and(|e| {
            e.iter()
                .any(|x| x.as_str().is_some_and(|x| TUNNEL_WORDS.contains(&x)))
        });
        if let (true, Some(folder), Some(pcap)) = (tunnel, t["folder"].as_str(), t["pcap"].as_str())
        {
            out.insert(corpus.join(folder).join(pcap));
        }
    }
    out.into_iter().filter(|p| p.exists()).collect()
}

/// Inner 5-tuples as mirador decodes them.
fn mirador_counts(path: &Path) -> Counts {
    let opts = options_for(path);
    let mut src = PcapSource::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut counts = Counts::new();
    while let Some(rec) = src
        .next_record()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    {
        let d = mirador_wire::decode(rec.linktype, rec.data, &opts);
        if let Some(t) = d.outcome.ok().and_then(|inner| inner.five_tuple()) {
            *counts
                .entry((t.src, t.dst, t.proto, t.src_port, t.dst_port))
                .or_default() += 1;
        }
    }
    counts
}

const FIELDS: [&str; 13] = [
    "frame.protocols",
    "ip.src",
    "ip.dst",
    "ip.proto",
    "ip.flags.mf",
    "ip.frag_offset",
    "ipv6.src",
    "ipv6.dst",
    "ipv6.nxt",
    "tcp.srcport",
    "tcp.dstport",
    "udp.srcport",
    "udp.dstport",
];

/// The IP protocol number of a layer name tshark puts in `frame.protocols`
/// right after an IPv6 header and its extension headers. (`ipv6.nxt` is the
/// first next header, before any extension header, whereas mirador reports
/// the upper-layer protocol; `ipv6.nxt` is only the fallback.)
fn ipv6_upper(layer: &str) -> Option<u8> {
    Some(match layer {
        "icmp" => 1,
        "igmp" => 2,
        "ip" => 4,
        "tcp" => 6,
        "udp" => 17,
        "ipv6" => 41,
        "gre" => 47,
        "esp" => 50,
        "ah" => 51,
        "icmpv6" => 58,
        "ospf" => 89,
        "pim" => 103,
        "vrrp" => 112,
        "sctp" => 132,
        _ => return None,
    })
}

fn is_ipv6_ext(layer: &str) -> bool {
    matches!(
        layer,
        "ipv6.hopopts" | "ipv6.dstopts" | "ipv6.routing" | "ipv6.fraghdr" | "ipv6.shim6"
    )
}

/// Layers that start a new encapsulated frame: when one follows the last IP
/// layer, the innermost packet is not IP (ARP, STP, CDP, undecodable).
fn is_encapsulation(layer: &str) -> bool {
    matches!(
        layer,
        "gre" | "erspan" | "vxlan" | "geneve" | "nsh" | "eth" | "ppp" | "mpls"
    )
}

/// One tshark line's inner 5-tuple: the innermost IP layer not inside an
/// ICMP/ICMPv6 error and not inside an IP fragment (tshark runs without
/// reassembly; mirador decodes no tunnel from a fragment, leaving that to
/// reassembly after the decoder), with the TCP/UDP layer right above it
/// (ports 0 otherwise). `None` when the innermost packet is not IP.
fn tshark_tuple(line: &str) -> Option<Tuple> {
    let cols: Vec<&str> = line.split('\t').collect();
    let col = |name: &str, i: usize| -> Option<&str> {
        let c = FIELDS.iter().position(|f| *f == name).unwrap();
        cols.get(c)
            .and_then(|v| v.split(',').nth(i))
            .filter(|v| !v.is_empty())
    };
    let layers: Vec<&str> = cols.first()?.split(':').collect();
    let (mut n_ip, mut n_ip6) = (0, 0);
    // (position in `layers`, is IPv6, occurrence index, is a fragment)
    let mut last = None;
    let mut stop = layers.len();
    let mut pos = 0;
    while pos < stop {
        match layers[pos] {
            "icmp" | "icmpv6" => stop = pos,
            "ip" => {
                let frag = col("ip.flags.mf", n_ip) == Some("1")
                    || col("ip.frag_offset", n_ip).is_some_and(|o| o != "0");
                last = Some((pos, false, n_ip, frag));
                n_ip += 1;
                if frag {
                    stop = stop.min(pos + 2);
                }
            }
            "ipv6" => {
                let exts = layers[pos + 1..]
                    .iter()
                    .take_while(|l| is_ipv6_ext(l))
                    .count();
                let frag = layers[pos + 1..pos + 1 + exts].contains(&"ipv6.fraghdr");
                last = Some((pos, true, n_ip6, frag));
                n_ip6 += 1;
                if frag {
                    stop = stop.min(pos + exts + 2);
                }
            }
            _ => {}
        }
        pos += 1;
    }
    let (pos, v6, idx, frag) = last?;
    let above = &layers[pos + 1..stop];
    if !frag && above.iter().any(|l| is_encapsulation(l)) {
        return None;
    }
    let (src, dst, proto): (IpAddr, IpAddr, u8) = if v6 {
        let upper = layers[pos + 1..]
            .iter()
            .find(|l| !is_ipv6_ext(l))
            .and_then(|l| ipv6_upper(l));
        let proto = upper.or_else(|| col("ipv6.nxt", idx)?.parse().ok())?;
        (
            col("ipv6.src", idx)?.parse().ok()?,
            col("ipv6.dst", idx)?.parse().ok()?,
            proto,
        )
    } else {
        let proto = col("ip.proto", idx)?.parse().ok()?;
        (
            col("ip.src", idx)?.parse().ok()?,
            col("ip.dst", idx)?.parse().ok()?,
            proto,
        )
    };
    let l4 = above
        .iter()
        .find(|l| !is_ipv6_ext(l))
        .filter(|l| **l == "tcp" || **l == "udp");
    let (sp, dp) = match l4 {
        Some(name) => {
            let i = layers[..=pos].iter().filter(|l| *l == name).count();
            let port = |f: &str| -> Option<u16> { col(&format!("{name}.{f}"), i)?.parse().ok() };
            (port("srcport")?, port("dstport")?)
        }
        None => (0, 0),
    };
    Some((src, dst, proto, sp, dp))
}

/// Inner 5-tuples as tshark decodes them.
fn tshark_counts(path: &Path) -> Counts {
    let mut cmd = Command::new("tshark");
    // No reassembly: mirador's decoder sees one packet at a time.
    cmd.args([
        "-n",
        "-o",
        "ip.defragment:FALSE",
        "-o",
        "ipv6.defragment:FALSE",
    ]);
    cmd.args(tshark_args_for(path))
        .arg("-r")
        .arg(path)
        .args(["-T", "fields"]);
    cmd.args([
        "-E",
        "separator=/t",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=,",
    ]);
    for f in FIELDS {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "tshark failed on {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut counts = Counts::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        if let Some(t) = tshark_tuple(line) {
            *counts.entry(t).or_default() += 1;
        }
    }
    counts
}

fn diff(tshark: &Counts, mirador: &Counts) -> Vec<String> {
    let keys: BTreeSet<String> = tshark
        .keys()
        .chain(mirador.keys())
        .map(|k| format!("{k:?}"))
        .collect();
    let by_name = |c: &Counts| -> HashMap<String, usize> {
        c.iter().map(|(k, v)| (format!("{k:?}"), *v)).collect()
    };
    let (t, m) = (by_name(tshark), by_name(mirador));
    keys.into_iter()
        .filter_map(|k| {
            let (a, b) = (
                t.get(&k).copied().unwrap_or(0),
                m.get(&k).copied().unwrap_or(0),
            );
            (a != b).then(|| format!("    {k}: tshark {a} vs mirador {b}"))
        })
        .collect()
}

#[test]
fn inner_five_tuples_match_tshark() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    if common::tool("tshark").is_none() {
        return;
    }
    let mut failures = Vec::new();
    let mut compared = 0;
    for path in tunnel_captures(&corpus) {
        let name = file_name(&path);
        let full = path.to_string_lossy();
        if let Some((_, why)) = EXCLUDED.iter().find(|(p, _)| full.contains(p)) {
            eprintln!("excluded {}: {why}", path.display());
            continue;
        }
        let (t, m) = (tshark_counts(&path), mirador_counts(&path));
        compared += 1;
        let total: usize = t.values().sum();
        eprintln!(
            "{}: {total} inner packets (tshark), {} (mirador)",
            path.display(),
            m.values().sum::<usize>()
        );
        if (total == 0) != NO_INNER_IP.contains(&name.as_str()) {
            failures.push(format!(
                "{}: tshark decodes {total} inner 5-tuples",
                path.display()
            ));
        }
        let d = diff(&t, &m);
        if !d.is_empty() {
            failures.push(format!("{}:\n{}", path.display(), d.join("\n")));
        }
    }
    assert!(compared >= 20, "only {compared} tunnel captures compared");
    assert!(
        failures.is_empty(),
        "inner 5-tuples differ from tshark:\n{}",
        failures.join("\n")
    );
}
