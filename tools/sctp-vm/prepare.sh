#!/usr/bin/env bash
# Prepare the SCTP test VM: Debian's stock kernel (which ships sctp.ko) plus a busybox initramfs.
#
#   tools/sctp-vm/prepare.sh [--wire]
#
# Installs what is missing (Debian packages qemu-system-x86 and busybox-static; with --wire also
# gcc, pkg-config, libusrsctp-dev, tshark and iproute2 for wire-check.sh), fetches the kernel
# package named by linux-image-amd64 with `apt-get download`, keeps only vmlinuz and the modules
# the VM needs, and packs the initramfs. Everything is cached under target/sctp-vm/ (override with
# SCTP_VM_DIR); a rerun with nothing changed takes about a second.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
mkdir -p "$VMDIR"

pkgs=(qemu-system-x86 busybox-static)
[ "${1:-}" = --wire ] && pkgs+=(gcc libc6-dev pkg-config libusrsctp-dev tshark iproute2)
need_pkgs "${pkgs[@]}"

# busybox_bin APPLET ARGS: run a busybox applet (the static build has depmod and cpio)
busybox_bin() { /bin/busybox "$@"; }

# extract_vmlinux BZIMAGE OUT: unpack the ELF kernel from a bzImage. Under TCG the bzImage stub
# needs about 5 s to decompress itself; qemu boots the ELF directly (PVH entry) in well under 1 s.
extract_vmlinux() {
    local in=$1 out=$2 magic tool off
    for magic in 'xz:\xfd7zXZ\x00' 'zstd:\x28\xb5\x2f\xfd' 'gzip:\x1f\x8b\x08'; do
        tool=${magic%%:*}
        command -v "$tool" >/dev/null || continue
        for off in $(LC_ALL=C grep -obaP "${magic#*:}" "$in" | cut -d: -f1 | head -3); do
            tail -c +$((off + 1)) "$in" | "$tool" -dc >"$out" 2>/dev/null || true
            # an ELF with the PVH entry note (Xen note type 0x12) is what qemu -kernel can boot
            if [ "$(head -c 4 "$out" | od -An -c | tr -d ' ')" = 177ELF ] &&
                { ! command -v readelf >/dev/null || readelf -n "$out" 2>/dev/null | grep -q 'type: (0x00000012)'; }; then
                return 0
            fi
        done
    done
    return 1
}

# Which kernel: the one the linux-image-amd64 metapackage points at (override: SCTP_VM_KERNEL_PKG).
kpkg=${SCTP_VM_KERNEL_PKG:-}
if [ -z "$kpkg" ]; then
    kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
    if [ -z "$kpkg" ]; then
        apt-get update -q >/dev/null 2>&1 || true
        kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
    fi
