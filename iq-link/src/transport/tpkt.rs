//! TPKT framing for H.248 over TCP (H.248.1 Annex D.2, after RFC 1006).
//!
//! Every message is preceded by a 4-octet header: version 3, a reserved octet 0, and a 16-bit
//! big-endian length that counts the header too. [`TpktCodec`] is a tokio-util codec, so
//! `tokio_util::codec::Framed::new(tcp_stream, TpktCodec::default())` gives a `Stream` of messages
//! and a `Sink` for them; [`TcpConnection`](super::TcpConnection) uses the same codec.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::{TpktError, TransportError, TransportKind};

/// TPKT version octet.
pub const TPKT_VERSION: u8 = 3;
/// Size of the TPKT header.
pub const TPKT_HEADER_LEN: usize = 4;
/// Largest message a TPKT packet can carry (65535 minus the header).
pub const TPKT_MAX_PAYLOAD: usize = u16::MAX as usize - TPKT_HEADER_LEN;

/// Encoder and decoder of TPKT-framed H.248 messages.
#[derive(Clone, Debug)]
pub struct TpktCodec {
    max_payload: usize,
}

impl Default for TpktCodec {
    fn default() -> Self {
        TpktCodec {
            max_payload: TPKT_MAX_PAYLOAD,
        }
    }
}

impl TpktCodec {
    /// A codec that refuses messages longer than `max_payload` octets (at most
    /// [`TPKT_MAX_PAYLOAD`]) in both directions.
    pub fn with_max_payload(max_payload: usize) -> Self {
        TpktCodec {
            max_payload: max_payload.min(TPKT_MAX_PAYLOAD),
        }
    }

    /// The message size limit.
    pub fn max_payload(&self) -> usize {
        self.max_payload
    }

    /// Validate a header; returns the message length it announces.
    pub fn parse_header(&self, h: [u8; 4]) -> Result<usize, TpktError> {
        if h[0] != TPKT_VERSION {
            return Err(TpktError::Version(h[0]));
        }
        if h[1] != 0 {
            return Err(TpktError::Reserved(h[1]));
        }
        let len = u16::from_be_bytes([h[2], h[3]]);
        if (len as usize) <= TPKT_HEADER_LEN {
            return Err(TpktError::Length(len));
        }
        let payload = len as usize - TPKT_HEADER_LEN;
        if payload > self.max_payload {
            return Err(TpktError::TooLarge {
                len: payload,
                max: self.max_payload,
            });
        }
        Ok(payload)
    }

    /// Append one framed message to `dst`.
    pub fn encode_into(&self, msg: &[u8], dst: &mut BytesMut) -> Result<(), TransportError> {
        if msg.is_empty() {
            return Err(TransportError::Empty);
        }
        if msg.len() > self.max_payload {
            return Err(TransportError::TooLarge {
                transport: TransportKind::Tcp,
                len: msg.len(),
                max: self.max_payload,
            });
        }
        dst.reserve(TPKT_HEADER_LEN + msg.len());
        dst.put_u8(TPKT_VERSION);
        dst.put_u8(0);
        dst.put_u16((msg.len() + TPKT_HEADER_LEN) as u16);
        dst.put_slice(msg);
        Ok(())
    }
}

impl Decoder for TpktCodec {
    type Item = BytesMut;
    type Error = TransportError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, TransportError> {
        if src.len() < TPKT_HEADER_LEN {
            // a bad version octet is reported as soon as it arrives
            if let Some(&v) = src.first() {
                if v != TPKT_VERSION {
                    return Err(TpktError::Version(v).into());
                }
            }
            return Ok(None);
        }
        let payload = self.parse_header([src[0], src[1], src[2], src[3]])?;
        if src.len() < TPKT_HEADER_LEN + payload {
            src.reserve(TPKT_HEADER_LEN + payload - src.len());
            return Ok(None);
        }
        src.advance(TPKT_HEADER_LEN);
        Ok(Some(src.split_to(payload)))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, TransportError> {
        match self.decode(src)? {
            Some(frame) => Ok(Some(frame)),
            None if src.is_empty() => Ok(None),
            None => Err(TpktError::Truncated(src.len()).into()),
        }
    }
}

impl Encoder<&[u8]> for TpktCodec {
    type Error = TransportError;

