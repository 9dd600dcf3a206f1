#!/usr/bin/env python3
"""A WebRTC UE (WIC) for the lab and the media tests: aiortc doing real ICE, DTLS and SRTP.

Controlled by JSON lines on stdin, answering with JSON lines on stdout (logs go to stderr):

  {"cmd": "offer"}                      -> {"sdp": "<our offer>"}
  {"cmd": "answer", "sdp": "<answer>"}  -> {"ok": true}            (apply the far end's answer)
  {"cmd": "accept", "sdp": "<offer>"}   -> {"sdp": "<our answer>"} (answer the far end's offer)
  {"cmd": "run", "seconds": 3}          -> {"report": {...}}        (send audio, then report)
  {"cmd": "close"}                      -> {"ok": true}

The report lists what crossed the DTLS transport in plain form on both sides of SRTP, so the test
can compare payloads with what the core peer saw:
  dtls_state, dtls_role ("client"/"server"), ice_state,
  sent_rtp / recv_rtp: [[ssrc, seq, payload_type, payload_hex], ...],
  sent_rtcp / recv_rtcp: counts of RTCP compound packets.

One host candidate only: aiortc normally gathers every interface's address and asks public STUN
servers; here iceServers=[] and the host candidate is $IQ_UE_ADDRESS (default 127.0.0.1; the lab's
namespace deployment puts the UE in an access network of its own).
"""
import asyncio
import json
import logging
import os
import sys

import aioice.ice
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtp import RtpPacket, is_rtcp

aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: [os.environ.get("IQ_UE_ADDRESS", "127.0.0.1")]

REPORT = {"sent_rtp": [], "recv_rtp": [], "sent_rtcp": 0, "recv_rtcp": 0}

_orig_send = RTCDtlsTransport._send_rtp
_orig_rtp = RTCDtlsTransport._handle_rtp_data
_orig_rtcp = RTCDtlsTransport._handle_rtcp_data


def _record(kind, data):
    p = RtpPacket.parse(data)
    REPORT[kind].append([p.ssrc, p.sequence_number, p.payload_type, p.payload.hex()])


async def _send_rtp(self, data):
    if is_rtcp(data):
        REPORT["sent_rtcp"] += 1
    else:
        _record("sent_rtp", data)
    return await _orig_send(self, data)


async def _handle_rtp(self, data, arrival_time_ms):
    try:
        _record("recv_rtp", data)
    except ValueError:
        pass
    return await _orig_rtp(self, data, arrival_time_ms)


async def _handle_rtcp(self, data):
    REPORT["recv_rtcp"] += 1
    return await _orig_rtcp(self, data)


RTCDtlsTransport._send_rtp = _send_rtp
RTCDtlsTransport._handle_rtp_data = _handle_rtp
RTCDtlsTransport._handle_rtcp_data = _handle_rtcp


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def main():
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTrack(AudioStreamTrack())
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            break
        try:
            msg = json.loads(line)
            cmd = msg["cmd"]
            if cmd == "offer":
                await pc.setLocalDescription(await pc.createOffer())
                emit({"sdp": pc.localDescription.sdp})
            elif cmd == "answer":
                await pc.setRemoteDescription(RTCSessionDescription(msg["sdp"], "answer"))
                emit({"ok": True})
            elif cmd == "accept":
                await pc.setRemoteDescription(RTCSessionDescription(msg["sdp"], "offer"))
                await pc.setLocalDescription(await pc.createAnswer())
                emit({"sdp": pc.localDescription.sdp})
            elif cmd == "run":
                await asyncio.sleep(float(msg.get("seconds", 3)))
                t = pc.getTransceivers()[0]
                dtls = t.sender.transport
                REPORT["dtls_state"] = dtls.state
                REPORT["dtls_role"] = dtls._role
                REPORT["ice_state"] = pc.iceConnectionState
                emit({"report": REPORT})
            elif cmd == "close":
                await pc.close()
                emit({"ok": True})
                break
            else:
                emit({"error": f"unknown command {cmd!r}"})
        except Exception as exc:  # report, keep serving
            emit({"error": f"{type(exc).__name__}: {exc}"})


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    asyncio.run(main())