fi
[ -n "$kpkg" ] || die "cannot find the Debian kernel package (apt-cache depends linux-image-amd64 names none)"
kver=${kpkg#linux-image-}
KDIR=$VMDIR/kernel-$kver

# Modules the guest loads, by name; their dependencies come from the package's modules.dep.
# crc32c_generic is a soft dependency (libcrc32c asks the crypto API for "crc32c" at load time).
WANT="crc32c_generic sctp virtio_pci virtio_net 9pnet_virtio 9p overlay"

if [ ! -f "$KDIR/.complete" ]; then
    say "fetching $kpkg (apt-get download)"
    t0=$(now)
    tmp=$(mktemp -d "$VMDIR/dl.XXXXXX")
    chmod 755 "$tmp"   # apt-get download hands the file to the _apt user where it can
    (cd "$tmp" && apt-get download -q "$kpkg" >"$VMDIR/download.log" 2>&1) ||
        { cat "$VMDIR/download.log" >&2; die "apt-get download $kpkg failed"; }
    dpkg-deb -x "$tmp"/*.deb "$tmp/root"
    mods=$tmp/root/lib/modules/$kver
    # the package carries no modules.dep (depmod runs at install time): make one
    [ -f "$mods/modules.dep" ] || busybox_bin depmod -b "$tmp/root" "$kver" || die "depmod failed"
    [ -f "$mods/modules.dep" ] || die "no modules.dep for $kver"
    rm -rf "$KDIR" && mkdir -p "$KDIR/modules"
    cp "$tmp/root/boot/vmlinuz-$kver" "$KDIR/vmlinuz"
    extract_vmlinux "$KDIR/vmlinuz" "$KDIR/vmlinux" || rm -f "$KDIR/vmlinux"
    # resolve WANT into a load order: each module after everything it depends on
    declare -A seen=()
    order=()
    add_path() { # modules.dep path, e.g. kernel/net/sctp/sctp.ko.xz
        local path=$1 line deps d i
        [ -n "${seen[$path]:-}" ] && return 0
        seen[$path]=1
        line=$(grep -m1 "^$path:" "$mods/modules.dep") || die "modules.dep has no $path"
        read -r -a deps <<<"${line#*:}"
        for ((i = ${#deps[@]} - 1; i >= 0; i--)); do add_path "${deps[$i]}"; done
        order+=("$path")
    }
    for m in $WANT; do
        path=$(grep -m1 -E "(^|/)${m}\.ko(\.[a-z]+)?:" "$mods/modules.dep" | cut -d: -f1 || true)
        if [ -z "$path" ]; then
            grep -qE "/${m}\.ko" "$mods/modules.builtin" 2>/dev/null && continue   # built into this kernel
            die "$kpkg has no module $m"
        fi
        add_path "$path"
    done
    : >"$KDIR/modules/order"
    for path in "${order[@]}"; do
        name=$(basename "$path"); name=${name%%.ko*}
        case $path in
            *.ko.xz) xz -dc "$mods/$path" >"$KDIR/modules/$name.ko" ;;
            *.ko.zst) zstd -qdc "$mods/$path" >"$KDIR/modules/$name.ko" ;;
            *.ko.gz) gzip -dc "$mods/$path" >"$KDIR/modules/$name.ko" ;;
            *) cp "$mods/$path" "$KDIR/modules/$name.ko" ;;
        esac
        echo "$name" >>"$KDIR/modules/order"
    done
    rm -rf "$tmp"
    touch "$KDIR/.complete"
    say "kernel $kver: $(wc -l <"$KDIR/modules/order") modules ($(tr '\n' ' ' <"$KDIR/modules/order")) in $(since "$t0") s"
fi

# Initramfs: rebuilt when the kernel, init.sh or busybox changed.
bb=/bin/busybox
key=$(cat "$SCTP_VM_HERE/init.sh" "$KDIR/modules/order" "$bb" | sha256sum | cut -c1-16)-$kver
if [ "$(cat "$VMDIR/initramfs.key" 2>/dev/null)" != "$key" ]; then
    t0=$(now)
    ir=$VMDIR/initramfs
    rm -rf "$ir" && mkdir -p "$ir"/{bin,dev,proc,sys,tmp,lib/modules,mnt}
    cp "$bb" "$ir/bin/busybox"
    cp "$KDIR"/modules/*.ko "$KDIR/modules/order" "$ir/lib/modules/"
    cp "$SCTP_VM_HERE/init.sh" "$ir/init" && chmod 755 "$ir/init"
    (cd "$ir" && find . | "$bb" cpio -o -H newc 2>/dev/null | gzip -1 >"$VMDIR/initramfs.cpio.gz.tmp")
    mv "$VMDIR/initramfs.cpio.gz.tmp" "$VMDIR/initramfs.cpio.gz"
    rm -rf "$ir"
    echo "$key" >"$VMDIR/initramfs.key"
    say "initramfs $(du -h "$VMDIR/initramfs.cpio.gz" | cut -f1) built in $(since "$t0") s"
fi
if [ -f "$KDIR/vmlinux" ]; then
    ln -sfn "kernel-$kver/vmlinux" "$VMDIR/kernel"
else
    ln -sfn "kernel-$kver/vmlinuz" "$VMDIR/kernel"
fi
say "ready: $kpkg ($(basename "$(readlink "$VMDIR/kernel")")), $VMDIR/{kernel,initramfs.cpio.gz}"
