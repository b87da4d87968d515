//! `mirador pcap encap`: wrap a capture as AWS Traffic Mirroring delivers it.

use std::fs::File;
use std::io::BufWriter;
use std::net::{IpAddr, Ipv4Addr};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use mirador_capture::{PcapSink, PcapSource};
use mirador_wire::emit::{self, EncapParams, GwlbParams, SrcPortMode};
use mirador_wire::linktype;

use crate::EncapArgs;

/// Runs `mirador pcap encap`.
pub fn run(args: &EncapArgs) -> Result<ExitCode> {
    if args.vni > 0x00ff_ffff {
        bail!("--vni {}: a VNI is 24 bits (0..=16777215)", args.vni);
    }
    if args.src_ip.is_ipv4() != args.dst_ip.is_ipv4() {
        bail!(
            "--src-ip {} and --dst-ip {} must be the same IP version",
            args.src_ip,
            args.dst_ip
        );
    }
    let mut params = EncapParams::vxlan(args.vni, args.src_ip, args.dst_ip);
    params.packet_length = args.packet_length;
    if args.symmetric {
        params.src_port_mode = SrcPortMode::Symmetric;
    }
    if args.gwlb {
        // The GWLB node reaches the appliance over IPv4 (AWS: GENEVE is
        // always IPv4); the sensor's address stays --dst-ip when it is v4.
        let geneve_dst = match args.dst_ip {
            IpAddr::V4(a) => a,
            IpAddr::V6(_) => Ipv4Addr::new(10, 0, 0, 100),
        };
        params.gwlb = Some(GwlbParams {
            geneve_src: Ipv4Addr::new(10, 0, 0, 200),
            geneve_dst,
            endpoint_id: 0x0123_4567_89ab_cdef,
            attachment_id: 0x0fed_cba9_8765_4321,
            flow_cookie: 0,
        });
    }
    let mut src = PcapSource::open(&args.input)?;
    let out = File::create(&args.output)
        .with_context(|| format!("{}: cannot create", args.output.display()))?;
    let mut sink = PcapSink::new(&args.output, BufWriter::new(out), linktype::ETHERNET)?;
    let (mut scratch, mut buf) = (Vec::new(), Vec::new());
    let (mut written, mut skipped) = (0u64, 0u64);
    while let Some(rec) = src.next_record()? {
        let Some(frame) = emit::to_ethernet(rec.linktype, rec.data, &mut scratch) else {
            skipped += 1;
            continue;
        };
        if let Some(g) = params.gwlb.as_mut() {
            // The flow cookie identifies the flow to GWLB; any stable value
            // per flow will do, the outer source port hash is one.
            g.flow_cookie = u32::from(emit::outer_src_port(frame, SrcPortMode::Symmetric));
        }
        emit::encap_frame(frame, &params, &mut buf).with_context(|| {
            format!("{}: record {}", args.input.display(), written + skipped + 1)
        })?;
        sink.write(rec.ts, &buf, buf.len() as u32)?;
        written += 1;
    }
    sink.finish()?;
    eprintln!(
        "mirador pcap encap: {written} packets wrapped{}{}, {skipped} skipped (no Ethernet form){}",
        if args.gwlb {
            " (GWLB GENEVE+VXLAN)"
        } else {
            " (VXLAN)"
        },
        args.packet_length
            .map(|l| format!(", truncated to {l} bytes"))
            .unwrap_or_default(),
        if src.truncated_tail() {
            "; the input ends in a partial record"
        } else {
            ""
        },
    );
    Ok(ExitCode::SUCCESS)
}
