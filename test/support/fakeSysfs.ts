import { posix } from 'node:path';
import type { CommandResult, CommandRunner, RunOptions } from '../../harness/runner.js';
import { sh } from '../../harness/shell.js';

/**
 * TEST DOUBLE. A fake sysfs (and /dev) tree in a folder, plus a "kernel step" that, after each
 * write into the tree, does what the kernel would have done for it: unbind, bind,
 * drivers_probe with driver_override, sriov_numvfs creating or removing VFs (each in an IOMMU
 * group of its own), VFIO cdev and group nodes for functions bound to a VFIO driver. It checks
 * the commands provisioning builds, run by a real shell; it proves nothing about real hardware.
 */
export interface FakePciFunction {
  readonly address: string;
  readonly driver?: string;
  readonly group: number;
  /** Makes it an SR-IOV PF. */
  readonly sriov?: { readonly totalVfs: number; readonly vfDriver: string | null };
}

export function fakeSysfsBuildScript(root: string, functions: readonly FakePciFunction[], drivers: readonly string[]): string {
  const lines = [
    sh`R=${root}; P=$R/bus/pci`,
    'mkdir -p "$P/devices" "$R/kernel/iommu_groups" "$R/class/iommu" "$R/dev/vfio/devices" && : > "$P/drivers_probe" && : > "$R/dev/vfio/vfio" && : > "$R/dev/iommu"',
    'echo 200 > "$R/.next-group"; echo 0 > "$R/.next-cdev"',
    ...drivers.map((driver) => sh`mkdir -p "$P/drivers/"${driver} && : > "$P/drivers/"${driver}/bind && : > "$P/drivers/"${driver}/unbind`),
  ];
  for (const f of functions) {
    lines.push(sh`a=${f.address}; g=${f.group}; d="$P/devices/$a"`);
    lines.push('mkdir -p "$d" "$R/kernel/iommu_groups/$g/devices" && echo 0x8086 > "$d/vendor" && echo 0x10c9 > "$d/device" && echo "(null)" > "$d/driver_override"');
    lines.push('ln -s "$R/kernel/iommu_groups/$g" "$d/iommu_group" && ln -s "$d" "$R/kernel/iommu_groups/$g/devices/$a"');
    if (f.driver !== undefined) lines.push(sh`ln -s "$P/drivers/"${f.driver} "$d/driver"`);
    if (f.sriov !== undefined) {
      lines.push(sh`echo ${f.sriov.totalVfs} > "$d/sriov_totalvfs" && echo 0 > "$d/sriov_numvfs" && echo 1 > "$d/sriov_drivers_autoprobe" && printf '%s' ${f.sriov.vfDriver ?? ''} > "$d/.fake-vf-driver"`);
    }
  }
  return lines.join('\n');
}

/**
 * What the kernel would do for the writes made so far. It runs in a subshell (its variables
 * never leak into the command under test) and uses `command printf`, because printf itself is
 * wrapped (fakeKernelPrelude).
 */
