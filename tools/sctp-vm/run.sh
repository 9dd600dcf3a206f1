#!/usr/bin/env bash
# Boot the SCTP test VM, run a shell script from the host file system inside it, power off.
#
#   tools/sctp-vm/run.sh SCRIPT [OUTDIR]
#
# SCRIPT runs as `sh SCRIPT` in the current directory, as root, in a chroot of the host's root file
# system (read-only underneath, writes go to a throw-away tmpfs) with kernel SCTP loaded. OUTDIR, if
# given, is shared read-write. The exit code is the script's (99: the VM never reported one).
# Run prepare.sh first. Environment:
#   SCTP_VM_TIMEOUT  seconds before the VM is killed (300)    SCTP_VM_SMP, SCTP_VM_MEM (2, 1024 MiB)
#   SCTP_VM_ACCEL    tcg (default: works everywhere) or kvm (where /dev/kvm boots a stock kernel)
#   SCTP_VM_LOG      also write the serial console here
#   SCTP_VM_TAP=IF SCTP_VM_IP=A/N   attach a virtio NIC to tap IF (must exist), guest eth0 = A/N
#   SCTP_VM_PCAP     with SCTP_VM_TAP: capture the NIC's traffic into this pcap file
set -euo pipefail
. "$(dirname "$0")/lib.sh"
[ $# -ge 1 ] || die "usage: run.sh SCRIPT [OUTDIR]"
[ -f "$VMDIR/initramfs.cpio.gz" ] && [ -e "$VMDIR/kernel" ] || die "no VM image in $VMDIR: run tools/sctp-vm/prepare.sh first"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing: run tools/sctp-vm/prepare.sh"
script=$(realpath "$1")
accel=${SCTP_VM_ACCEL:-tcg} cpu=max
[ "$accel" = kvm ] && cpu=host
args=(-accel "$accel" -cpu "$cpu" -m "${SCTP_VM_MEM:-1024}" -smp "${SCTP_VM_SMP:-2}"
    -nodefaults -no-reboot -display none -serial stdio
    -kernel "$VMDIR/kernel" -initrd "$VMDIR/initramfs.cpio.gz"
    -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap")
append="console=ttyS0 quiet panic=-1 rdinit=/init iq.cmd=$script iq.cwd=$PWD"
if [ -n "${2:-}" ]; then
    out=$(realpath "$2")
    args+=(-virtfs "local,path=$out,mount_tag=out,security_model=none,multidevs=remap")
    append+=" iq.out=$out"
fi
if [ -n "${SCTP_VM_TAP:-}" ]; then
    args+=(-netdev "tap,id=n0,ifname=$SCTP_VM_TAP,script=no,downscript=no,vnet_hdr=off" -device virtio-net-pci,netdev=n0)
    [ -n "${SCTP_VM_PCAP:-}" ] && args+=(-object "filter-dump,id=dump0,netdev=n0,file=$SCTP_VM_PCAP")
    append+=" iq.net=${SCTP_VM_IP:?SCTP_VM_IP=A/N is needed with SCTP_VM_TAP}"
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
timeout "${SCTP_VM_TIMEOUT:-300}" qemu-system-x86_64 "${args[@]}" -append "$append" </dev/null |
    tr -d '\r' | tee "$log" ${SCTP_VM_LOG:+"$SCTP_VM_LOG"}
set -e
rc=$(grep -a -o 'IQ_VM_RC=[0-9]*' "$log" | tail -1 | cut -d= -f2)
[ -n "$rc" ] || { say "the VM reported no exit code (crashed or timed out after ${SCTP_VM_TIMEOUT:-300} s)"; exit 99; }
exit "$rc"
