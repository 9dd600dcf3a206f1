#!/bin/busybox sh
# /init of the SCTP test VM (busybox). Loads sctp.ko and friends, mounts the host's root file system
# (virtio-9p, read-only, with a tmpfs overlay so the guest may write), then runs the command given on
# the kernel command line inside a chroot of it and powers off. Parameters (kernel command line):
#   iq.cmd=FILE   shell script to run (host path)        iq.cwd=DIR   its working directory
#   iq.out=DIR    host directory shared read-write        iq.net=A/N   give eth0 this IPv4 address
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
up() { cut -d' ' -f1 /proc/uptime; }
for m in $(cat /lib/modules/order); do
    insmod "/lib/modules/$m.ko" || echo "iq-vm: insmod $m FAILED"
done
ip link set lo up
CMD= CWD=/ OUT= NET=
for t in $(cat /proc/cmdline); do
    case $t in
        iq.cmd=*) CMD=${t#iq.cmd=} ;;
        iq.cwd=*) CWD=${t#iq.cwd=} ;;
        iq.out=*) OUT=${t#iq.out=} ;;
        iq.net=*) NET=${t#iq.net=} ;;
    esac
done
if [ -n "$NET" ]; then
    ip link set eth0 up && ip addr add "$NET" dev eth0 || echo "iq-vm: network setup FAILED"
fi
echo "iq-vm: kernel $(uname -r), sctp $([ -d /proc/sys/net/sctp ] && echo loaded || echo MISSING), t=$(up)s"
mkdir -p /lower /rw /host
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /lower || echo "iq-vm: 9p mount FAILED"
mount -t tmpfs rw /rw && mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /host ||
    { echo "iq-vm: overlay FAILED, host root is read-only"; mount --bind /lower /host; }
mount -t proc proc /host/proc
mount -t sysfs sys /host/sys
mount -t devtmpfs dev /host/dev
[ -n "$OUT" ] && { mount -t 9p -o trans=virtio,version=9p2000.L,rw out "/host$OUT" || echo "iq-vm: out mount FAILED"; }
RC=97
if [ -n "$CMD" ]; then
    chroot /host /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
        PATH=/root/.cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        /bin/sh -c "cd '$CWD' && exec /bin/sh '$CMD'"
    RC=$?
else
    echo "iq-vm: no iq.cmd given"
fi
echo "iq-vm: done t=$(up)s"
echo "IQ_VM_RC=$RC"
sync
poweroff -f
