//! The worker side of the application layer: feeding a flow's parser,
//! inspecting its transactions with the signature engine, and writing the
//! protocol EVE records (`http`, `tls`, `dns`).

use mirador_applayer::Dir;
use mirador_applayer::dns::DnsTx;
use mirador_applayer::http::{HashKind, HttpBuffer, HttpTx, Progress};
use mirador_applayer::tls::{TlsBuffer, TlsProgress, TlsState};
use mirador_detect::buffer::{AppProto, Buffer, FileHashKind, Ready, TxBuffers, TxDir};
use mirador_detect::engine::TxInput;
use mirador_engine::eve::Obj;

use super::*;
use crate::app::{AppFlow, Parser, TxTrack};
use crate::record::{AppInfo, AppRecord, app_record};

/// The parser direction of stream direction `d` (0: to server).
pub(super) fn dir_of(d: usize) -> Dir {
    if d == 0 { Dir::ToServer } else { Dir::ToClient }
}

/// Feeds one stream chunk of direction `d` to the flow's application
/// layer (created at the first chunk).
pub(super) fn feed_chunk(
    shared: &WorkerShared,
    app: &mut Option<Box<AppFlow>>,
    d: usize,
    chunk: &Chunk<'_>,
    server_port: u16,
) {
    let app = app.get_or_insert_with(|| Box::new(AppFlow::new()));
    match *chunk {
        Chunk::Data { bytes, .. } => app.tcp_data(&shared.app, dir_of(d), bytes, server_port),
        Chunk::Gap { len, .. } => app.tcp_gap(dir_of(d), len),
    }
}

/// `app_proto` for alerts and records of a flow.
pub(super) fn app_info(user: &FlowUser) -> Option<AppInfo<'static>> {
    let proto = user.app.as_ref()?.eve_name()?;
    Some(AppInfo {
        proto,
        tx_id: None,
        object: None,
    })
}

