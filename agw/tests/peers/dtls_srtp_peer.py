#!/usr/bin/env python3
"""Third-party DTLS-SRTP peer for agw/tests/dtls_openssl.rs: OpenSSL (pyOpenSSL, DTLS 1.2,
use_srtp, RFC 5705 exporter) for the handshake, libsrtp (pylibsrtp) for SRTP/SRTCP.

Protocol with the test (stdout, one item per line):
  port <n>                      our UDP port on 127.0.0.1 (first line)
  version <name>                the DTLS version (DTLSv1.2)
  profile <name>                the negotiated use_srtp profile (OpenSSL name)
  peer_fp sha-256 AB:..         sha-256 of the certificate the AGW presented
  keying <hex>                  the exported EXTRACTOR-dtls_srtp material
  recv <hex>                    each packet from the AGW, after libsrtp unprotect
  error <text>                  what failed (exit status 1)
  done

After the handshake we send `--count` SRTP packets and one SRTCP sender report built as
`packets()` below, then unprotect what the AGW sends until `--expect` packets arrived.
"""

import argparse
import hashlib
import socket
import struct
import sys
import time

from OpenSSL import SSL
import pylibsrtp

PROFILES = {
    "SRTP_AES128_CM_SHA1_80": (pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80, 16, 14),
    "SRTP_AES128_CM_SHA1_32": (pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_32, 16, 14),
    "SRTP_AEAD_AES_128_GCM": (pylibsrtp.Policy.SRTP_PROFILE_AEAD_AES_128_GCM, 16, 12),
    "SRTP_AEAD_AES_256_GCM": (pylibsrtp.Policy.SRTP_PROFILE_AEAD_AES_256_GCM, 32, 12),
}


def out(*parts):
    print(*parts, flush=True)


def packets(count, ssrc):
    """The plain packets we protect: RTP PT 0, seq 100.., payload 'py-rtp-<i>' * 8; then an
    RTCP SR (PT 200) with 20 octets of 0x22."""
    pkts = []
    for i in range(count):
        payload = (b"py-rtp-%d" % i) * 8
        pkts.append(struct.pack("!BBHII", 0x80, 0, 100 + i, 160 * i, ssrc) + payload)
    pkts.append(struct.pack("!BBHI", 0x80, 200, 6, ssrc) + b"\x22" * 20)
    return pkts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--role", choices=["client", "server"], required=True)
    ap.add_argument("--peer", required=True, help="AGW host:port")
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--profile", default="SRTP_AES128_CM_SHA1_80")
    ap.add_argument("--count", type=int, default=5)
    ap.add_argument("--expect", type=int, default=6)
    ap.add_argument("--timeout", type=float, default=15.0)
    args = ap.parse_args()
    host, port = args.peer.rsplit(":", 1)
    peer = (host, int(port))

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    out("port", sock.getsockname()[1])

    ctx = SSL.Context(SSL.DTLS_METHOD)
    ctx.use_certificate_file(args.cert)
    ctx.use_privatekey_file(args.key)
    ctx.set_tlsext_use_srtp(args.profile.encode())
    # Self-signed on both sides: accept the chain here, the fingerprint is checked by the test.
    ctx.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT, lambda *a: True)
    conn = SSL.Connection(ctx, None)
    if args.role == "client":
        conn.set_connect_state()
    else:
        conn.set_accept_state()

    deadline = time.monotonic() + args.timeout

    def flush():
        while True:
            try:
                data = conn.bio_read(65536)
            except SSL.WantReadError:
                return
            if not data:
                return
            sock.sendto(data, peer)

    done = False
    while not done:
        if time.monotonic() > deadline:
            out("error", "handshake timeout")
            return 1
        try:
            conn.do_handshake()
            done = True
        except SSL.WantReadError:
            pass
        flush()
        if done:
            break
        t = conn.DTLSv1_get_timeout()
        sock.settimeout(max(0.01, min(t if t is not None else 0.2, 0.2)))
        try:
            data, src = sock.recvfrom(65536)
        except socket.timeout:
            conn.DTLSv1_handle_timeout()
            flush()
            continue
        if src != peer:
            continue
        conn.bio_write(data)

    out("version", conn.get_protocol_version_name())
    profile = conn.get_selected_srtp_profile().decode()
    out("profile", profile)
    der = conn.get_peer_certificate().to_cryptography().public_bytes(
        __import__("cryptography.hazmat.primitives.serialization",
                   fromlist=["Encoding"]).Encoding.DER)
    digest = hashlib.sha256(der).hexdigest().upper()
    out("peer_fp", "sha-256 " + ":".join(digest[i:i + 2] for i in range(0, len(digest), 2)))
    lib_profile, klen, slen = PROFILES[profile]
    km = conn.export_keying_material(b"EXTRACTOR-dtls_srtp", 2 * (klen + slen))
    out("keying", km.hex())
    ck, sk = km[:klen], km[klen:2 * klen]
    cs, ss = km[2 * klen:2 * klen + slen], km[2 * klen + slen:]
    if args.role == "client":
        tx_key, rx_key = ck + cs, sk + ss
    else:
        tx_key, rx_key = sk + ss, ck + cs
    tx = pylibsrtp.Session(policy=pylibsrtp.Policy(
        key=tx_key, ssrc_type=pylibsrtp.Policy.SSRC_ANY_OUTBOUND, srtp_profile=lib_profile))
    rx = pylibsrtp.Session(policy=pylibsrtp.Policy(
        key=rx_key, ssrc_type=pylibsrtp.Policy.SSRC_ANY_INBOUND, srtp_profile=lib_profile))

    for p in packets(args.count, 0x5EED0001):
        if p[1] == 200:
            sock.sendto(tx.protect_rtcp(p), peer)
        else:
            sock.sendto(tx.protect(p), peer)

    got = 0
    while got < args.expect:
        if time.monotonic() > deadline:
            out("error", "timeout waiting for SRTP from the AGW (%d/%d)" % (got, args.expect))
            return 1
        sock.settimeout(0.1)
        try:
            data, src = sock.recvfrom(65536)
        except socket.timeout:
            continue
        if src != peer or not data:
            continue
        if 20 <= data[0] <= 63:
            # A retransmitted final flight: let OpenSSL answer it.
            conn.bio_write(data)
            try:
                conn.recv(65536)
            except SSL.Error:
                pass
            flush()
            continue
        try:
            if 192 <= data[1] <= 223:
                plain = rx.unprotect_rtcp(data)
            else:
                plain = rx.unprotect(data)
        except pylibsrtp.Error as e:
            out("error", "libsrtp unprotect failed: %s" % e)
            return 1
        out("recv", plain.hex())
        got += 1
    out("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
