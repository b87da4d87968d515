//! `mirador pcap encap`: wrap a capture as AWS Traffic Mirroring delivers it.

use std::fs::File;
use std::io::BufWriter;
use std::net::{IpAddr, Ipv4Addr};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use mirador_capture::{PcapSink, PcapSource};
use mirador_wire::emit::{self, EncapError, EncapParams, GwlbParams, SrcPortMode, UdpPorts};
use mirador_wire::linktype;

use crate::EncapArgs;

/// Wraps frames as AWS Traffic Mirroring does, with the options `pcap
/// encap` and `send` share.
#[derive(Debug, Clone)]
pub struct Wrapper {
    params: EncapParams,
}

impl Wrapper {
    /// From the command-line options; errors name the option at fault.
    pub fn new(
        vni: u32,
        src_ip: IpAddr,
        dst_ip: IpAddr,
        packet_length: Option<u32>,
        gwlb: bool,
        symmetric: bool,
    ) -> Result<Wrapper> {
        if vni > 0x00ff_ffff {
            bail!("--vni {vni}: a VNI is 24 bits (0..=16777215)");
        }
        if src_ip.is_ipv4() != dst_ip.is_ipv4() {
            bail!("--src-ip {src_ip} and --dst-ip {dst_ip} must be the same IP version");
        }
        let mut params = EncapParams::vxlan(vni, src_ip, dst_ip);
        params.packet_length = packet_length;
        if symmetric {
            params.src_port_mode = SrcPortMode::Symmetric;
        }
        if gwlb {
            // The GWLB node reaches the appliance over IPv4 (AWS: GENEVE is
            // always IPv4); the sensor's address stays --dst-ip when it is v4.
            let geneve_dst = match dst_ip {
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
        Ok(Wrapper { params })
    }

    fn prepare(&mut self, frame: &[u8]) {
        if let Some(g) = self.params.gwlb.as_mut() {
            // The flow cookie identifies the flow to GWLB; any stable value
            // per flow will do, the outer source port hash is one.
            g.flow_cookie = u32::from(emit::outer_src_port(frame, SrcPortMode::Symmetric));
        }
    }

    /// Writes into `out` the whole mirrored frame (outer Ethernet, IP, UDP)
    /// carrying `frame`, an Ethernet frame.
    pub fn frame(&mut self, frame: &[u8], out: &mut Vec<u8>) -> Result<(), EncapError> {
        self.prepare(frame);
        emit::encap_frame(frame, &self.params, out)
    }

    /// Writes into `out` what the outermost UDP header carries (VXLAN, or
    /// GENEVE around IP/UDP/VXLAN with `--gwlb`), for senders whose socket
    /// adds the outer headers.
    pub fn udp_payload(&mut self, frame: &[u8], out: &mut Vec<u8>) -> Result<UdpPorts, EncapError> {
        self.prepare(frame);
        emit::encap_udp_payload(frame, &self.params, out)
    }
}

/// Runs `mirador pcap encap`.
pub fn run(args: &EncapArgs) -> Result<ExitCode> {
    let mut wrapper = Wrapper::new(
        args.vni,
        args.src_ip,
        args.dst_ip,
        args.packet_length,
        args.gwlb,
        args.symmetric,
    )?;
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
        wrapper.frame(frame, &mut buf).with_context(|| {
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
