#!/usr/bin/env bash
# Wire check of our SCTP endpoint against an independent SCTP implementation.
#
#   tools/sctp-vm/wire-check.sh
#
# Kernel SCTP in the VM runs our endpoint (iq-link/examples/sctp_wire.rs); usrsctp (Debian
# libusrsctp, tools/sctp-vm/usctp/h248peer.c) runs on the host end of a tap link inside a network
# namespace made for this run (10.77.0.1 host, 10.77.0.2 VM; nothing leaves the namespace).
# First our MG opens an association to the peer's MGC, then the peer's MG opens one to our MGC;
# H.248 text messages flow both ways on several streams (one unordered, one larger than a frame).
# qemu captures the VM's NIC into target/sctp-vm/wire.pcap and tshark checks that:
#   - every packet is SCTP with a good CRC32c checksum (-o sctp.checksum:CRC-32C), both directions
#   - every DATA chunk has PPID 7, which Wireshark decodes as H.248
#   - Wireshark dissects all 12 messages as MEGACO, with no malformed packet or error
# Both ends also check each other (PPID, stream, transaction ID). Exits non-zero on any failure.
# Needs root (network namespace, tap device). Installs what it needs (prepare.sh --wire).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
[ "$(id -u)" -eq 0 ] || die "needs root (network namespace and tap device)"
t0=$(now)
"$SCTP_VM_HERE/prepare.sh" --wire

peer=$VMDIR/h248peer
src=$SCTP_VM_HERE/usctp/h248peer.c
if [ ! -x "$peer" ] || [ "$src" -nt "$peer" ]; then
    say "building the usrsctp peer"
    # shellcheck disable=SC2046
    gcc -O1 -Wall -o "$peer" "$src" $(pkg-config --cflags --libs usrsctp) -lpthread
fi

say "building the wire program (cargo build -p iq-link --example sctp_wire)"
cargo build -p iq-link --example sctp_wire >"$VMDIR/wire-build.log" 2>&1 ||
    { cat "$VMDIR/wire-build.log" >&2; die "cargo build --example sctp_wire failed"; }
bin=$(realpath target/debug/examples/sctp_wire)
[ -x "$bin" ] || die "no sctp_wire program"
t_built=$(now)

