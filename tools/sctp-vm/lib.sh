# Shared helpers for the SCTP VM harness (sourced, not run).
# shellcheck shell=bash
SCTP_VM_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCTP_VM_HERE/../.." && pwd)
# Everything the harness downloads or builds lives here (cached between runs; `cargo clean` wipes it).
VMDIR=${SCTP_VM_DIR:-$REPO_ROOT/target/sctp-vm}

say() { printf 'sctp-vm: %s\n' "$*" >&2; }
die() { printf 'sctp-vm: error: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# need_pkgs PKG...: apt-get install the Debian packages that are not installed yet.
need_pkgs() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] || die "need root to apt-get install ${missing[*]}"
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >"$VMDIR/apt.log" 2>&1; then
        apt-get update -q >>"$VMDIR/apt.log" 2>&1 || true
        apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$VMDIR/apt.log" 2>&1 ||
            { tail -20 "$VMDIR/apt.log" >&2; die "apt-get install ${missing[*]} failed (log: $VMDIR/apt.log)"; }
    fi
}