/// Inspects the flow's transactions with the rules of direction
/// `data_dir` (a packet of that direction, whose payload `data` is what
/// the rules' payload keywords see; `None`: no rules), or of both
/// directions when `closing` (the flow ended: everything is final); writes
/// the protocol records of transactions that are done, and lets the
/// parser drop them.
#[allow(clippy::too_many_arguments)]
pub(super) fn inspect_txs(
    shared: &WorkerShared,
    engine: Option<&Engine>,
    here: &Here<'_>,
    client: Endpoint,
    server: Endpoint,
    flow: &Flow,
    user: &mut FlowUser,
    data_dir: Option<usize>,
    data: [&[u8]; 2],
    closing: bool,
    st: &mut State,
) {
    let FlowUser {
        app,
        vars,
        session,
        mirror,
        tcp,
        ..
    } = user;
    let Some(app) = app.as_deref_mut() else {
        return;
    };
    let Some(proto) = app.proto() else {
        return;
    };
    let established = if here.key.proto == proto::TCP {
        tcp.state().is_established()
    } else {
        flow.state() == mirador_flow::table::FlowState::Established
    };
    let ctx = TxCtx {
        shared,
        engine,
        here,
        client,
        server,
        flow,
        session: *session,
        mirror: mirror.as_ref(),
        proto,
        established,
        data_dir,
        data,
        closing,
    };
    let AppFlow { parser, txs, .. } = app;
    match parser {
        Parser::Off => {}
        Parser::Http(h) => {
            let mut retire = Retire::default();
            for tx in h.txs() {
                let view = HttpView { tx, closing };
                let track = AppFlow::track(txs, tx.id);
                let object = |o: &mut Obj<'_>| tx.write_eve(o);
                let complete = tx.request_progress() == Progress::Complete
                    && tx.response_progress() == Progress::Complete;
                ctx.run(&view, track, ("http", &object), vars, st);
                if complete || closing {
                    ctx.mark_done(track);
                }
                if (complete || closing) && !track.logged {
                    track.logged = true;
                    ctx.record("http", tx.id, true, &object, st);
                }
                retire.see(track, engine.is_some());
            }
            if let Some(id) = retire.through {
                h.remove_through(id);
            }
            forget_gone(txs, h.txs().next().map(|t| t.id));
        }
        Parser::Tls(t) => {
            let view = TlsView { st: t, closing };
            let track = AppFlow::track(txs, 0);
            let object = |o: &mut Obj<'_>| t.write_eve(o);
            ctx.run(&view, track, ("tls", &object), vars, st);
            let done = closing || t.progress() >= TlsProgress::HandshakeDone;
            if done && !track.logged && t.eve_wanted() {
                track.logged = true;
                ctx.record("tls", 0, true, &object, st);
            }
        }
        Parser::Dns(d) => {
            // A DNS message is a whole transaction: logged when it
            // appears, dropped once a packet of each direction (or the end
            // of the flow) has inspected it, as Suricata keeps it.
            let mut retire = Retire::default();
            for tx in d.txs() {
                let view = DnsView { tx };
                let track = AppFlow::track(txs, tx.id);
                let object = |o: &mut Obj<'_>| tx.write_alert_eve(o);
                ctx.run(&view, track, ("dns", &object), vars, st);
                ctx.mark_done(track);
                if !track.logged {
                    track.logged = true;
                    if shared.detectors.is_some()
                        && let Some(req) = tx.request()
                    {
                        // The questions of a query, for DNS tunnelling
                        // (a few: a query has one in practice).
                        for q in req.queries.iter().take(4) {
                            super::push_detector_event(
                                st,
                                ctx.here.ts,
                                ctx.here.key.tenant,
                                ctx.session,
                                crate::detectors::OwnedKind::Dns {
                                    client: ctx.client.addr,
                                    server: ctx.server.addr,
                                    qname: q.name.value.clone(),
                                    qtype: q.rrtype,
                                },
                            );
                        }
                    }
                    for r in tx.eve_records(&shared.app.dns_eve) {
                        ctx.record("dns", tx.id, true, &|o: &mut Obj<'_>| r.write(o), st);
                    }
                }
                retire.see(track, engine.is_some());
            }
            if let Some(id) = retire.through {
                d.remove_through(id);
            }
            forget_gone(txs, d.txs().next().map(|t| t.id));
        }
    }
}

/// Which transactions, oldest first, may go: each logged and (with rules)
/// inspected complete in both directions, with none before it waiting.
#[derive(Default)]
struct Retire {
    through: Option<u64>,
    blocked: bool,
}

impl Retire {
    fn see(&mut self, track: &TxTrack, rules: bool) {
        let finished = track.logged && (!rules || track.done == [true, true]);
        if finished && !self.blocked {
            self.through = Some(track.id);
        } else {
            self.blocked = true;
        }
    }
}

/// Drops the tracks of transactions the parser no longer has (removed, or
/// evicted at its cap); `first` is its oldest live one.
fn forget_gone(txs: &mut std::collections::VecDeque<TxTrack>, first: Option<u64>) {
    txs.retain(|t| first.is_some_and(|f| t.id >= f));
}

/// An HTTP transaction as the engine inspects it.
struct HttpView<'a> {
    tx: &'a HttpTx,
    closing: bool,
}

