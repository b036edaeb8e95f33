#!/bin/busybox sh
# /init of the virtual lab's guest image (busybox initramfs; see harness/virtual-lab/).
#
# Kernel command line (besides the kernel's own):
#   hil.ip=ADDR/LEN   address of eth0 on the lab network
#   hil.gw=ADDR       default route (optional)
#   hil.echo=PORT     UDP echo port for the probe stream (optional; none without it)
#   hil.if=NAME       interface to configure (default eth0)
# Lines starting "hil: " on the console are for the harness; keep their wording stable.

export PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PS1='hil# '

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /run /tmp
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run

# Order comes from modules.dep at build time: each module after the modules it needs.
if [ -f /lib/modules/load-order ]; then
  while read -r module; do
    [ -n "$module" ] || continue
    insmod "/lib/modules/$module" || echo "hil: insmod $module failed"
  done < /lib/modules/load-order
fi

hil_ip=
hil_gw=
hil_echo=
hil_if=eth0
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    hil.ip=*) hil_ip="${arg#hil.ip=}" ;;
    hil.gw=*) hil_gw="${arg#hil.gw=}" ;;
    hil.echo=*) hil_echo="${arg#hil.echo=}" ;;
    hil.if=*) hil_if="${arg#hil.if=}" ;;
  esac
done

ip link set lo up
if [ -n "$hil_ip" ]; then
  # The NIC driver probes asynchronously after insmod returns: wait for the interface, bounded.
  tries=0
  while [ ! -e "/sys/class/net/$hil_if" ] && [ "$tries" -lt 100 ]; do
    tries=$((tries + 1))
    usleep 50000
  done
  if [ -e "/sys/class/net/$hil_if" ]; then
    ip link set "$hil_if" up
    ip addr add "$hil_ip" dev "$hil_if"
    [ -n "$hil_gw" ] && ip route add default via "$hil_gw"
    echo "hil: $hil_if $hil_ip"
  else
    echo "hil: interface $hil_if did not appear within 5 s; interfaces: $(ls /sys/class/net | tr '\n' ' ')"
  fi
fi

if [ -n "$hil_echo" ]; then
  (
    while :; do
      /bin/udp-echo "$hil_echo"
      echo "hil: udp-echo exited $?, restarting in 1 s"
      sleep 1
    done
  ) </dev/null >/dev/console 2>&1 &
fi

# The kernel's boot_id is random per boot and survives migration (same running kernel); the
# harness compares it before and after to prove the guest was not rebooted.
cp /proc/sys/kernel/random/boot_id /run/boot_id
echo "hil: boot_id $(cat /run/boot_id)"
echo "hil: ready"

# The console is the harness's command channel: a kernel message printed in the middle of a
# command's output (the NIC's "link becomes ready" arrives after the shell) corrupts what the
# harness reads. From here on only errors and worse reach the console; everything stays in dmesg.
echo 4 > /proc/sys/kernel/printk

while :; do
  setsid -c sh -i <>/dev/ttyS0 >&0 2>&1
  echo "hil: console shell exited, respawning"
done