    fn encode(&mut self, msg: &[u8], dst: &mut BytesMut) -> Result<(), TransportError> {
        self.encode_into(msg, dst)
    }
}

impl Encoder<Bytes> for TpktCodec {
    type Error = TransportError;

    fn encode(&mut self, msg: Bytes, dst: &mut BytesMut) -> Result<(), TransportError> {
        self.encode_into(&msg, dst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(msgs: &[&[u8]]) -> BytesMut {
        let c = TpktCodec::default();
        let mut b = BytesMut::new();
        for m in msgs {
            c.encode_into(m, &mut b).unwrap();
        }
        b
    }

    #[test]
    fn header_layout() {
        let b = framed(&[b"MEGACO/3 [1.2.3.4]"]);
        assert_eq!(&b[..4], &[3, 0, 0, 22]);
        assert_eq!(&b[4..], b"MEGACO/3 [1.2.3.4]");
    }

    #[test]
    fn decodes_byte_by_byte_and_merged() {
        let all = framed(&[b"one", b"second message", &[b'x'; 1000]]);
        let mut c = TpktCodec::default();
        let mut got = Vec::new();
        let mut buf = BytesMut::new();
        for &byte in all.iter() {
            buf.put_u8(byte);
            while let Some(m) = c.decode(&mut buf).unwrap() {
                got.push(m);
            }
        }
        assert_eq!(got.len(), 3);
        assert_eq!(&got[1][..], b"second message");
        assert_eq!(got[2].len(), 1000);
        let mut buf = all.clone();
        let mut n = 0;
        while c.decode(&mut buf).unwrap().is_some() {
            n += 1;
        }
        assert_eq!((n, buf.len()), (3, 0));
    }

    #[test]
    fn refuses_bad_headers() {
        let mut c = TpktCodec::default();
        let e = |bytes: &[u8]| {
            let mut b = BytesMut::from(bytes);
            match TpktCodec::default().decode(&mut b) {
                Err(TransportError::Tpkt(t)) => t,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(e(b"MEGACO/3"), TpktError::Version(b'M'));
        assert_eq!(e(&[3, 1, 0, 9]), TpktError::Reserved(1));
        assert_eq!(e(&[3, 0, 0, 4]), TpktError::Length(4));
        assert_eq!(e(&[3, 0, 0, 2]), TpktError::Length(2));
        let mut small = TpktCodec::with_max_payload(100);
        let mut b = BytesMut::from(&[3u8, 0, 0, 105][..]);
        assert!(matches!(
            small.decode(&mut b),
            Err(TransportError::Tpkt(TpktError::TooLarge {
                len: 101,
                max: 100
            }))
        ));
        let mut b = BytesMut::from(&[3u8, 0, 0, 10, b'a'][..]);
        assert!(c.decode(&mut b).unwrap().is_none());
        assert!(matches!(
            c.decode_eof(&mut b),
            Err(TransportError::Tpkt(TpktError::Truncated(5)))
        ));
    }

    #[test]
    fn refuses_oversize_and_empty_on_encode() {
        let c = TpktCodec::default();
        let mut b = BytesMut::new();
        assert!(c.encode_into(&vec![b'a'; TPKT_MAX_PAYLOAD], &mut b).is_ok());
        assert_eq!(&b[..4], &[3, 0, 0xff, 0xff]);
        assert!(matches!(
            c.encode_into(&vec![b'a'; TPKT_MAX_PAYLOAD + 1], &mut b),
            Err(TransportError::TooLarge { .. })
        ));
        assert!(matches!(
            c.encode_into(b"", &mut b),
            Err(TransportError::Empty)
        ));
    }
}
