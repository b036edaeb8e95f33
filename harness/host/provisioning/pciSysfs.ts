import { posix } from 'node:path';
import { errorMessage } from '../../errors.js';
import type { CommandResult, CommandRunner } from '../../runner.js';
import { sh } from '../../shell.js';
import { ProvisioningError } from './ProvisioningError.js';

/**
 * Reading PCI functions through sysfs. The sysfs root is a parameter (default /sys) so the same
 * commands can be pointed at a fake tree in tests. Every value is checked for shape and then
 * quoted: a lab.yaml value never reaches a shell as code, nor a path outside the root.
 */
export const DEFAULT_SYSFS_ROOT = '/sys';

const PCI_ADDRESS = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/;
const DRIVER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function checkPciAddress(address: string): string {
  if (!PCI_ADDRESS.test(address)) throw new ProvisioningError('PROVISION_BAD_VALUE', `${JSON.stringify(address)} is not a PCI address like 0000:3b:00.0 (domain:bus:device.function, lower-case hex)`, { data: { address } });
  return address;
}

export function checkDriverName(driver: string): string {
  if (!DRIVER_NAME.test(driver) || driver.includes('..')) throw new ProvisioningError('PROVISION_BAD_VALUE', `${JSON.stringify(driver)} is not a driver name like vfio-pci or mlx5_vfio_pci`, { data: { driver } });
  return driver;
}

/** A root folder (sysfs, /dev) to put paths under: absolute, no "..". */
export function checkSysfsRoot(root: string, what = 'sysfs root'): string {
  if (!root.startsWith('/') || root.split('/').includes('..')) throw new ProvisioningError('PROVISION_BAD_VALUE', `${what} ${JSON.stringify(root)} must be an absolute path without ".."`, { data: { root } });
  return root.replace(/\/+$/, '') || '/';
}

export function pciDevicePath(root: string, address: string): string {
  return posix.join(checkSysfsRoot(root), 'bus/pci/devices', checkPciAddress(address));
}

export function pciDriverPath(root: string, driver: string): string {
  return posix.join(checkSysfsRoot(root), 'bus/pci/drivers', checkDriverName(driver));
}

export function driversProbePath(root: string): string {
  return posix.join(checkSysfsRoot(root), 'bus/pci/drivers_probe');
}

/** What sysfs says about one PCI function. */
export interface PciFunctionState {
  readonly address: string;
  /** Bound driver, or null when unbound. */
  readonly driver: string | null;
  /** driver_override, or null when unset (sysfs shows "(null)"). */
  readonly driverOverride: string | null;
  readonly iommuGroup: number | null;
  readonly vendorId: string | null;
  readonly deviceId: string | null;
  /** SR-IOV PF only. */
  readonly sriovTotalVfs: number | null;
  readonly sriovNumVfs: number | null;
  readonly isSriovDriversAutoprobe: boolean | null;
  /** For a VF, its PF. */
  readonly physfn: string | null;
  /** For a PF, its VFs in virtfn order. */
  readonly vfs: readonly string[];
}

export async function readPciFunction(runner: CommandRunner, address: string, sysfsRoot = DEFAULT_SYSFS_ROOT): Promise<PciFunctionState> {
  const device = pciDevicePath(sysfsRoot, address);
  const script = [
    sh`d=${device}`,
    'if [ ! -e "$d" ]; then echo absent; exit 0; fi',
    't() { printf "%s\\t%s\\n" "$1" "$2"; }',
    'link() { l=$(readlink "$d/$1") && t "$2" "${l##*/}"; }',
    'if [ -e "$d/driver" ]; then link driver driver; fi',
    'if [ -e "$d/iommu_group" ]; then link iommu_group group; fi',
    'if [ -e "$d/physfn" ]; then link physfn physfn; fi',
    'for f in driver_override vendor device sriov_totalvfs sriov_numvfs sriov_drivers_autoprobe; do if [ -r "$d/$f" ]; then t "$f" "$(cat "$d/$f")"; fi; done',
    'for v in "$d"/virtfn*; do [ -e "$v" ] || continue; l=$(readlink "$v") && t virtfn "${v##*/virtfn} ${l##*/}"; done',
    'true',
  ].join('\n');
  const stdout = (await runRead(runner, script, `read PCI function ${address}`)).stdout;
  if (stdout.trim() === 'absent') {
    throw new ProvisioningError('PROVISION_PRECONDITION', `PCI function ${address} does not exist on ${runner.where} (no ${device})`, { data: { where: runner.where, address } });
  }
  const values = new Map<string, string[]>();
  for (const line of stdout.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab > 0) values.set(line.slice(0, tab), [...(values.get(line.slice(0, tab)) ?? []), line.slice(tab + 1).trim()]);
  }
  const one = (key: string): string | null => values.get(key)?.[0] ?? null;
  const integer = (key: string): number | null => {
    const value = one(key);
    return value !== null && /^\d+$/.test(value) ? Number(value) : null;
  };
  const override = one('driver_override');
  const autoprobe = one('sriov_drivers_autoprobe');
  const vfs = (values.get('virtfn') ?? [])
    .map((entry) => entry.split(' '))
    .map(([index, vf]) => ({ index: Number(index), vf: vf ?? '' }))
    .sort((a, b) => a.index - b.index)
    .map((v) => v.vf);
  return {
    address,
    driver: one('driver'),
    driverOverride: override === null || override === '' || override === '(null)' ? null : override,
    iommuGroup: integer('group'),
    vendorId: one('vendor'),
    deviceId: one('device'),
    sriovTotalVfs: integer('sriov_totalvfs'),
    sriovNumVfs: integer('sriov_numvfs'),
    isSriovDriversAutoprobe: autoprobe === null ? null : autoprobe === '1',
    physfn: one('physfn'),
    vfs,
  };
}

/** The VFs of a PF, in virtfn order (index 0 first). */
export async function listVfs(runner: CommandRunner, pf: string, sysfsRoot = DEFAULT_SYSFS_ROOT): Promise<string[]> {
  return [...(await readPciFunction(runner, pf, sysfsRoot)).vfs];
}

/** Runs a read-only command; fails with what was being read. */
export async function runRead(runner: CommandRunner, script: string, what: string): Promise<CommandResult> {
  let result: CommandResult;
  try {
    result = await runner.run(script, { timeoutMs: 30_000 });
  } catch (error) {
    throw new ProvisioningError('PROVISION_READ_FAILED', `Could not ${what} on ${runner.where}: ${errorMessage(error)}`, { cause: error, data: { where: runner.where } });
  }
  if (result.exitCode !== 0) {
    throw new ProvisioningError('PROVISION_READ_FAILED', `Could not ${what} on ${runner.where} (exit ${result.exitCode ?? `SIG${result.signal}`}): ${result.stderr.trim().slice(-1000) || '(no output)'}`, {
      data: { where: runner.where, exitCode: result.exitCode, stderr: result.stderr },
    });
  }
  return result;
}