impl TxBuffers for HttpView<'_> {
    fn get(&self, b: Buffer, side: TxDir, i: usize) -> Option<&[u8]> {
        use HttpBuffer as H;
        let ts = side == TxDir::ToServer;
        let pick = |req: H, resp: H| if ts { req } else { resp };
        let hb = match b {
            Buffer::HttpRequestHeader => return self.tx.request_header(i),
            Buffer::HttpResponseHeader => return self.tx.response_header(i),
            _ if i > 0 => return None,
            Buffer::HttpUri => H::Uri,
            Buffer::HttpUriRaw => H::UriRaw,
            Buffer::HttpMethod => H::Method,
            Buffer::HttpRequestLine => H::RequestLine,
            Buffer::HttpHost => H::Host,
            Buffer::HttpHostRaw => H::HostRaw,
            Buffer::HttpUserAgent => H::UserAgent,
            Buffer::HttpReferer => H::Referer,
            Buffer::HttpAccept => H::Accept,
            Buffer::HttpAcceptEnc => H::AcceptEnc,
            Buffer::HttpAcceptLang => H::AcceptLang,
            Buffer::HttpRequestBody => H::RequestBody,
            Buffer::HttpStatCode => H::StatCode,
            Buffer::HttpStatMsg => H::StatMsg,
            Buffer::HttpResponseLine => H::ResponseLine,
            Buffer::HttpServer => H::Server,
            Buffer::HttpLocation => H::Location,
            Buffer::HttpResponseBody => H::ResponseBody,
            Buffer::HttpHeader => pick(H::RequestHeaders, H::ResponseHeaders),
            Buffer::HttpHeaderRaw => pick(H::RequestHeadersRaw, H::ResponseHeadersRaw),
            Buffer::HttpHeaderNames => pick(H::RequestHeaderNames, H::ResponseHeaderNames),
            Buffer::HttpCookie => pick(H::RequestCookie, H::ResponseCookie),
            Buffer::HttpContentType => pick(H::RequestContentType, H::ResponseContentType),
            Buffer::HttpContentLen => pick(H::RequestContentLen, H::ResponseContentLen),
            Buffer::HttpConnection => pick(H::RequestConnection, H::ResponseConnection),
            Buffer::HttpProtocol => pick(H::RequestProtocol, H::ResponseProtocol),
            Buffer::HttpStart => pick(H::RequestStart, H::ResponseStart),
            Buffer::FileData => pick(H::RequestBody, H::ResponseBody),
            _ => return None,
        };
        self.tx.buffer(hb)
    }

    fn ready(&self, b: Buffer, side: TxDir) -> Ready {
        if self.closing {
            return Ready::Final;
        }
        let line = matches!(
            b,
            Buffer::HttpUri
                | Buffer::HttpUriRaw
                | Buffer::HttpMethod
                | Buffer::HttpRequestLine
                | Buffer::HttpStatCode
                | Buffer::HttpStatMsg
                | Buffer::HttpResponseLine
                | Buffer::HttpProtocol
        );
        let body = matches!(
            b,
            Buffer::HttpRequestBody | Buffer::HttpResponseBody | Buffer::FileData
        );
        let need = if line {
            Progress::Headers
        } else if body {
            Progress::Complete
        } else {
            Progress::Body
        };
        let have = if side == TxDir::ToServer {
            self.tx.request_progress()
        } else {
            self.tx.response_progress()
        };
        if have >= need {
            Ready::Final
        } else {
            Ready::NotYet
        }
    }

    fn events(&self) -> &[&'static str] {
        self.tx.events()
    }

    fn complete(&self) -> bool {
        self.closing
            || self.tx.request_progress() == Progress::Complete
                && self.tx.response_progress() == Progress::Complete
    }

    fn file_hash(&self, kind: FileHashKind, side: TxDir) -> Option<([u8; 32], u8)> {
        let k = match kind {
            FileHashKind::Md5 => HashKind::Md5,
            FileHashKind::Sha1 => HashKind::Sha1,
            FileHashKind::Sha256 => HashKind::Sha256,
        };
        let dir = if side == TxDir::ToServer {
            Dir::ToServer
        } else {
            Dir::ToClient
        };
        self.tx.file_hash(k, dir).map(|d| (d.bytes, d.len))
    }
}

/// A TLS session as the engine inspects it (one transaction per flow).
struct TlsView<'a> {
    st: &'a TlsState,
    closing: bool,
}

