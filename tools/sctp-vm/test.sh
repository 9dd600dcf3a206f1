#!/usr/bin/env bash
# Run the SCTP tests against real kernel SCTP, in the VM: iq-link/tests/sctp*.rs,
# alg/tests/sctp_daemons.rs (a real iq-agw process registering with a real iq-alg over SCTP), and
# `iq-interop lab --transport sctp --ue builtin`: both TS 23.334 6.2.10.5 figures end to end (ICE,
# DTLS-SRTP, SRTP<->RTP, release) with Iq over SCTP.
#
#   tools/sctp-vm/test.sh
#
# Builds on the host (`cargo test -p iq-link --features vm-tests --no-run`,
# `cargo build -p iq-alg -p iq-agw`, `cargo test -p iq-alg --features vm-tests --no-run`), boots the
# VM (see prepare.sh, run.sh) and runs the test binaries inside with REQUIRE_KERNEL_SCTP=1, so a
# missing SCTP fails rather than skips; the daemon test gets the daemons' paths in IQ_ALG_BIN and
# IQ_AGW_BIN. Fails unless every binary exited 0, no `test result: FAILED` or SKIPPED came out, at
# least one test passed in all, the daemon test binary passed at least one test, and the lab said
# PASS for both figures with Iq over SCTP, and the lab's capture (`--pcap`) replayed
# (`iq-interop replay --as mgc --transport sctp`) against a fresh iq-agw over SCTP matched every
# recorded ALG request (at least 6) with no mismatch.
# Output is also kept in target/sctp-vm/test.log.
# SCTP_VM_TEST_ARGS: extra arguments for the iq-link test binaries (e.g. a test name filter);
# SCTP_VM_DAEMON_TEST_ARGS: the same for the daemon test binary; SCTP_VM_LAB_ARGS: extra
# arguments for the lab (default `--seconds 2`: under TCG the DTLS handshake eats into 1 s).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
t0=$(now)
"$SCTP_VM_HERE/prepare.sh"

