#!/usr/bin/env python3
"""A minimal DTLS-SRTP UE built on OpenSSL (pyOpenSSL) and libsrtp (pylibsrtp), no ICE.

The third-party DTLS/SRTP peer of the media tests: its handshake is OpenSSL's, its SRTP is
libsrtp's. JSON lines on stdin/stdout:

  start-up                              -> {"fingerprint": "sha-256 AB:..", "port": N}
  {"cmd": "run", "remote": "127.0.0.1:P", "role": "client"|"server",
   "peer_fingerprint": "sha-256 ..", "seconds": 2, "packets": 50,
   "tamper": 0, "replay": 0}
                                        -> {"report": {...}}

The report: handshake ("ok" or the error), profile, peer_fingerprint_ok, sent_rtp/recv_rtp
([[ssrc, seq, pt, payload_hex]...]), sent_rtcp/recv_rtcp counts, unprotect_failures.
After the `packets` good ones it sends `tamper` SRTP packets with a flipped auth-tag byte and then
`replay` copies of packets already sent (the AGW must drop and count both; the core peer must see
only the good ones). The UE verifies the AGW's certificate against peer_fingerprint itself (as a browser does).
"""
import hashlib
import json
import os
import select
import socket
import struct
import sys
import time

import pylibsrtp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from OpenSSL import SSL, crypto

PROFILES = {
    b"SRTP_AES128_CM_SHA1_80": (pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80, 16, 14),
    b"SRTP_AEAD_AES_128_GCM": (pylibsrtp.Policy.SRTP_PROFILE_AEAD_AES_128_GCM, 16, 12),
}


