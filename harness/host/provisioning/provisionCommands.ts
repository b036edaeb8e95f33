import { posix } from 'node:path';
import { sh } from '../../shell.js';
import { checkPciAddress, checkSysfsRoot, driversProbePath, pciDevicePath, pciDriverPath } from './pciSysfs.js';
import { ProvisioningError } from './ProvisioningError.js';

/**
 * The sysfs writes of provisioning, each as a change and its exact undo (pure: tested as text).
 * Every undo is safe to run when its change never happened or happened twice, and does nothing
 * when the device is gone (replay after a reboot), because a replay may run it at any time.
 */
export interface ChangeCommands {
  readonly description: string;
  readonly doCommand: string;
  readonly undoCommand: string;
}

/** A function's driver binding as found before a change: what the undo puts back. */
export interface DriverBinding {
  readonly driver: string | null;
  readonly driverOverride: string | null;
}

/** `printf '%s\n' value > path`: what `echo value > path` does, without echo's quirks. */
function write(value: string | number, path: string): string {
  return sh`printf '%s\\n' ${String(value)} > ${path}`;
}

/** Creates `to` VFs: sriov_numvfs only changes from 0, so write 0 first. Undo: back to `from`. */
export function numVfsChange(root: string, pf: string, counts: { readonly from: number; readonly to: number }): ChangeCommands {
  const file = posix.join(pciDevicePath(root, pf), 'sriov_numvfs');
  const setTo = (n: number): string => (n === 0 ? write(0, file) : `${write(0, file)} && ${write(n, file)}`);
  return {
    description: `set ${pf} sriov_numvfs ${counts.from} -> ${counts.to}`,
    doCommand: setTo(counts.to),
    undoCommand: sh`if [ -e ${file} ]; then ` + `${setTo(counts.from)}; fi`,
  };
}

export function autoprobeChange(root: string, pf: string, values: { readonly from: boolean; readonly to: boolean }): ChangeCommands {
  const file = posix.join(pciDevicePath(root, pf), 'sriov_drivers_autoprobe');
  return {
    description: `set ${pf} sriov_drivers_autoprobe ${values.from ? 1 : 0} -> ${values.to ? 1 : 0}`,
    doCommand: write(values.to ? 1 : 0, file),
    undoCommand: sh`if [ -e ${file} ]; then ` + `${write(values.from ? 1 : 0, file)}; fi`,
  };
}

function unbindIfBound(root: string, address: string): string {
  const device = pciDevicePath(root, address);
  return sh`if [ -e ${`${device}/driver`} ]; then ` + `${write(address, `${device}/driver/unbind`)}; fi`;
}

/**
 * Puts back a binding: unbind whatever is bound, restore driver_override (an empty write clears
 * it), bind the original driver directly, and check that it took.
 */
export function restoreBindingCommand(root: string, address: string, original: DriverBinding): string {
  const device = pciDevicePath(root, address);
  const steps = [unbindIfBound(root, address), write(original.driverOverride ?? '', `${device}/driver_override`)];
  if (original.driver !== null) {
    steps.push(write(address, `${pciDriverPath(root, original.driver)}/bind`));
    steps.push(sh`l=$(readlink ${`${device}/driver`}); [ "\${l##*/}" = ${original.driver} ] || { echo ${`${address} did not go back to ${original.driver}`}" (bound: \${l##*/})" >&2; exit 1; }`);
  } else {
    steps.push(sh`if [ -e ${`${device}/driver`} ]; then echo ${`${address} is bound again after being left unbound`} >&2; exit 1; fi`);
  }
  return sh`if [ -e ${device} ]; then ` + `${steps.join(' && ')}; fi`;
}

/** Binds a function to `driver` through driver_override + drivers_probe (works for vfio-pci and variant drivers alike). */
export function bindChange(root: string, address: string, original: DriverBinding, driver: string): ChangeCommands {
  const device = pciDevicePath(root, address);
  pciDriverPath(root, driver);
  return {
    description: `bind ${address} to ${driver} (was ${original.driver ?? 'unbound'})`,
    doCommand: [unbindIfBound(root, address), write(driver, `${device}/driver_override`), write(checkPciAddress(address), driversProbePath(root))].join(' && '),
    undoCommand: restoreBindingCommand(root, address, original),
  };
}

export function unbindChange(root: string, address: string, original: DriverBinding): ChangeCommands {
  return {
    description: `unbind ${address} from ${original.driver ?? 'no driver'}`,
    doCommand: unbindIfBound(root, address),
    undoCommand: restoreBindingCommand(root, address, original),
  };
}

const MDEV_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function checkMdevName(value: string, what: string): string {
  if (!MDEV_NAME.test(value) || value.includes('..')) throw new ProvisioningError('PROVISION_BAD_VALUE', `${JSON.stringify(value)} is not an mdev ${what} like mtty, mtty-2 or 0000:3b:00.0`, { data: { [what]: value } });
  return value;
}

export function checkMdevUuid(uuid: string): string {
  if (!UUID.test(uuid)) throw new ProvisioningError('PROVISION_BAD_VALUE', `${JSON.stringify(uuid)} is not a lower-case UUID like 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001`, { data: { uuid } });
  return uuid;
}

/** sysfs folder of an mdev type of a parent: <root>/class/mdev_bus/<parent>/mdev_supported_types/<type>. */
export function mdevTypePath(root: string, parent: string, type: string): string {
  return posix.join(checkSysfsRoot(root), 'class/mdev_bus', checkMdevName(parent, 'parent'), 'mdev_supported_types', checkMdevName(type, 'type'));
}

export function mdevDevicePath(root: string, uuid: string): string {
  return posix.join(checkSysfsRoot(root), 'bus/mdev/devices', checkMdevUuid(uuid));
}

/** Creates an mdev by writing its UUID to the type's `create`. Undo: write 1 to its `remove`, when it is there. */
export function mdevCreateChange(root: string, parent: string, type: string, uuid: string): ChangeCommands {
  const remove = `${mdevDevicePath(root, uuid)}/remove`;
  return {
    description: `create mdev ${uuid} (${parent} ${type})`,
    doCommand: write(checkMdevUuid(uuid), `${mdevTypePath(root, parent, type)}/create`),
    undoCommand: sh`if [ -e ${remove} ]; then ` + `${write(1, remove)}; fi`,
  };
}

/**
 * Removes and creates an mdev again: a fresh device in the RUNNING migration state. Undo: create
 * it if it is missing (a replay after a crash between the two writes), nothing otherwise.
 */
export function mdevRecreateChange(root: string, parent: string, type: string, uuid: string): ChangeCommands {
  const device = mdevDevicePath(root, uuid);
  const create = write(checkMdevUuid(uuid), `${mdevTypePath(root, parent, type)}/create`);
  return {
    description: `re-create mdev ${uuid} (${parent} ${type}) to reset its state`,
    doCommand: sh`if [ -e ${`${device}/remove`} ]; then ` + `${write(1, `${device}/remove`)}; fi && ${create}`,
    undoCommand: sh`if [ ! -e ${device} ]; then ` + `${create}; fi`,
  };
}
