import { sh } from '../shell.js';

/**
 * One shell script that prints every fact preflight needs as `key<TAB>value` lines, so a host is
 * read in one round trip. It only reads; it never fails on a missing file (absence is a fact).
 */
export const MODULES_OF_INTEREST = [
  'vfio', 'vfio_pci', 'vfio_pci_core', 'vfio_iommu_type1', 'iommufd', 'mdev', 'mtty',
  'mlx5_vfio_pci', 'pds_vfio_pci', 'virtio_vfio_pci', 'qat_vfio_pci', 'hisi_acc_vfio_pci', 'kvm', 'kvm_intel', 'kvm_amd',
] as const;

export function factsScript(qemuBinary: string, workDir: string): string {
  return [
    'export LC_ALL=C',
    't() { printf "%s\\t%s\\n" "$1" "$2"; }',
    't hostname "$(hostname)"',
    't kernel "$(uname -r)"',
    't cmdline "$(cat /proc/cmdline)"',
    'for u in /sys/class/iommu/*; do [ -e "$u" ] || continue;',
    '  t iommu.unit "${u##*/}|$(cat "$u/intel-iommu/ecap" 2>/dev/null)|$(cat "$u/amd-iommu/features" 2>/dev/null)"; done',
    'c=/boot/config-$(uname -r); [ -r "$c" ] && { grep -q "^CONFIG_INTEL_IOMMU_SCALABLE_MODE_DEFAULT_ON=y" "$c" && t iommu.smdefault on || t iommu.smdefault off; }',
    'e=$(dmesg 2>/dev/null | sed -n "s/.*Using global IVHD EFR:\\(0x[0-9a-fA-F]*\\).*/\\1/p" | head -n 1); [ -n "$e" ] && t iommu.dmesgefr "$e"',
    't iommu.groups "$(ls /sys/kernel/iommu_groups 2>/dev/null | wc -l)"',
    '[ -d /dev/vfio ] && for e in /dev/vfio/*; do [ -e "$e" ] && t vfio.entry "${e##*/}"; done',
    '[ -d /dev/vfio/devices ] && for e in /dev/vfio/devices/*; do [ -e "$e" ] && t vfio.cdev "${e##*/}"; done',
    '[ -e /dev/iommu ] && t dev.iommu yes',
    '[ -e /dev/kvm ] && t dev.kvm yes',
    `for m in ${MODULES_OF_INTEREST.join(' ')}; do`,
    '  [ -d "/sys/module/$m" ] && t module.loaded "$m";',
    '  if [ -d "/sys/module/$m" ] || modinfo "$m" >/dev/null 2>&1; then t module.available "$m"; fi; done',
    'for n in /sys/class/net/*; do i=${n##*/}; [ "$i" = lo ] && continue;',
    '  d=$(readlink "$n/device/driver" 2>/dev/null); p=$(readlink "$n/device" 2>/dev/null);',
    '  t netdev "$i|${d##*/}|${p##*/}|$(cat "$n/operstate" 2>/dev/null)"; done',
    'for f in /sys/bus/pci/devices/*; do [ -e "$f" ] || continue; a=${f##*/};',
    '  d=$(readlink "$f/driver" 2>/dev/null); g=$(readlink "$f/iommu_group" 2>/dev/null);',
    '  nd=$(ls "$f/net" 2>/dev/null | tr "\\n" ",");',
    '  t pci "$a|${d##*/}|${g##*/}|$(cat "$f/sriov_totalvfs" 2>/dev/null)|$(cat "$f/sriov_numvfs" 2>/dev/null)|$nd"; done',
    '[ -d /sys/class/mdev_bus ] && for p in /sys/class/mdev_bus/*; do [ -e "$p" ] && t mdev.parent "${p##*/}"; done',
    't mem "$(awk \'/^MemTotal:/{t=$2} /^MemAvailable:/{a=$2} END{print t" "a}\' /proc/meminfo)"',
    sh`q=${qemuBinary}`,
    'if [ -x "$q" ]; then t qemu.version "$("$q" -version | head -n 1)";',
    '  "$q" -object help 2>/dev/null | grep -qw iommufd && t qemu.iommufd yes;',
    '  "$q" -device vfio-pci,help 2>/dev/null | sed -n "s/^ *\\([a-z0-9-]*\\)=.*/\\1/p" | tr "\\n" "," | sed "s/^/qemu.vfioprops\\t/;s/$/\\n/";',
    // QEMU 11.1 leaves the system-bus IOMMUs out of `-device help`; asking for the device's own
    // property list works on every version (an unknown device prints only an error, on stderr).
    '  "$q" -device intel-iommu,help 2>/dev/null | grep -q "^intel-iommu options:" && t qemu.intel-iommu yes;',
    '  for m in virtio-net-pci e1000e igb; do "$q" -device help 2>/dev/null | grep -q "\\"$m\\"" && t qemu.nic "$m"; done; fi',
    sh`[ -s ${workDir}/journal ] && t journal yes`,
    'for p in $(pgrep -f "[q]emu-system.*-name (guest=)?hil-" 2>/dev/null); do t harness.qemu "$p"; done',
    'true',
  ].join('\n');
}
