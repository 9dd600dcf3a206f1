//! `--pcap FILE`: the replay itself as a capture, written with the lab's pcap writer (raw IPv4;
//! TCP with TPKT after a synthesized handshake, UDP, or SCTP DATA chunks of PPID 7).

use std::path::Path;

use iq_link::transport::TransportKind;

use crate::conformance::link::Wire;
use crate::lab::pcap::PcapWriter;

/// Writes `wire` (in the order seen) to `path`; the number of H.248 messages written.
pub(super) fn write_pcap(path: &Path, wire: impl Iterator<Item = Wire>) -> Result<usize, String> {
    let mut w = PcapWriter::new();
    let mut n = 0;
    for m in wire {
        match m.kind {
            TransportKind::Tcp => w.tcp_message(m.at, m.src, m.dst, &m.data),
            TransportKind::Udp => w.udp(m.at, m.src, m.dst, &m.data),
            TransportKind::Sctp => w.sctp_message(m.at, m.src, m.dst, 0, &m.data),
        }
        n += 1;
    }
    std::fs::write(path, w.into_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(n)
}
