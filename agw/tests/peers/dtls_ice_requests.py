#!/usr/bin/env python3
"""STUN Binding requests made by aioice (a third-party ICE stack) for
agw/tests/leg_ice_consent.rs. Usage: dtls_ice_requests.py <local_ufrag> <local_pwd>
<remote_ufrag>. Prints one `<name> <hex>` line per request:
  plain      valid check (ICE-CONTROLLING, PRIORITY), no USE-CANDIDATE
  nominate   valid check with USE-CANDIDATE
  plain2     another valid check (new transaction), no USE-CANDIDATE
  badpwd     MESSAGE-INTEGRITY keyed with a wrong password
"""
import os
import sys

from aioice import stun


def request(username, pwd, use_candidate):
    msg = stun.Message(message_method=stun.Method.BINDING,
                       message_class=stun.Class.REQUEST,
                       transaction_id=os.urandom(12))
    msg.attributes["USERNAME"] = username
    msg.attributes["PRIORITY"] = 1853817087
    msg.attributes["ICE-CONTROLLING"] = 0x1122334455667788
    if use_candidate:
        msg.attributes["USE-CANDIDATE"] = None
    msg.add_message_integrity(pwd.encode())
    msg.add_fingerprint()
    return bytes(msg)


def main():
    local_ufrag, local_pwd, remote_ufrag = sys.argv[1:4]
    user = "%s:%s" % (local_ufrag, remote_ufrag)
    print("plain", request(user, local_pwd, False).hex())
    print("nominate", request(user, local_pwd, True).hex())
    print("plain2", request(user, local_pwd, False).hex())
    print("badpwd", request(user, local_pwd + "x", False).hex())


if __name__ == "__main__":
    main()