impl TxBuffers for TlsView<'_> {
    fn get(&self, b: Buffer, side: TxDir, i: usize) -> Option<&[u8]> {
        let dir = if side == TxDir::ToServer {
            Dir::ToServer
        } else {
            Dir::ToClient
        };
        let one = |tb: TlsBuffer| {
            if i == 0 {
                self.st.buffer_dir(tb, dir)
            } else {
                None
            }
        };
        match b {
            Buffer::TlsSni => one(TlsBuffer::Sni),
            Buffer::TlsCertSubject => one(TlsBuffer::CertSubject),
            Buffer::TlsCertIssuer => one(TlsBuffer::CertIssuer),
            Buffer::TlsCertSerial => one(TlsBuffer::CertSerial),
            Buffer::TlsCertFingerprint => one(TlsBuffer::CertFingerprint),
            Buffer::Ja3Hash => one(TlsBuffer::Ja3Hash),
            Buffer::Ja3String => one(TlsBuffer::Ja3String),
            Buffer::Ja3sHash => one(TlsBuffer::Ja3sHash),
            Buffer::Ja3sString => one(TlsBuffer::Ja3sString),
            Buffer::Ja4Hash => one(TlsBuffer::Ja4Hash),
            Buffer::TlsCerts => self.st.cert_dir(dir, i),
            _ => None,
        }
    }

    fn ready(&self, b: Buffer, side: TxDir) -> Ready {
        let p = self.st.progress();
        let need = match b {
            Buffer::TlsSni | Buffer::Ja3Hash | Buffer::Ja3String | Buffer::Ja4Hash => {
                TlsProgress::ClientHello
            }
            Buffer::Ja3sHash | Buffer::Ja3sString => TlsProgress::ServerHello,
            // The server's certificates are final once decoded; a client's
            // (sent after the server's) once the handshake is done.
            _ if side == TxDir::ToClient => TlsProgress::Certificate,
            _ => TlsProgress::HandshakeDone,
        };
        if self.closing || p >= need {
            Ready::Final
        } else {
            Ready::NotYet
        }
    }

    fn events(&self) -> &[&'static str] {
        self.st.events()
    }

    fn tls_version(&self, dir: TxDir) -> Option<u16> {
        self.st.version_dir(if dir == TxDir::ToServer {
            Dir::ToServer
        } else {
            Dir::ToClient
        })
    }

    fn tls_version_ready(&self, dir: TxDir) -> bool {
        let need = if dir == TxDir::ToServer {
            TlsProgress::ClientHello
        } else {
            TlsProgress::ServerHello
        };
        self.closing || self.st.progress() >= need
    }

    fn complete(&self) -> bool {
        self.closing || self.st.progress() >= TlsProgress::HandshakeDone
    }
}

/// A DNS message as the engine inspects it.
struct DnsView<'a> {
    tx: &'a DnsTx,
}

impl TxBuffers for DnsView<'_> {
    fn get(&self, b: Buffer, side: TxDir, i: usize) -> Option<&[u8]> {
        match (b, side) {
            (Buffer::DnsQuery, TxDir::ToServer) => self.tx.query(i),
            _ => None,
        }
    }

    fn ready(&self, _: Buffer, _: TxDir) -> Ready {
        Ready::Final
    }

    fn events(&self) -> &[&'static str] {
        self.tx.events()
    }
}

/// The flow ended: both directions end for the parser, and every
/// transaction is inspected a last time (all its buffers final) and
/// logged.
#[allow(clippy::too_many_arguments)]
pub(super) fn close(
    shared: &WorkerShared,
    engine: Option<&Engine>,
    here: &Here<'_>,
    client: Endpoint,
    server: Endpoint,
    flow: &Flow,
    user: &mut FlowUser,
    st: &mut State,
) {
    let Some(app) = user.app.as_mut() else {
        return;
    };
    app.tcp_eof(Dir::ToServer);
    app.tcp_eof(Dir::ToClient);
    let raw = user.raw.take();
    let data = match raw.as_deref() {
        Some([a, b]) => [&a[..], &b[..]],
        None => [&[][..], &[][..]],
    };
    inspect_txs(
        shared, engine, here, client, server, flow, user, None, data, true, st,
    );
}

/// What every transaction of one call shares.
pub(super) struct TxCtx<'a> {
    shared: &'a WorkerShared,
    engine: Option<&'a Engine>,
    here: &'a Here<'a>,
    client: Endpoint,
    server: Endpoint,
    flow: &'a Flow,
    session: u32,
    mirror: Option<&'a mirador_wire::Mirror>,
    proto: AppProto,
    established: bool,
    data_dir: Option<usize>,
    data: [&'a [u8]; 2],
    closing: bool,
}

