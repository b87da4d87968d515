//! The catalogue of Suricata 7/8 rule keywords: every name (and legacy
//! alias) Suricata's `sigmatch_table` registers, from `suricata
//! --list-keywords=csv` of 7.0.10 and 8.0.0 (plus `ether.hdr`, registered
//! after 8.0.0 and used by suricata-verify), each classified by when
//! mirador means to support it ([`KeywordClass`]) and by whether it takes
//! a value ([`ValuePolicy`], from the CSV's "No option" feature, which is
//! Suricata's `SIGMATCH_NOOPT`).
//!
//! Keyword names match case-insensitively, as in Suricata (`strcasecmp`).

use std::collections::HashMap;
use std::sync::OnceLock;

/// When mirador means to support a keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeywordClass {
    /// The signature engine's first issue (issue 4): payload keywords
    /// (`content` and its modifiers, `pcre`, `byte_*`, `isdataat`,
    /// `dsize`), flow and header keywords, thresholds, and the meta
    /// keywords.
    Issue4,
    /// Sticky buffers, content modifiers, transforms and app-layer
    /// keywords (`http.*`, `tls.*`, `dns.*`, `file.*`, `ja3*`, ...): the
    /// next issue.
    AppLayer,
    /// Everything else: not planned yet.
    Other,
}

/// Whether a keyword takes a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValuePolicy {
    /// `nocase;`: a value is an error (Suricata's `SIGMATCH_NOOPT`).
    None,
    /// `sid:1;`: a missing or empty value is an error.
    Required,
    /// `fast_pattern;` or `fast_pattern:only;` (`SIGMATCH_OPTIONAL_OPT`).
    Optional,
}

/// One keyword of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Keyword {
    /// The canonical name (Suricata's `name`).
    pub name: &'static str,
    /// Other names Suricata accepts for it (its `alias`, and legacy names).
    pub aliases: &'static [&'static str],
    /// When mirador means to support it.
    pub class: KeywordClass,
    /// Whether it takes a value.
    pub value: ValuePolicy,
}

use KeywordClass::{AppLayer as A, Issue4 as I, Other as O};
use ValuePolicy::{None as N, Optional as P, Required as R};

const fn k(
    name: &'static str,
    aliases: &'static [&'static str],
    class: KeywordClass,
    value: ValuePolicy,
) -> Keyword {
    Keyword {
        name,
        aliases,
        class,
        value,
    }
}