def make_cert():
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dtls-ue")])
    now = __import__("datetime").datetime.now(__import__("datetime").timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - __import__("datetime").timedelta(days=1))
        .not_valid_after(now + __import__("datetime").timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return cert, key


def fp_text(der, name="sha-256"):
    h = {"sha-1": hashlib.sha1, "sha-256": hashlib.sha256, "sha-384": hashlib.sha384,
         "sha-512": hashlib.sha512}[name](der).hexdigest().upper()
    return name + " " + ":".join(h[i:i + 2] for i in range(0, len(h), 2))


def emit(o):
    sys.stdout.write(json.dumps(o) + "\n")
    sys.stdout.flush()


def is_rtcp(b):
    return len(b) >= 2 and 192 <= b[1] <= 223


def rtp(ssrc, seq, ts, payload, pt=0):
    return struct.pack("!BBHII", 0x80, pt, seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc) + payload


def rtcp_sr(ssrc, count):
    # SR with no report blocks, then SDES CNAME (a valid compound packet)
    sr = struct.pack("!BBHIIIIII", 0x80, 200, 6, ssrc, 0, 0, 0, count, count * 160)
    cname = b"dtls-ue"
    item = bytes([1, len(cname)]) + cname + b"\x00"
    while len(item) % 4:
        item += b"\x00"
    sdes = struct.pack("!BBHI", 0x81, 202, (4 + len(item)) // 4, ssrc) + item
    return sr + sdes


def parse_rtp(b):
    _, pt, seq, _, ssrc = struct.unpack("!BBHII", b[:12])
    cc = b[0] & 0x0F
    off = 12 + 4 * cc
    if b[0] & 0x10:
        ext_len = struct.unpack("!H", b[off + 2:off + 4])[0]
        off += 4 + 4 * ext_len
    end = len(b)
    if b[0] & 0x20:
        end -= b[-1]
    return [ssrc, seq, pt & 0x7F, b[off:end].hex()]


def run(sock, cert, key, msg):
    host, port = msg["remote"].rsplit(":", 1)
    remote = (host, int(port))
    report = {"sent_rtp": [], "recv_rtp": [], "sent_rtcp": 0, "recv_rtcp": 0,
              "unprotect_failures": 0, "handshake": "pending", "peer_fingerprint_ok": False}
    ctx = SSL.Context(SSL.DTLS_METHOD)
    ctx.use_certificate(crypto.X509.from_cryptography(cert))
    ctx.use_privatekey(crypto.PKey.from_cryptography_key(key))
    ctx.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT, lambda *a: True)
    ctx.set_tlsext_use_srtp(b"SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"
                            if msg.get("gcm") else b"SRTP_AES128_CM_SHA1_80")
    conn = SSL.Connection(ctx, None)
    client = msg["role"] == "client"
    conn.set_connect_state() if client else conn.set_accept_state()
    deadline = time.monotonic() + float(msg.get("handshake_seconds", 10))

    def flush():
        while True:
            try:
                data = conn.bio_read(4096)
            except SSL.WantReadError:
                return
            sock.sendto(data, remote)

    done = False
    while not done:
        try:
            conn.do_handshake()
            done = True
        except SSL.WantReadError:
            pass
        except SSL.Error as e:
            report["handshake"] = f"error: {e}"
            flush()
            return report
        flush()
        if done:
            break
        if time.monotonic() > deadline:
            report["handshake"] = "timeout"
            return report
        t = conn.DTLSv1_get_timeout()
        r, _, _ = select.select([sock], [], [], min(t if t is not None else 0.5, 0.5))
        if r:
            data, _ = sock.recvfrom(2048)
            if 20 <= data[0] <= 63:
                conn.bio_write(data)
        else:
            conn.DTLSv1_handle_timeout()
            flush()
    peer = conn.get_peer_certificate().to_cryptography().public_bytes(serialization.Encoding.DER)
    want = msg["peer_fingerprint"]
    got = fp_text(peer, want.split()[0].lower())
    report["peer_fingerprint_ok"] = got.upper() == want.upper()
    if not report["peer_fingerprint_ok"]:
        report["handshake"] = f"fingerprint mismatch: got {got}"
        return report
    name = conn.get_selected_srtp_profile()
    report["profile"] = name.decode()
    prof, klen, slen = PROFILES[name]
    mat = conn.export_keying_material(b"EXTRACTOR-dtls_srtp", 2 * (klen + slen))
    ck, sk = mat[:klen], mat[klen:2 * klen]
    cs, ss = mat[2 * klen:2 * klen + slen], mat[2 * klen + slen:]
    tx_key, rx_key = (ck + cs, sk + ss) if client else (sk + ss, ck + cs)
    tx = pylibsrtp.Session(pylibsrtp.Policy(key=tx_key, ssrc_type=pylibsrtp.Policy.SSRC_ANY_OUTBOUND, srtp_profile=prof))
    rx = pylibsrtp.Session(pylibsrtp.Policy(key=rx_key, ssrc_type=pylibsrtp.Policy.SSRC_ANY_INBOUND, srtp_profile=prof))
    report["handshake"] = "ok"
    ssrc = 0x11223344
    n = int(msg.get("packets", 50))
    seconds = float(msg.get("seconds", 2))
    end = time.monotonic() + seconds
    seq = 1000
    next_send = time.monotonic()
    protected = []
    extras_sent = False
    while time.monotonic() < end:
        now = time.monotonic()
        if seq - 1000 < n and now >= next_send:
            payload = os.urandom(160)
            pkt = tx.protect(rtp(ssrc, seq, seq * 160, payload))
            protected.append(pkt)
            sock.sendto(pkt, remote)
            report["sent_rtp"].append([ssrc, seq, 0, payload.hex()])
            if (seq - 1000) % 10 == 0:
                sock.sendto(tx.protect_rtcp(rtcp_sr(ssrc, seq - 1000)), remote)
                report["sent_rtcp"] += 1
            seq += 1
            next_send = now + 0.02
        if seq - 1000 >= n and not extras_sent:
            extras_sent = True
            for i in range(int(msg.get("tamper", 0))):
                bad = bytearray(tx.protect(rtp(ssrc, seq + i, 0, os.urandom(160))))
                bad[-1] ^= 0x01
                sock.sendto(bytes(bad), remote)
            for pkt in protected[: int(msg.get("replay", 0))]:
                sock.sendto(pkt, remote)
        r, _, _ = select.select([sock], [], [], 0.005)
        if not r:
            continue
        data, _ = sock.recvfrom(2048)
        if 20 <= data[0] <= 63:
            conn.bio_write(data)  # retransmitted final flight etc.
            try:
                conn.recv(2048)
            except SSL.Error:
                pass
            flush()
            continue
        if not (128 <= data[0] <= 191):
            continue
        try:
            if is_rtcp(data):
                rx.unprotect_rtcp(data)
                report["recv_rtcp"] += 1
            else:
                report["recv_rtp"].append(parse_rtp(rx.unprotect(data)))
        except pylibsrtp.Error:
            report["unprotect_failures"] += 1
    return report


def main():
    cert, key = make_cert()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((os.environ.get("IQ_UE_ADDRESS", "127.0.0.1"), 0))  # the lab's namespaces: not loopback
    der = cert.public_bytes(serialization.Encoding.DER)
    emit({"fingerprint": fp_text(der), "port": sock.getsockname()[1]})
    for line in sys.stdin:
        msg = json.loads(line)
        if msg.get("cmd") == "run":
            emit({"report": run(sock, cert, key, msg)})
        elif msg.get("cmd") == "close":
            break


if __name__ == "__main__":
    main()
