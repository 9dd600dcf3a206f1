#!/usr/bin/env bash
# Run the SCTP tests (iq-link/tests/sctp*.rs) against real kernel SCTP, in the VM.
#
#   tools/sctp-vm/test.sh
#
# Builds the test binaries on the host (`cargo test -p iq-link --features vm-tests --no-run`), boots the VM (see
# prepare.sh, run.sh) and runs them inside with REQUIRE_KERNEL_SCTP=1, so a missing SCTP fails
# rather than skips. Fails unless the VM printed a `test result: ok.` line with at least one
# passed test and no failure. Output is also kept in target/sctp-vm/test.log.
# SCTP_VM_TEST_ARGS: extra arguments for the test binaries (e.g. a test name filter).
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
    echo 'exit $rc'
} >"$inner"

log=$VMDIR/test.log
say "running ${#bins[@]} test binaries in the VM"
set +e
SCTP_VM_LOG=$log "$SCTP_VM_HERE/run.sh" "$inner" >/dev/null
rc=$?
set -e
grep -aE '^(== |test |test result:|running |\*\*\*|thread |  left|  right|failures:|---- )' "$log" || true

passed=$( (grep -aoE '^test result: ok\. [0-9]+ passed' "$log" || true) | awk '{ s += $4 } END { print s + 0 }')
failed=0
grep -aqE '^test result: FAILED' "$log" && failed=1
grep -aq 'SKIPPED' "$log" && { say "a test skipped although REQUIRE_KERNEL_SCTP=1"; failed=1; }
say "VM step: exit $rc, $passed tests passed; build $(awk -v a="$t0" -v b="$t_built" 'BEGIN{printf "%.1f", b-a}') s, total $(since "$t0") s"
if [ "$rc" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -lt 1 ]; then
    [ "$passed" -lt 1 ] && say "FAILED: the VM ran no SCTP test (no 'test result: ok. N passed' with N >= 1)"
    say "FAILED (full log: $log)"
    exit 1
fi
say "OK: kernel SCTP tests passed in the VM"