/// Every keyword, canonical names unique.
pub static KEYWORDS: &[Keyword] = &[
    // Meta keywords.
    k("msg", &[], I, R),
    k("sid", &[], I, R),
    k("rev", &[], I, R),
    k("gid", &[], I, R),
    k("classtype", &[], I, R),
    k("priority", &[], I, R),
    k("metadata", &[], I, R),
    k("reference", &[], I, R),
    k("target", &[], I, R),
    // Payload keywords.
    k("content", &[], I, R),
    k("nocase", &[], I, N),
    k("fast_pattern", &[], I, P),
    k("depth", &[], I, R),
    k("offset", &[], I, R),
    k("distance", &[], I, R),
    k("within", &[], I, R),
    k("startswith", &[], I, N),
    k("endswith", &[], I, N),
    k("rawbytes", &[], I, N),
    k("isdataat", &[], I, R),
    k("dsize", &[], I, R),
    k("pcre", &[], I, R),
    k("byte_test", &[], I, R),
    k("byte_jump", &[], I, R),
    k("byte_extract", &[], I, R),
    k("byte_math", &[], I, R),
    k("base64_decode", &[], I, P),
    k("base64_data", &[], I, N),
    // Flow, state and thresholds.
    k("flow", &[], I, R),
    k("flowbits", &[], I, R),
    k("xbits", &[], I, R),
    k("flowint", &[], I, R),
    k("threshold", &[], I, R),
    k("detection_filter", &[], I, R),
    k("noalert", &[], I, N),
    k("tag", &[], I, R),
    k("prefilter", &[], I, N),
    k("stream_size", &[], I, R),
    k("stream-event", &[], I, R),
    k("decode-event", &[], I, R),
    // Header keywords.
    k("tcp.flags", &["flags"], I, R),
    k("ttl", &[], I, R),
    k("itype", &[], I, R),
    k("icode", &[], I, R),
    k("icmp_id", &[], I, R),
    k("icmp_seq", &[], I, R),
    k("ip_proto", &[], I, R),
    // Header keywords not planned yet.
    k("tcp.ack", &["ack"], O, R),
    k("tcp.seq", &["seq"], O, R),
    k("tcp.window", &["window"], O, R),
    k("tcp.mss", &[], O, R),
    k("tcp.wscale", &[], O, R),
    k("ipopts", &[], O, R),
    k("fragbits", &[], O, R),
    k("fragoffset", &[], O, R),
    k("tos", &[], O, R),
    k("id", &[], O, R),
    k("sameip", &[], O, N),
    k("icmpv6.mtu", &[], O, R),
    k("vlan.id", &[], O, R),
    k("vlan.layers", &[], O, R),
    k("l3_proto", &[], O, R),
    k("ipv4-csum", &[], O, R),
    k("tcpv4-csum", &[], O, R),
    k("tcpv6-csum", &[], O, R),
    k("udpv4-csum", &[], O, R),
    k("udpv6-csum", &[], O, R),
    k("icmpv4-csum", &[], O, R),
    k("icmpv6-csum", &[], O, R),
    // Other keywords not planned yet.
    k("alert", &[], O, N),
    k("engine-event", &[], O, R),
    k("flow.age", &[], O, R),
    k("flow.pkts", &[], O, R),
    k("flow.pkts_toserver", &[], O, R),
    k("flow.pkts_toclient", &[], O, R),
    k("flow.bytes", &[], O, R),
    k("flow.bytes_toserver", &[], O, R),
    k("flow.bytes_toclient", &[], O, R),
    k("flowvar", &[], O, R),
    k("pktvar", &[], O, R),
    k("hostbits", &[], O, R),
    k("replace", &[], O, R),
    k("dataset", &[], O, R),
    k("datarep", &[], O, R),
    k("asn1", &[], O, R),
    k("lua", &["luajit"], O, R),
    k("geoip", &[], O, R),
    k("iprep", &[], O, R),
    k("rpc", &[], O, R),
    k("nfq_set_mark", &[], O, R),
    k("config", &[], O, R),
    k("requires", &[], O, R),
    k("bypass", &[], O, N),
    k("template2", &[], O, R),
    // Buffer keywords, sticky buffers, modifiers and transforms.
    k("pkt_data", &[], A, N),
    k("bsize", &[], A, R),
    k("absent", &[], A, P),
    k("entropy", &[], A, R),
    k("frame", &[], A, R),
    k("ether.hdr", &[], A, N),
    k("ip.src", &[], A, N),
    k("ip.dst", &[], A, N),
    k("ipv4.hdr", &[], A, N),
    k("ipv6.hdr", &[], A, N),
    k("icmpv4.hdr", &[], A, N),
    k("icmpv6.hdr", &[], A, N),
    k("tcp.hdr", &[], A, N),
    k("udp.hdr", &[], A, N),
    k("compress_whitespace", &[], A, N),
    k("strip_whitespace", &[], A, N),
    k("strip_pseudo_headers", &[], A, N),
    k("to_md5", &[], A, N),
    k("to_sha1", &[], A, N),
    k("to_sha256", &[], A, N),
    k("dotprefix", &[], A, N),
    k("url_decode", &[], A, N),
    k("to_lowercase", &[], A, N),
    k("to_uppercase", &[], A, N),
    k("header_lowercase", &[], A, N),
    k("domain", &[], A, N),
    k("tld", &[], A, N),
    k("xor", &[], A, R),
    k("pcrexform", &[], A, R),
    k("luaxform", &[], A, R),
    k("from_base64", &[], A, P),
    // App-layer protocol and events.
    k("app-layer-protocol", &[], A, R),
    k("app-layer-event", &[], A, R),
    k("app-layer-state", &[], A, R),
    // HTTP.
    k("uricontent", &[], A, R),
    k("urilen", &[], A, R),
    k("http_uri", &[], A, N),
    k("http.uri", &[], A, N),
    k("http_raw_uri", &[], A, N),
    k("http.uri.raw", &[], A, N),
    k("http_method", &[], A, N),
    k("http.method", &[], A, N),
    k("http_cookie", &[], A, N),
    k("http.cookie", &[], A, N),
    k("http_client_body", &[], A, N),
    k("http.request_body", &[], A, N),
    k("http_server_body", &[], A, N),
    k("http.response_body", &[], A, N),
    k("http_header", &[], A, N),
    k("http.header", &[], A, N),
    k("http_raw_header", &[], A, N),
    k("http.header.raw", &[], A, N),
    k("http.header_names", &["http_header_names"], A, N),
    k("http_stat_msg", &[], A, N),
    k("http.stat_msg", &[], A, N),
    k("http_stat_code", &[], A, N),
    k("http.stat_code", &[], A, N),
    k("http_user_agent", &[], A, N),
    k("http.user_agent", &[], A, N),
    k("http_host", &[], A, N),
    k("http.host", &[], A, N),
    k("http_raw_host", &[], A, N),
    k("http.host.raw", &[], A, N),
    k("http.protocol", &["http_protocol"], A, N),
    k("http.start", &["http_start"], A, N),
    k("http.request_line", &["http_request_line"], A, N),
    k("http.response_line", &["http_response_line"], A, N),
    k("http.accept", &["http_accept"], A, N),
    k("http.accept_lang", &["http_accept_lang"], A, N),
    k("http.accept_enc", &["http_accept_enc"], A, N),
    k("http.connection", &["http_connection"], A, N),
    k("http.content_len", &["http_content_len"], A, N),
    k("http.content_type", &["http_content_type"], A, N),
    k("http.referer", &["http_referer"], A, N),
    k("http.location", &[], A, N),
    k("http.server", &[], A, N),
    k("http.request_header", &[], A, N),
    k("http.response_header", &[], A, N),
    k("http2.frametype", &[], A, R),
    k("http2.errorcode", &[], A, R),
    k("http2.priority", &[], A, R),
    k("http2.window", &[], A, R),
    k("http2.size_update", &[], A, R),
    k("http2.settings", &[], A, R),
    k("http2.header_name", &[], A, N),
    // Files.
    k("file.data", &["file_data"], A, P),
    k("file.name", &[], A, N),
    k("filename", &[], A, R),
    k("fileext", &[], A, R),
    k("file.magic", &[], A, N),
    k("filemagic", &[], A, R),
    k("filestore", &[], A, P),
    k("filemd5", &[], A, R),
    k("filesha1", &[], A, R),
    k("filesha256", &[], A, R),
    k("filesize", &[], A, R),
    // TLS and fingerprints.
    k("tls.version", &[], A, R),
    k("tls.subject", &[], A, R),
    k("tls.issuerdn", &[], A, R),
    k("tls.fingerprint", &[], A, R),
    k("tls_store", &["tls.store"], A, N),
    k("tls_cert_notbefore", &[], A, R),
    k("tls_cert_notafter", &[], A, R),
    k("tls_cert_expired", &[], A, N),
    k("tls_cert_valid", &[], A, N),
    k("tls.cert_chain_len", &[], A, R),
    k("tls.sni", &["tls_sni"], A, N),
    k("tls.certs", &[], A, N),
    k("tls.cert_issuer", &["tls_cert_issuer"], A, N),
    k("tls.cert_subject", &["tls_cert_subject"], A, N),
    k("tls.cert_serial", &["tls_cert_serial"], A, N),
    k("tls.cert_fingerprint", &["tls_cert_fingerprint"], A, N),
    k("tls.subjectaltname", &[], A, N),
    k("tls.alpn", &[], A, N),
    k("tls.random", &[], A, N),
    k("tls.random_time", &[], A, N),
    k("tls.random_bytes", &[], A, N),
    k("ssl_version", &[], A, R),
    k("ssl_state", &[], A, R),
    k("ja3.hash", &["ja3_hash"], A, N),
    k("ja3.string", &["ja3_string"], A, N),
    k("ja3s.hash", &[], A, N),
    k("ja3s.string", &[], A, N),
    k("ja4.hash", &[], A, N),
    // DNS and mDNS.
    k("dns.query", &["dns_query"], A, N),
    k("dns.opcode", &[], A, R),
    k("dns.rcode", &[], A, R),
    k("dns.rrtype", &[], A, R),
    k("dns.query.name", &[], A, N),
    k("dns.answer.name", &[], A, N),
    k("dns.queries.rrname", &[], A, N),
    k("dns.answers.rrname", &[], A, N),
    k("dns.additionals.rrname", &[], A, N),
    k("dns.authorities.rrname", &[], A, N),
    k("dns.response.rrname", &[], A, N),
    k("mdns.queries.rrname", &[], A, N),
    k("mdns.answers.rrname", &[], A, N),
    k("mdns.additionals.rrname", &[], A, N),
    k("mdns.authorities.rrname", &[], A, N),
    k("mdns.response.rrname", &[], A, N),
    // SSH.
    k("ssh.proto", &["ssh_proto"], A, N),
    k("ssh.protoversion", &[], A, R),
    k("ssh.software", &["ssh_software"], A, N),
    k("ssh.softwareversion", &[], A, R),
    k("ssh.hassh", &[], A, N),
    k("ssh.hassh.server", &[], A, N),
    k("ssh.hassh.string", &[], A, N),
    k("ssh.hassh.server.string", &[], A, N),
    // FTP.
    k("ftpbounce", &[], A, N),
    k("ftpdata_command", &[], A, R),
    k("ftp.dynamic_port", &[], A, R),
    k("ftp.command", &[], A, N),
    k("ftp.command_data", &[], A, N),
    k("ftp.reply", &[], A, N),
    k("ftp.completion_code", &[], A, N),
    k("ftp.mode", &[], A, R),
    k("ftp.reply_received", &[], A, R),
    // SMB, DCERPC, NFS, Kerberos.
    k("dcerpc.iface", &["dce_iface"], A, R),
    k("dcerpc.opnum", &["dce_opnum"], A, R),
    k("dcerpc.stub_data", &["dce_stub_data"], A, N),
    k("smb.named_pipe", &[], A, N),
    k("smb.share", &[], A, N),
    k("smb.ntlmssp_user", &[], A, N),
    k("smb.ntlmssp_domain", &[], A, N),
    k("smb.version", &[], A, R),
    k("nfs_procedure", &[], A, R),
    k("nfs.version", &[], A, R),
    k("krb5_err_code", &[], A, R),
    k("krb5_msg_type", &[], A, R),
    k("krb5.cname", &[], A, N),
    k("krb5.sname", &[], A, N),
    k("krb5.ticket_encryption", &[], A, R),
    // SMTP and email.
    k("smtp.helo", &[], A, N),
    k("smtp.mail_from", &[], A, N),
    k("smtp.rcpt_to", &[], A, N),
    k("email.from", &[], A, N),
    k("email.subject", &[], A, N),
    k("email.to", &[], A, N),
    k("email.cc", &[], A, N),
    k("email.date", &[], A, N),
    k("email.message_id", &[], A, N),
    k("email.x_mailer", &[], A, N),
    k("email.url", &[], A, N),
    k("email.received", &[], A, N),
    // SIP and SDP.
    k("sip.method", &[], A, N),
    k("sip.uri", &[], A, N),
    k("sip.protocol", &[], A, N),
    k("sip.stat_code", &[], A, N),
    k("sip.stat_msg", &[], A, N),
    k("sip.request_line", &[], A, N),
    k("sip.response_line", &[], A, N),
    k("sip.from", &[], A, N),
    k("sip.to", &[], A, N),
    k("sip.via", &[], A, N),
    k("sip.user_agent", &[], A, N),
    k("sip.content_type", &[], A, N),
    k("sip.content_length", &[], A, N),
    k("sdp.session_name", &[], A, N),
    k("sdp.session_info", &[], A, N),
    k("sdp.origin", &[], A, N),
    k("sdp.uri", &[], A, N),
    k("sdp.email", &[], A, N),
    k("sdp.phone_number", &[], A, N),
    k("sdp.connection_data", &[], A, N),
    k("sdp.bandwidth", &[], A, N),
    k("sdp.time", &[], A, N),
    k("sdp.repeat_time", &[], A, N),
    k("sdp.timezone", &[], A, N),
    k("sdp.encryption_key", &[], A, N),
    k("sdp.attribute", &[], A, N),
    k("sdp.media.media", &[], A, N),
    k("sdp.media.media_info", &[], A, N),
    k("sdp.media.connection_data", &[], A, N),
    k("sdp.media.encryption_key", &[], A, N),
    // QUIC, IKE, DHCP, SNMP, RFB, MQTT, LDAP, PostgreSQL, WebSocket.
    k("quic.version", &[], A, N),
    k("quic.sni", &[], A, N),
    k("quic.ua", &[], A, N),
    k("quic.cyu.hash", &[], A, N),
    k("quic.cyu.string", &[], A, N),
    k("ike.exchtype", &[], A, R),
    k("ike.init_spi", &[], A, N),
    k("ike.resp_spi", &[], A, N),
    k("ike.vendor", &[], A, N),
    k("ike.chosen_sa_attribute", &[], A, R),
    k("ike.key_exchange_payload_length", &[], A, R),
    k("ike.nonce_payload_length", &[], A, R),
    k("ike.nonce_payload", &[], A, N),
    k("ike.key_exchange_payload", &[], A, N),
    k("dhcp.leasetime", &[], A, R),
    k("dhcp.rebinding_time", &[], A, R),
    k("dhcp.renewal_time", &[], A, R),
    k("snmp.version", &[], A, R),
    k("snmp.pdu_type", &[], A, R),
    k("snmp.usm", &[], A, N),
    k("snmp.community", &[], A, N),
    k("rfb.name", &[], A, N),
    k("rfb.sectype", &[], A, R),
    k("rfb.secresult", &[], A, R),
    k("mqtt.type", &[], A, R),
    k("mqtt.flags", &[], A, R),
    k("mqtt.qos", &[], A, R),
    k("mqtt.protocol_version", &[], A, R),
    k("mqtt.reason_code", &[], A, R),
    k("mqtt.connect.flags", &[], A, R),
    k("mqtt.connack.session_present", &[], A, R),
    k("mqtt.connect.clientid", &[], A, N),
    k("mqtt.connect.username", &[], A, N),
    k("mqtt.connect.password", &[], A, N),
    k("mqtt.connect.protocol_string", &[], A, N),
    k("mqtt.connect.willtopic", &[], A, N),
    k("mqtt.connect.willmessage", &[], A, N),
    k("mqtt.publish.topic", &[], A, N),
    k("mqtt.publish.message", &[], A, N),
    k("mqtt.subscribe.topic", &[], A, N),
    k("mqtt.unsubscribe.topic", &[], A, N),
    k("ldap.request.operation", &[], A, R),
    k("ldap.responses.operation", &[], A, R),
    k("ldap.responses.count", &[], A, R),
    k("ldap.responses.result_code", &[], A, R),
    k("ldap.request.dn", &[], A, N),
    k("ldap.responses.dn", &[], A, N),
    k("ldap.responses.message", &[], A, N),
    k("ldap.request.attribute_type", &[], A, N),
    k("ldap.responses.attribute_type", &[], A, N),
    k("pgsql.query", &[], A, N),
    k("websocket.opcode", &[], A, R),
    k("websocket.mask", &[], A, R),
    k("websocket.flags", &[], A, R),
    k("websocket.payload", &[], A, N),
    // Industrial protocols.
    k("modbus", &[], A, R),
    k("dnp3.data", &["dnp3_data"], A, N),
    k("dnp3_func", &[], A, R),
    k("dnp3_ind", &[], A, R),
    k("dnp3_obj", &[], A, R),
    k("cip_service", &[], A, R),
    k("enip_command", &[], A, R),
    k("enip.capabilities", &[], A, R),
    k("enip.cip_attribute", &[], A, R),
    k("enip.cip_class", &[], A, R),
    k("enip.vendor_id", &[], A, R),
    k("enip.status", &[], A, R),
    k("enip.state", &[], A, R),
    k("enip.serial", &[], A, R),
    k("enip.revision", &[], A, R),
    k("enip.protocol_version", &[], A, R),
    k("enip.product_code", &[], A, R),
    k("enip.identity_status", &[], A, R),
    k("enip.device_type", &[], A, R),
    k("enip.cip_status", &[], A, R),
    k("enip.cip_instance", &[], A, R),
    k("enip.cip_extendedstatus", &[], A, R),
    k("enip.product_name", &[], A, N),
    k("enip.service_name", &[], A, N),
];