HOST_IP=10.77.0.1 VM_IP=10.77.0.2 PORT=2944
NS=iq-sctp-wire-$$
pcap=$VMDIR/wire.pcap vmlog=$VMDIR/wire-vm.log peerlog=$VMDIR/wire-peer.log
rm -f "$pcap" "$vmlog" "$peerlog"
PEER_PID=
cleanup() {
    [ -n "$PEER_PID" ] && kill "$PEER_PID" 2>/dev/null
    ip netns del "$NS" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" tuntap add dev tap0 mode tap
ip -n "$NS" addr add "$HOST_IP/24" dev tap0
ip -n "$NS" link set tap0 up

inner=$VMDIR/wire-in-vm.sh
cat >"$inner" <<EOS
REQUIRE_KERNEL_SCTP=1 IQ_WIRE_LOCAL=$VM_IP:$PORT IQ_WIRE_PEER=$HOST_IP:$PORT \\
  '$bin' && echo IQ_WIRE_PASS
EOS

ip netns exec "$NS" "$peer" "$HOST_IP" "$VM_IP" "$PORT" >"$peerlog" 2>&1 &
PEER_PID=$!
say "usrsctp peer on $HOST_IP:$PORT; booting the VM ($VM_IP)"
set +e
ip netns exec "$NS" env SCTP_VM_TAP=tap0 SCTP_VM_IP="$VM_IP/24" SCTP_VM_PCAP="$pcap" \
    SCTP_VM_LOG="$vmlog" SCTP_VM_TIMEOUT=150 "$SCTP_VM_HERE/run.sh" "$inner" >/dev/null
vm_rc=$?
for _ in $(seq 1 100); do kill -0 "$PEER_PID" 2>/dev/null || break; sleep 0.1; done
kill "$PEER_PID" 2>/dev/null
wait "$PEER_PID"
peer_rc=$?
PEER_PID=
set -e
t_ran=$(now)

grep -a 'iq-wire:' "$vmlog" | sed 's/^/  vm   | /' || true
sed 's/^/  peer | /' "$peerlog"

fails=0
check() { # check DESCRIPTION COMMAND...: run, print ok/FAIL
    local what=$1
    shift
    if "$@"; then
        echo "ok   $what"
    else
        echo "FAIL $what"
        fails=$((fails + 1))
    fi
}
ts() { tshark -n -r "$pcap" -o sctp.checksum:CRC-32C "$@" 2>/dev/null || true; }
count() { ts -Y "$1" | wc -l; }
ge() { [ "$1" -ge "$2" ]; }

echo "== wire check"
check "our endpoint's side passed in the VM (exit $vm_rc)" \
    grep -aqE '^IQ_WIRE_PASS' "$vmlog"
check "usrsctp peer as MGC accepted our MG's association and requests" grep -q 'H248PEER MGC PASS' "$peerlog"
check "usrsctp peer as MG got our MGC's replies (exit $peer_rc)" grep -q 'H248PEER MG PASS' "$peerlog"
[ -s "$pcap" ] || { echo "FAIL no capture at $pcap"; exit 1; }

n_sctp=$(count sctp)
n_vm=$(count "sctp && ip.src==$VM_IP")
n_peer=$(count "sctp && ip.src==$HOST_IP")
check "capture holds SCTP packets both ways ($n_vm from the VM, $n_peer from usrsctp)" \
    eval '[ "$n_vm" -gt 0 ] && [ "$n_peer" -gt 0 ]'
n_good=$(count "sctp.checksum.status == 1")
n_bad=$(count "sctp && !(sctp.checksum.status == 1)")
check "CRC32c checksum good on all $n_sctp SCTP packets ($n_good good, $n_bad not)" \
    eval '[ "$n_bad" -eq 0 ] && [ "$n_good" -eq "$n_sctp" ]'
ppids=$(ts -Y 'sctp.chunk_type == 0' -T fields -e sctp.data_payload_proto_id | tr ',' '\n' | sed '/^$/d')
n_data=$(printf '%s\n' "$ppids" | sed '/^$/d' | wc -l)
n_ppid7=$(printf '%s\n' "$ppids" | grep -cx 7 || true)
check "PPID 7 on all $n_data DATA chunks ($n_ppid7 with 7)" \
    eval '[ "$n_data" -ge 12 ] && [ "$n_ppid7" -eq "$n_data" ]'
n_decoded=$(ts -Y 'sctp.chunk_type == 0' -V | grep -c 'Payload protocol identifier: H.248/MEGACO (7)' || true)
check "Wireshark decodes the PPID as H.248 on $n_decoded chunks ('Payload protocol identifier: H.248/MEGACO (7)')" \
    eval '[ "$n_decoded" -eq "$n_data" ]'
m_vm=$(count "megaco && ip.src==$VM_IP")
m_peer=$(count "megaco && ip.src==$HOST_IP")
check "our 6 messages dissected as MEGACO ($m_vm), and the peer's 6 ($m_peer)" \
    eval '[ "$m_vm" -eq 6 ] && [ "$m_peer" -eq 6 ]'
n_txn=$(ts -Y "megaco && ip.src==$VM_IP" -T fields -e megaco.transid | tr ',' '\n' | sed '/^$/d' | sort -un | tr '\n' ' ')
check "transaction IDs in our messages: $n_txn" eval '[ "$n_txn" = "1 2 3 11 12 13 " ]'
n_malformed=$(count '_ws.malformed || _ws.expert.severity >= 0x00800000')
check "no malformed packet and no expert error ($n_malformed)" eval '[ "$n_malformed" -eq 0 ]'
sids=$(ts -Y "sctp.chunk_type == 0 && ip.src==$VM_IP" -T fields -e sctp.data_sid | tr ',' '\n' | sed '/^$/d' | sort -u | tr '\n' ' ')
check "our DATA went out on several streams: $sids" eval '[ "$(echo $sids | wc -w)" -ge 3 ]'

echo "== MEGACO messages in the capture: frame src dst stream ppid crc32c status(1=good) info"
ts -Y megaco -T fields -E separator=' ' -e frame.number -e ip.src -e ip.dst -e sctp.data_sid \
    -e sctp.data_payload_proto_id -e sctp.checksum -e sctp.checksum.status -e megaco.transaction \
    -e megaco.transid -e megaco.command -e megaco.termid | sed 's/^/  /'
first=$(ts -Y "megaco && ip.src==$VM_IP" -T fields -e frame.number | head -1)
echo "== frame $first in detail (tshark -V, excerpt)"
ts -Y "frame.number == ${first:-0}" -V |
    grep -E 'Internet Protocol|Stream Control|Checksum \(CRC32C\)|Checksum Status|DATA chunk|Stream identifier|Payload protocol identifier|MEGACO|Transaction' |
    head -14 | sed 's/^/  /' || true

say "build $(awk -v a="$t0" -v b="$t_built" 'BEGIN{printf "%.1f", b-a}') s, VM exchange $(awk -v a="$t_built" -v b="$t_ran" 'BEGIN{printf "%.1f", b-a}') s, total $(since "$t0") s; capture: $pcap"
if [ "$fails" -ne 0 ]; then
    say "WIRE CHECK FAILED: $fails check(s) (logs: $vmlog, $peerlog)"
    exit 1
fi
say "WIRE CHECK PASSED"