impl TxCtx<'_> {
    /// Records that the directions just inspected saw the transaction
    /// complete (call it only then).
    fn mark_done(&self, track: &mut TxTrack) {
        for d in 0..2 {
            if (self.closing || self.data_dir == Some(d)) && !track.det[d].has_pending() {
                track.done[d] = true;
            }
        }
    }

    /// Runs the transaction rules on `tx` in both directions and writes
    /// their alerts, each with the transaction's id and protocol object.
    pub(super) fn run(
        &self,
        tx: &dyn TxBuffers,
        track: &mut TxTrack,
        object: (&'static str, &dyn Fn(&mut Obj<'_>)),
        vars: &mut mirador_detect::flowvars::FlowVars,
        st: &mut State,
    ) {
        let Some(engine) = self.engine.filter(|_| !track.frozen) else {
            return;
        };
        for (d, dir) in [TxDir::ToServer, TxDir::ToClient].into_iter().enumerate() {
            if !self.closing && self.data_dir != Some(d) {
                continue;
            }
            let (src, dst) = if d == 0 {
                (self.client, self.server)
            } else {
                (self.server, self.client)
            };
            let data = self.data[d];
            let input = TxInput {
                var_set: var_set_of(engine, self.session, st),
                app: self.proto,
                dir,
                view: PacketView {
                    ip_proto: self.here.key.proto,
                    ttl: self.here.ttl,
                    to_server: d == 0,
                    established: self.established,
                    has_flow: true,
                    ..PacketView::default()
                },
                src: src.addr,
                sport: src.port,
                dst: dst.addr,
                dport: dst.port,
                data,
            };
            st.matches.clear();
            engine.inspect_tx(
                &input,
                tx,
                &mut track.det[d],
                vars,
                &mut st.scratch,
                &mut st.matches,
            );
            if st.matches.is_empty() {
                continue;
            }
            let matches = std::mem::take(&mut st.matches);
            let here = Here {
                app: Some(AppInfo {
                    proto: self.proto.name(),
                    tx_id: Some(track.id),
                    object: Some(object),
                }),
                ..*self.here
            };
            for &mt in &matches {
                if engine.signatures()[mt.sig as usize]
                    .tx
                    .as_ref()
                    .is_some_and(|t| t.dirs == [true, true])
                {
                    track.det[1 - d].decide(mt);
                }
                engine.apply_actions(mt, vars);
                emit_alert(
                    self.shared,
                    engine,
                    mt,
                    &here,
                    Owner {
                        flow: Some(self.flow),
                        session: self.session,
                        mirror: self.mirror,
                    },
                    src,
                    dst,
                    d == 0,
                    self.data_dir.is_some() && self.here.key.proto == proto::TCP,
                    data,
                    &[],
                    st,
                );
            }
            st.matches = matches;
        }
    }

    /// Writes one protocol record (`event_type` `name`) of transaction
    /// `tx_id`, going `to_server` or not.
    pub(super) fn record(
        &self,
        name: &'static str,
        tx_id: u64,
        to_server: bool,
        write: &dyn Fn(&mut Obj<'_>),
        st: &mut State,
    ) {
        let (src, dst) = if to_server {
            (self.client, self.server)
        } else {
            (self.server, self.client)
        };
        let label = st
            .sessions
            .get(self.session as usize)
            .and_then(|c| c.as_ref())
            .map(|c| &c.label);
        app_record(
            &mut st.eve,
            &AppRecord {
                ts: self.here.ts,
                pcap_cnt: self.here.pcap_cnt,
                key: self.here.key,
                src,
                dst,
                client: self.client,
                server: self.server,
                event_type: name,
                tx_id,
                mirror: self.mirror.zip(label),
                seed: self.shared.seed,
                write,
            },
        );
        st.records += 1;
    }
}
