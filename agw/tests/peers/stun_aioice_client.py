"""STUN oracle: aioice (a third-party ICE implementation) sends Binding requests to the
responder under test and checks its answers with aioice's own parser, MESSAGE-INTEGRITY
and FINGERPRINT checks.

usage: stun_aioice_client.py HOST PORT LOCAL_UFRAG LOCAL_PWD PEER_UFRAG
LOCAL_* are the responder's credentials (the AGW's), PEER_UFRAG the client's.
Prints one line per case and exits 0 when every case behaved as expected.
"""

import ipaddress
import socket
import sys

from aioice import stun

host, port, ufrag, pwd, peer_ufrag = sys.argv[1], int(sys.argv[2]), *sys.argv[3:6]

sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
sock.bind((host, 0))
sock.settimeout(1.0)
my_addr = sock.getsockname()[:2]


def request(username, key, use_candidate=True, fingerprint=True, controlling=True):
    msg = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
    msg.attributes["USERNAME"] = username
    msg.attributes["PRIORITY"] = 1853824767
    if controlling:
        msg.attributes["ICE-CONTROLLING"] = 0x1122334455667788
    else:
        msg.attributes["ICE-CONTROLLED"] = 0x1122334455667788
    if use_candidate:
        msg.attributes["USE-CANDIDATE"] = None
    msg.add_message_integrity(key)  # adds FINGERPRINT too
    if not fingerprint:
        msg.attributes.pop("FINGERPRINT")
    return msg


def exchange(msg):
    sock.sendto(bytes(msg), (host, port))
    try:
        data, _ = sock.recvfrom(2048)
        return data
    except socket.timeout:
        return None


failures = []


def expect_answer(name, msg):
    data = exchange(msg)
    if data is None:
        failures.append(f"{name}: no answer")
        return
    try:
        resp = stun.parse_message(data)  # verifies FINGERPRINT when present
    except ValueError as e:
        failures.append(f"{name}: aioice refused the response: {e}")
        return
    problems = []
    if resp.message_method != stun.Method.BINDING or resp.message_class != stun.Class.RESPONSE:
        problems.append(f"type {resp.message_method!r}/{resp.message_class!r}")
    if resp.transaction_id != msg.transaction_id:
        problems.append("transaction id differs")
    if "FINGERPRINT" not in resp.attributes:
        problems.append("no FINGERPRINT")
    if not resp.check_message_integrity(pwd.encode()):
        problems.append("MESSAGE-INTEGRITY does not verify with the AGW's ice-pwd")
    xma = resp.attributes.get("XOR-MAPPED-ADDRESS")
    if xma is None or (ipaddress.ip_address(xma[0]), xma[1]) != (ipaddress.ip_address(my_addr[0]), my_addr[1]):
        problems.append(f"XOR-MAPPED-ADDRESS {xma} != {my_addr}")
    if problems:
        failures.append(f"{name}: " + "; ".join(problems))
    print(f"{name}: answered {xma}", flush=True)


def expect_silence(name, msg):
    data = exchange(msg)
    if data is not None:
        failures.append(f"{name}: answered ({len(data)} octets) but must not be")
    print(f"{name}: not answered", flush=True)


good_user = f"{ufrag}:{peer_ufrag}"
expect_answer("nominating", request(good_user, pwd.encode()))
expect_answer("plain-check", request(good_user, pwd.encode(), use_candidate=False, controlling=False))
expect_silence("wrong-password", request(good_user, (pwd + "x").encode()))
expect_silence("wrong-username", request(f"x{ufrag}:{peer_ufrag}", pwd.encode()))
expect_silence("wrong-peer-ufrag", request(f"{ufrag}:other", pwd.encode()))
expect_silence("no-fingerprint", request(good_user, pwd.encode(), fingerprint=False))
expect_answer("after-rejections", request(good_user, pwd.encode()))

for f in failures:
    print("FAIL " + f, flush=True)
sys.exit(1 if failures else 0)
