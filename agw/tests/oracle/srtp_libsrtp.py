"""libsrtp (via pylibsrtp) as the SRTP oracle for agw/tests/srtp_libsrtp.rs.

Reads lines from stdin:
    session <profile-number> <direction: in|out> <hex master key||master salt>
    protect|protect_rtcp|unprotect|unprotect_rtcp <hex packet>
and answers each operation with one line: "ok <hex>" or "err <message>".
A "session" line replaces the current libsrtp session (answered with "ok").
"""

import sys

import pylibsrtp


def main() -> None:
    session = None
    out = sys.stdout
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        op = parts[0]
        try:
            if op == "session":
                profile, direction, key = int(parts[1]), parts[2], bytes.fromhex(parts[3])
                ssrc_type = (
                    pylibsrtp.Policy.SSRC_ANY_INBOUND
                    if direction == "in"
                    else pylibsrtp.Policy.SSRC_ANY_OUTBOUND
                )
                policy = pylibsrtp.Policy(key=key, ssrc_type=ssrc_type, srtp_profile=profile)
                policy.window_size = 128
                session = pylibsrtp.Session(policy=policy)
                out.write("ok\n")
            else:
                data = bytes.fromhex(parts[1]) if len(parts) > 1 else b""
                fn = getattr(session, op)
                out.write("ok " + fn(data).hex() + "\n")
        except Exception as e:  # the error is the answer
            out.write("err " + str(e).replace("\n", " ") + "\n")
        out.flush()


if __name__ == "__main__":
    main()