say "building the test binaries (cargo test -p iq-link --features vm-tests --no-run)"
build_log=$VMDIR/build.log
cargo test -p iq-link --features vm-tests --no-run >"$build_log" 2>&1 || { cat "$build_log" >&2; die "cargo test --no-run failed"; }
mapfile -t bins < <(sed -nE 's#^ *Executable tests/sctp[a-z_0-9]*\.rs \((.*)\)$#\1#p' "$build_log")
[ ${#bins[@]} -gt 0 ] || die "no iq-link/tests/sctp*.rs test binary in the cargo output"

say "building the daemons and the lab (cargo build -p iq-alg -p iq-agw -p iq-interop) and the daemons' SCTP test (cargo test -p iq-alg --features vm-tests --no-run)"
daemon_log=$VMDIR/build-daemons.log
cargo build -p iq-alg -p iq-agw -p iq-interop --message-format=json-render-diagnostics >"$daemon_log.json" 2>"$daemon_log" ||
    { cat "$daemon_log" >&2; die "cargo build -p iq-alg -p iq-agw -p iq-interop failed"; }
alg_bin=$(sed -nE 's#.*"executable":"([^"]*/iq-alg)".*#\1#p' "$daemon_log.json" | tail -1)
agw_bin=$(sed -nE 's#.*"executable":"([^"]*/iq-agw)".*#\1#p' "$daemon_log.json" | tail -1)
lab_bin=$(sed -nE 's#.*"executable":"([^"]*/iq-interop)".*#\1#p' "$daemon_log.json" | tail -1)
[ -x "$alg_bin" ] && [ -x "$agw_bin" ] || die "no iq-alg / iq-agw executable in the cargo output"
[ -x "$lab_bin" ] || die "no iq-interop executable in the cargo output"
[ "$(dirname "$alg_bin")" = "$(dirname "$agw_bin")" ] || die "iq-alg and iq-agw in different directories"
cargo test -p iq-alg --features vm-tests --no-run >>"$daemon_log" 2>&1 || { cat "$daemon_log" >&2; die "cargo test -p iq-alg --no-run failed"; }
daemon_test=$(sed -nE 's#^ *Executable tests/sctp_daemons\.rs \((.*)\)$#\1#p' "$daemon_log" | tail -1)
[ -n "$daemon_test" ] || die "no alg/tests/sctp_daemons.rs test binary in the cargo output"
t_built=$(now)

inner=$VMDIR/test-in-vm.sh
{
    echo 'rc=0'
    for b in "${bins[@]}"; do
        printf 'echo "== %s"\n' "$b"
        # one thread: the descriptor-leak test counts /proc/self/fd
        printf 'REQUIRE_KERNEL_SCTP=1 RUST_BACKTRACE=1 %q --test-threads=1 %s || rc=1\n' \
            "$(realpath "$b")" "${SCTP_VM_TEST_ARGS:-}"
    done
    printf 'echo "== %s"\n' "$(realpath "$daemon_test")"
    printf 'REQUIRE_KERNEL_SCTP=1 RUST_BACKTRACE=1 IQ_ALG_BIN=%q IQ_AGW_BIN=%q %q --test-threads=1 %s || rc=1\n' \
        "$(realpath "$alg_bin")" "$(realpath "$agw_bin")" "$(realpath "$daemon_test")" "${SCTP_VM_DAEMON_TEST_ARGS:-}"
    # the lab: real iq-alg and iq-agw processes, our own UE (no Python in the VM), Iq over SCTP
    echo 'echo "== iq-interop lab"'
    echo 'lab_t0=$(cut -d" " -f1 /proc/uptime)'
    printf 'RUST_BACKTRACE=1 %q lab --transport sctp --ue builtin --pcap /tmp/iq-lab-sctp.pcap --bin-dir %q %s || rc=1\n' \
        "$(realpath "$lab_bin")" "$(dirname "$(realpath "$alg_bin")")" "${SCTP_VM_LAB_ARGS:---seconds 2}"
    echo 'echo "iq-lab-time: $(awk -v a="$lab_t0" -v b="$(cut -d" " -f1 /proc/uptime)" "BEGIN { printf \"%.1f\", b - a }") s in the VM"'
    # replay of the lab's own capture (Iq over SCTP) against a fresh iq-agw over SCTP: the
    # recorded ALG's requests, the AGW's IDs, ports and fingerprints learnt; zero mismatches
    echo 'echo "== iq-interop replay"'
    cat <<'EOS'
cat >/tmp/iq-replay-agw.toml <<'EOT'
[iq]
transport = "sctp"
controller = "127.0.0.1:29446"
controller_mid = "<alg.lab.example.net>"
encoding = "text"
mid = "<agw.lab.example.net>"

[reconnect]
initial_ms = 200
max_ms = 1000

[[media.realm]]
name = "access"
address = "127.0.0.1"
ports = "46000-46039"

[[media.realm]]
name = "core"
address = "127.0.0.1"
ports = "46100-46139"
EOT
EOS
    printf '%q replay --as mgc --transport sctp --listen 127.0.0.1:29446 --target 127.0.0.1:0 --fast --quiet --timeout 20 /tmp/iq-lab-sctp.pcap >/tmp/iq-replay.out 2>&1 &\n' "$(realpath "$lab_bin")"
    echo 'replay_pid=$!'
    printf '%q --config /tmp/iq-replay-agw.toml >/tmp/iq-replay-agw.log 2>&1 &\n' "$(realpath "$agw_bin")"
    echo 'agw_pid=$!'
    echo 'wait $replay_pid; replay_rc=$?'
    echo 'kill $agw_pid 2>/dev/null; wait $agw_pid 2>/dev/null'
    echo 'sed "s/^/replay: /" /tmp/iq-replay.out'
    echo 'echo "iq-replay-exit: $replay_rc"'
    echo '[ "$replay_rc" -eq 0 ] || { echo "replay: the AGW log:"; tail -20 /tmp/iq-replay-agw.log; rc=1; }'
    echo 'exit $rc'
} >"$inner"

log=$VMDIR/test.log
say "running $((${#bins[@]} + 1)) test binaries and the lab in the VM"
set +e
SCTP_VM_LOG=$log "$SCTP_VM_HERE/run.sh" "$inner" >/dev/null
rc=$?
set -e
grep -aE '^(== |iq-bench: |iq-sctp-recovery: |iq-lab-time: |iq-replay-exit: |replay: |test |test result:|running |\*\*\*|thread |  left|  right|failures:|---- |figure |lab: |iq-interop lab: |  ALG |  \[FAIL\])' "$log" || true

passed=$( (grep -aoE '^test result: ok\. [0-9]+ passed' "$log" || true) | awk '{ s += $4 } END { print s + 0 }')
# passes of the daemon test binary alone: the lines after its "== " header
daemon_passed=$(awk -v h="== $(realpath "$daemon_test")" '
    /^== / { in_d = ($0 == h) }
    in_d && /^test result: ok\. [0-9]+ passed/ { s += $4 }
    END { print s + 0 }' "$log")
# the lab's verdicts: its lines after the "== iq-interop lab" header
lab_out=$(awk '/^== \// { in_l = 0 } $0 == "== iq-interop lab" { in_l = 1 } in_l' "$log")
lab_ok=1
grep -qE '^  ALG .*\(Iq SCTP ' <<<"$lab_out" || { say "FAILED: the lab did not run Iq over SCTP"; lab_ok=0; }
for f in '6.2.10.5.1 (UE offers)' '6.2.10.5.2 (core offers)'; do
    grep -qF "figure $f: PASS" <<<"$lab_out" || { say "FAILED: the lab's figure $f did not PASS over SCTP"; lab_ok=0; }
done
# the replay of the lab's capture: exit 0, every recorded ALG request matched (at least the six
# of the two figures: Add, Add, Modify per figure and the Subtracts), no mismatch, no failure
replay_ok=1
replay_out=$(awk '/^== / { in_r = 0 } $0 == "== iq-interop replay" { in_r = 1 } in_r' "$log")
grep -qxF 'iq-replay-exit: 0' <<<"$replay_out" || { say "FAILED: replay of the lab's SCTP capture did not exit 0"; replay_ok=0; }
grep -qE '^replay: (MISMATCH|FAILED)' <<<"$replay_out" && { say "FAILED: replay of the lab's SCTP capture reported a difference"; replay_ok=0; }
replay_n=$(sed -nE 's/^replay: ([0-9]+) transaction\(s\): \1 matched, 0 did not; 0 trace error\(s\)$/\1/p' <<<"$replay_out")
{ [ -n "$replay_n" ] && [ "$replay_n" -ge 6 ]; } || { say "FAILED: replay of the lab's SCTP capture did not match at least 6 transactions with none failing"; replay_ok=0; }
[ "$(grep -c '^replay: MATCH ' <<<"$replay_out")" = "${replay_n:-x}" ] || { say "FAILED: replay: MATCH lines and the summary disagree"; replay_ok=0; }
failed=0
grep -aqE '^test result: FAILED' "$log" && failed=1
grep -aq 'SKIPPED' "$log" && { say "a test skipped although REQUIRE_KERNEL_SCTP=1"; failed=1; }
say "VM step: exit $rc, $passed tests passed ($daemon_passed of them iq-alg/iq-agw over SCTP), lab over SCTP $([ $lab_ok = 1 ] && echo PASS || echo FAIL), replay of its capture $([ $replay_ok = 1 ] && echo "${replay_n} matched" || echo FAIL); build $(awk -v a="$t0" -v b="$t_built" 'BEGIN{printf "%.1f", b-a}') s, total $(since "$t0") s"
if [ "$rc" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -lt 1 ] || [ "$daemon_passed" -lt 1 ] || [ "$lab_ok" -ne 1 ] || [ "$replay_ok" -ne 1 ]; then
    [ "$passed" -lt 1 ] && say "FAILED: the VM ran no SCTP test (no 'test result: ok. N passed' with N >= 1)"
    [ "$daemon_passed" -lt 1 ] && say "FAILED: the VM ran no iq-alg/iq-agw SCTP test (alg/tests/sctp_daemons.rs)"
    say "FAILED (full log: $log)"
    exit 1
fi
say "OK: kernel SCTP tests passed in the VM, including iq-agw registering with iq-alg over SCTP and both lab figures over SCTP, and the lab's capture replayed against iq-agw over SCTP with zero mismatches"