/// Looks a keyword up by name or alias, case-insensitively.
///
/// ```
/// use mirador_rules::keywords::{lookup, KeywordClass};
///
/// assert_eq!(lookup("flags").unwrap().name, "tcp.flags");
/// assert_eq!(lookup("DNS_QUERY").unwrap().name, "dns.query");
/// assert_eq!(lookup("content").unwrap().class, KeywordClass::Issue4);
/// assert!(lookup("no_such_keyword").is_none());
/// ```
pub fn lookup(name: &str) -> Option<&'static Keyword> {
    static INDEX: OnceLock<HashMap<String, &'static Keyword>> = OnceLock::new();
    let index = INDEX.get_or_init(|| {
        let mut m = HashMap::with_capacity(KEYWORDS.len() * 2);
        for kw in KEYWORDS {
            m.insert(kw.name.to_string(), kw);
            for alias in kw.aliases {
                m.insert((*alias).to_string(), kw);
            }
        }
        m
    });
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        index.get(&name.to_ascii_lowercase()).copied()
    } else {
        index.get(name).copied()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn names_and_aliases_are_unique_and_lowercase() {
        let mut seen = HashSet::new();
        for kw in KEYWORDS {
            for name in std::iter::once(&kw.name).chain(kw.aliases) {
                assert!(seen.insert(*name), "{name} listed twice");
                assert_eq!(*name, name.to_ascii_lowercase());
                assert_eq!(lookup(name), Some(kw));
            }
        }
    }

    #[test]
    fn the_issue4_list_is_complete() {
        let issue4 = [
            "content",
            "nocase",
            "fast_pattern",
            "depth",
            "offset",
            "distance",
            "within",
            "startswith",
            "endswith",
            "rawbytes",
            "isdataat",
            "dsize",
            "pcre",
            "byte_test",
            "byte_jump",
            "byte_extract",
            "byte_math",
            "flow",
            "flowbits",
            "xbits",
            "threshold",
            "detection_filter",
            "flags",
            "tcp.flags",
            "ttl",
            "itype",
            "icode",
            "icmp_id",
            "icmp_seq",
            "ip_proto",
            "stream_size",
            "prefilter",
            "flowint",
            "base64_decode",
            "base64_data",
            "noalert",
            "tag",
            "stream-event",
            "decode-event",
            "msg",
            "sid",
            "rev",
            "gid",
            "classtype",
            "priority",
            "metadata",
            "reference",
            "target",
        ];
        for name in issue4 {
            assert_eq!(
                lookup(name).map(|k| k.class),
                Some(KeywordClass::Issue4),
                "{name}"
            );
        }
        let count = KEYWORDS
            .iter()
            .filter(|k| k.class == KeywordClass::Issue4)
            .count();
        assert_eq!(
            count,
            issue4.len() - 1,
            "only the listed keywords are Issue4"
        );
        assert_eq!(lookup("http.uri").unwrap().class, KeywordClass::AppLayer);
        assert_eq!(lookup("ja3_hash").unwrap().class, KeywordClass::AppLayer);
        assert_eq!(lookup("fragbits").unwrap().class, KeywordClass::Other);
    }
}
