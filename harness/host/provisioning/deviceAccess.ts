import { readFileSync } from 'node:fs';
import type { HostSpec } from '../../config/types.js';
import type { CommandRunner } from '../../runner.js';
import { runRead } from './pciSysfs.js';

/** What says which machine (and which boot of it) a shell is on. */
export interface MachineIdentity {
  /** /etc/machine-id: per installation (clones and containers may share or differ). */
  readonly machineId: string | null;
  /** /proc/sys/kernel/random/boot_id: per running kernel, so per set of devices. */
  readonly bootId: string | null;
}

export interface DeviceAccess {
  readonly host: string;
  readonly isControllerMachine: boolean;
  readonly mayChangeDevices: boolean;
  /** Why, with both identities: shown when provisioning is refused. */
  readonly reason: string;
}

const ID_FILES = { machineId: '/etc/machine-id', bootId: '/proc/sys/kernel/random/boot_id' } as const;

function readIdFile(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim() || null;
  } catch (error) {
    // A missing file is an answer ("unknown"); anything else is a real fault.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** The identity of the machine the harness runs on. */
export function controllerMachineIdentity(): MachineIdentity {
  return { machineId: readIdFile(ID_FILES.machineId), bootId: readIdFile(ID_FILES.bootId) };
}

export async function readMachineIdentity(runner: CommandRunner): Promise<MachineIdentity> {
  const script = `for f in ${ID_FILES.machineId} ${ID_FILES.bootId}; do if [ -r "$f" ]; then cat "$f"; else echo; fi; echo ---; done`;
  const [machineId = '', bootId = ''] = (await runRead(runner, script, 'read /etc/machine-id and boot_id')).stdout.split('---\n').map((s) => s.trim());
  return { machineId: machineId || null, bootId: bootId || null };
}

/**
 * Same machine = same running kernel (boot_id): a network-namespace or container "host" shares
 * the controller's devices even when its /etc differs. Without boot ids, machine-id decides; with
 * neither, the host counts as the controller's (refusing is the safe mistake).
 */
export function isSameMachine(host: MachineIdentity, controller: MachineIdentity): { isSame: boolean; basis: string } {
  if (host.bootId !== null && controller.bootId !== null) {
    return { isSame: host.bootId === controller.bootId, basis: `boot_id ${host.bootId}${host.bootId === controller.bootId ? ' is the controller\'s' : ` vs the controller's ${controller.bootId}`}` };
  }
  if (host.machineId !== null && controller.machineId !== null) {
    return { isSame: host.machineId === controller.machineId, basis: `machine-id ${host.machineId}${host.machineId === controller.machineId ? ' is the controller\'s' : ` vs the controller's ${controller.machineId}`} (no boot_id to compare)` };
  }
  return { isSame: true, basis: 'neither boot_id nor machine-id could be compared, so it may be the controller' };
}

/**
 * May the harness change devices on this host? Never on the machine it runs on, unless
 * hosts.<name>.allowLocalDevices says so (a typo in a PCI address must not unbind the
 * controller's own NIC).
 */
export async function checkDeviceAccess(
  host: Pick<HostSpec, 'name' | 'allowLocalDevices'>,
  runner: CommandRunner,
  controller: MachineIdentity = controllerMachineIdentity(),
): Promise<DeviceAccess> {
  const same = isSameMachine(await readMachineIdentity(runner), controller);
  if (!same.isSame) return { host: host.name, isControllerMachine: false, mayChangeDevices: true, reason: `${host.name} is another machine (${same.basis})` };
  return {
    host: host.name,
    isControllerMachine: true,
    mayChangeDevices: host.allowLocalDevices,
    reason: host.allowLocalDevices
      ? `${host.name} is the machine the harness runs on (${same.basis}); hosts.${host.name}.allowLocalDevices is true`
      : `${host.name} (${runner.where}) is the machine the harness runs on (${same.basis}). ` +
        `Set hosts.${host.name}.allowLocalDevices: true in the lab file if changing its devices is really meant.`,
  };
}
