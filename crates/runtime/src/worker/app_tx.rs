//! The worker side of the application layer: feeding a flow's parser,
//! inspecting its transactions with the signature engine, and writing the
//! protocol EVE records (`http`, `tls`, `dns`).

use mirador_applayer::Dir;
use mirador_detect::buffer::{AppProto, TxBuffers, TxDir};
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

/// Inspects the flow's transactions (after new data in direction
/// `data_dir`, whose bytes `data` are what the rules' payload keywords
/// see; `closing`: the flow ended, everything is final), writes the
/// protocol records of transactions that are done, and lets the parser
/// drop them.
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
    data: &[u8],
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
    };
    let AppFlow { parser, txs, .. } = app;
    match parser {
        Parser::Off => {}
    }
    let _ = (&ctx, txs, vars, closing, st);
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
    inspect_txs(
        shared,
        engine,
        here,
        client,
        server,
        flow,
        user,
        None,
        &[],
        true,
        st,
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
    data: &'a [u8],
}

impl TxCtx<'_> {
    /// Runs the transaction rules on `tx` in both directions and writes
    /// their alerts, each with the transaction's id and protocol object.
    #[allow(dead_code)]
    pub(super) fn run(
        &self,
        tx: &dyn TxBuffers,
        track: &mut TxTrack,
        object: (&'static str, &dyn Fn(&mut Obj<'_>)),
        vars: &mut mirador_detect::flowvars::FlowVars,
        st: &mut State,
    ) {
        let Some(engine) = self.engine else {
            return;
        };
        for (d, dir) in [TxDir::ToServer, TxDir::ToClient].into_iter().enumerate() {
            let (src, dst) = if d == 0 {
                (self.client, self.server)
            } else {
                (self.server, self.client)
            };
            let data = if self.data_dir == Some(d) {
                self.data
            } else {
                &[]
            };
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
    #[allow(dead_code)]
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