export function fakeKernelStepScript(root: string): string {
  return [
    sh`R=${root}; P=$R/bus/pci`,
    'drv_of() { l=$(readlink "$1/driver" 2>/dev/null) && echo "${l##*/}"; }',
    // An empty write clears driver_override; sysfs then shows "(null)".
    'for d in "$P"/devices/*; do [ -e "$d/driver_override" ] && [ -z "$(cat "$d/driver_override")" ] && echo "(null)" > "$d/driver_override"; done',
    'for drv in "$P"/drivers/*; do if [ -s "$drv/unbind" ]; then b=$(cat "$drv/unbind"); [ "$(drv_of "$P/devices/$b")" = "${drv##*/}" ] && rm -f "$P/devices/$b/driver"; : > "$drv/unbind"; fi; done',
    'for drv in "$P"/drivers/*; do if [ -s "$drv/bind" ]; then b=$(cat "$drv/bind"); d="$P/devices/$b"; o=$(cat "$d/driver_override");',
    '  if [ ! -e "$d/driver" ] && { [ "$o" = "(null)" ] || [ "$o" = "${drv##*/}" ]; }; then ln -s "$drv" "$d/driver"; fi; : > "$drv/bind"; fi; done',
    'if [ -f "$P/drivers_probe" ] && [ -s "$P/drivers_probe" ]; then b=$(cat "$P/drivers_probe"); d="$P/devices/$b"; o=$(cat "$d/driver_override");',
    '  if [ ! -e "$d/driver" ] && [ "$o" != "(null)" ] && [ -d "$P/drivers/$o" ]; then ln -s "$P/drivers/$o" "$d/driver"; fi; : > "$P/drivers_probe"; fi',
    'for pf in "$P"/devices/*; do [ -f "$pf/sriov_numvfs" ] || continue; want=$(cat "$pf/sriov_numvfs"); have=0',
    '  for v in "$pf"/virtfn*; do [ -L "$v" ] && have=$((have + 1)); done',
    '  [ "$want" = "$have" ] && continue',
    '  for v in "$pf"/virtfn*; do [ -L "$v" ] || continue; vf=$(readlink "$v"); vf=${vf##*/}; rm -rf "$P/devices/$vf"; rm -f "$v" "$R"/kernel/iommu_groups/*/devices/"$vf"; done',
    '  base=${pf##*/}; base=${base%:*}; i=0',
    '  while [ "$i" -lt "$want" ]; do vf=$(command printf "%s:%02x.%d" "$base" $((16 + i / 8)) $((i % 8))); d="$P/devices/$vf"',
    '    g=$(cat "$R/.next-group"); echo $((g + 1)) > "$R/.next-group"; mkdir -p "$d" "$R/kernel/iommu_groups/$g/devices"',
    '    echo 0x8086 > "$d/vendor"; echo 0x10ca > "$d/device"; echo "(null)" > "$d/driver_override"; ln -s "$pf" "$d/physfn"; ln -s "$d" "$pf/virtfn$i"',
    '    ln -s "$R/kernel/iommu_groups/$g" "$d/iommu_group"; ln -s "$d" "$R/kernel/iommu_groups/$g/devices/$vf"',
    '    vd=$(cat "$pf/.fake-vf-driver"); if [ "$(cat "$pf/sriov_drivers_autoprobe")" = 1 ] && [ -n "$vd" ]; then ln -s "$P/drivers/$vd" "$d/driver"; fi',
    '    i=$((i + 1)); done; done',
    'for d in "$P"/devices/*; do case "$(drv_of "$d")" in',
    '  *vfio-pci|*vfio_pci) if [ ! -e "$d/vfio-dev" ]; then n=$(cat "$R/.next-cdev"); echo $((n + 1)) > "$R/.next-cdev"; mkdir -p "$d/vfio-dev/vfio$n"; : > "$R/dev/vfio/devices/vfio$n";',
    '    g=$(readlink "$d/iommu_group"); : > "$R/dev/vfio/${g##*/}"; fi;;',
    '  *) if [ -e "$d/vfio-dev" ]; then for c in "$d"/vfio-dev/*; do rm -f "$R/dev/vfio/devices/${c##*/}"; done; rm -rf "$d/vfio-dev"; g=$(readlink "$d/iommu_group"); rm -f "$R/dev/vfio/${g##*/}"; fi;;',
    'esac; done',
    'true',
  ].join('\n');
}

/**
 * Prepended to every command: printf becomes "printf, then let the fake kernel react" when its
 * output went into the fake tree, so the kernel's reaction lands between a write and the next
 * line, as with real sysfs (where a write returns once the driver core is done).
 */
export function fakeKernelPrelude(root: string): string {
  return [
    sh`__fake_root=${root}`,
    `__fake_kernel_step() (\n${fakeKernelStepScript(root)}\n)`,
    'printf() { command printf "$@"; __fake_status=$?; case "$(readlink /proc/$$/fd/1 2>/dev/null)" in "$__fake_root"/*) __fake_kernel_step > /dev/null;; esac; return $__fake_status; }',
  ].join('\n');
}

/** A runner whose commands see the fake tree behave like sysfs (fakeKernelPrelude). */
export class FakeKernelRunner implements CommandRunner {
  constructor(private readonly inner: CommandRunner, readonly root: string) {}

  get where(): string {
    return `${this.inner.where} [fake sysfs ${this.root}]`;
  }

  get sysfsRoot(): string {
    return this.root;
  }

  get devRoot(): string {
    return posix.join(this.root, 'dev');
  }

  run(command: string, options?: RunOptions): Promise<CommandResult> {
    return this.inner.run(`${fakeKernelPrelude(this.root)}\n${command}`, options);
  }
}
