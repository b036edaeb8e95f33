import { errorMessage } from '../../errors.js';
import type { HostSpec, MdevNicSpec, VfNicSpec } from '../../config/types.js';
import type { CommandRunner } from '../../runner.js';
import { sh } from '../../shell.js';
import type { UndoJournal } from '../UndoJournal.js';
import type { UndoJournalEntry } from '../UndoJournalEntry.js';
import { checkDeviceAccess, type DeviceAccess, type MachineIdentity } from './deviceAccess.js';
import { groupViability, readIommuGroup, type IommuGroup } from './iommuGroup.js';
import { deviceMigrationHint, type DeviceMigrationHint } from './migrationSupport.js';
import { checkDriverName, checkSysfsRoot, DEFAULT_SYSFS_ROOT, pciDriverPath, readPciFunction, runRead, type PciFunctionState } from './pciSysfs.js';
import { autoprobeChange, bindChange, mdevCreateChange, mdevDevicePath, mdevRecreateChange, mdevTypePath, numVfsChange, unbindChange, type ChangeCommands } from './provisionCommands.js';
import { ProvisioningError } from './ProvisioningError.js';
import { findMdevVfioNodes, findVfioNodes, type VfioNodes } from './vfioNodes.js';

export interface DeviceProvisionerOptions {
  /** Default /sys; a fake tree in tests. */
  readonly sysfsRoot?: string;
  /** Default /dev; a fake tree in tests. */
  readonly devRoot?: string;
  /** The controller's identity; default read from this machine. */
  readonly controllerIdentity?: MachineIdentity;
}

export interface ProvisionedVf {
  readonly pf: string;
  readonly vf: string;
  readonly driver: string;
  readonly group: IommuGroup;
  readonly nodes: VfioNodes;
  readonly migration: DeviceMigrationHint;
}

export interface ProvisionedMdev {
  readonly uuid: string;
  readonly parent: string;
  readonly type: string;
  /** False when the mdev was there already (then it is left there too). */
  readonly isCreated: boolean;
  readonly nodes: VfioNodes;
}

/**
 * Changes a host's devices for a run: SR-IOV VFs, driver binding, mediated devices. Every change
 * goes through the host's undo journal with its exact undo before it is made (design.md §4), so
 * teardown, or the next preflight after a crash, puts each device back: newest first (bindings
 * before VF counts, a created mdev removed).
 * open() refuses the machine the harness runs on unless hosts.<name>.allowLocalDevices is set.
 */
export class DeviceProvisioner {
  private readonly sysfsRoot: string;

  private constructor(
    private readonly runner: CommandRunner,
    private readonly journal: UndoJournal,
    readonly access: DeviceAccess,
    private readonly options: DeviceProvisionerOptions,
  ) {
    this.sysfsRoot = checkSysfsRoot(options.sysfsRoot ?? DEFAULT_SYSFS_ROOT);
  }

  static async open(runner: CommandRunner, journal: UndoJournal, host: Pick<HostSpec, 'name' | 'allowLocalDevices'>, options: DeviceProvisionerOptions = {}): Promise<DeviceProvisioner> {
    const access = await checkDeviceAccess(host, runner, options.controllerIdentity);
    if (!access.mayChangeDevices) {
      throw new ProvisioningError('PROVISION_REFUSED_LOCAL', `Refusing to provision devices: ${access.reason}`, { data: { host: host.name, where: runner.where } });
    }
    return new DeviceProvisioner(runner, journal, access, options);
  }

  readFunction(address: string): Promise<PciFunctionState> {
    return readPciFunction(this.runner, address, this.sysfsRoot);
  }

  async listVfs(pf: string): Promise<string[]> {
    return [...(await this.readFunction(pf)).vfs];
  }

  /**
   * Makes the PF have exactly `numVfs` VFs (0 first, then N); returns them in virtfn order. A PF
   * that has them already is left alone: rewriting the count would tear down VFs in use (a second
   * NIC of the lab file on the same PF, or a VF a VM holds).
   */
  async createVfs(pf: string, numVfs: number, options: { readonly isAutoprobe?: boolean; readonly expectPfDriver?: string } = {}): Promise<string[]> {
    const state = await this.readFunction(pf);
    const where = `${pf} on ${this.runner.where}`;
    if (state.sriovTotalVfs === null || state.sriovNumVfs === null) this.precondition(`${where} is not an SR-IOV PF (no sriov_totalvfs)`);
    if (!Number.isInteger(numVfs) || numVfs < 0 || numVfs > state.sriovTotalVfs!) this.precondition(`${where} supports ${state.sriovTotalVfs} VFs, asked for ${numVfs}`);
    if (state.driver === null) this.precondition(`PF ${where} has no driver bound: SR-IOV needs the PF's own driver (e.g. mlx5_core, igb); bind it first`);
    if (options.expectPfDriver !== undefined && state.driver !== options.expectPfDriver) this.precondition(`PF ${where} is bound to ${state.driver}, the lab file says ${options.expectPfDriver}`);
    if (state.sriovNumVfs === numVfs && numVfs > 0) return [...state.vfs];
    if (options.isAutoprobe !== undefined && state.isSriovDriversAutoprobe !== null && state.isSriovDriversAutoprobe !== options.isAutoprobe) {
      await this.change(autoprobeChange(this.sysfsRoot, pf, { from: state.isSriovDriversAutoprobe, to: options.isAutoprobe }));
    }
    const entry = await this.change(numVfsChange(this.sysfsRoot, pf, { from: state.sriovNumVfs!, to: numVfs }));
    const vfs = await this.listVfs(pf);
    if (vfs.length !== numVfs) await this.failVerify(entry, `${where} has ${vfs.length} VFs after writing ${numVfs} to sriov_numvfs`);
    return vfs;
  }

  /** sriov_drivers_autoprobe=0 keeps new VFs away from their host driver (they come up unbound). */
  async setDriversAutoprobe(pf: string, isOn: boolean): Promise<void> {
    const state = await this.readFunction(pf);
    if (state.isSriovDriversAutoprobe === null) this.precondition(`${pf} on ${this.runner.where} has no sriov_drivers_autoprobe`);
    if (state.isSriovDriversAutoprobe !== isOn) await this.change(autoprobeChange(this.sysfsRoot, pf, { from: state.isSriovDriversAutoprobe!, to: isOn }));
  }

  /** Binds a function to vfio-pci or a variant driver: unbind, driver_override, drivers_probe; checked. */
  async bind(address: string, driver: string): Promise<void> {
    checkDriverName(driver);
    const state = await this.readFunction(address);
    if (state.driver === driver) return;
    const loaded = await runRead(this.runner, sh`if [ -d ${pciDriverPath(this.sysfsRoot, driver)} ]; then echo loaded; fi`, `check that driver ${driver} is loaded`);
    if (loaded.stdout.trim() !== 'loaded') this.precondition(`driver ${driver} is not loaded on ${this.runner.where}: load its module first (modprobe ${driver.replace(/-/g, '_')})`);
    const entry = await this.change(bindChange(this.sysfsRoot, address, { driver: state.driver, driverOverride: state.driverOverride }, driver));
    const after = await this.readFunction(address);
    if (after.driver !== driver) await this.failVerify(entry, `${address} on ${this.runner.where} is bound to ${after.driver ?? 'no driver'} after driver_override + drivers_probe, expected ${driver}`);
  }

  async unbind(address: string): Promise<void> {
    const state = await this.readFunction(address);
    if (state.driver === null) return;
    const entry = await this.change(unbindChange(this.sysfsRoot, address, { driver: state.driver, driverOverride: state.driverOverride }));
    const after = await this.readFunction(address);
    if (after.driver !== null) await this.failVerify(entry, `${address} on ${this.runner.where} is still bound to ${after.driver} after unbind`);
  }

  /**
   * A lab.yaml VF NIC made ready for QEMU: VFs created, the chosen VF's IOMMU group checked,
   * the VF bound to its VFIO driver, its device nodes found. The VF goes back to the driver it
   * had (then the VF count to what it was) when the journal is replayed.
   */
  async provisionVf(nic: VfNicSpec): Promise<ProvisionedVf> {
    // Autoprobe off: the VFs come up unbound, so the host's VF driver never holds the one VFIO gets
    // (and some, like igbvf here, offer no unbind in sysfs to take it back).
    const vfs = await this.createVfs(nic.pf, nic.numVfs, { expectPfDriver: nic.pfDriver, isAutoprobe: false });
    const vf = vfs[nic.vfIndex];
    if (vf === undefined) this.precondition(`${nic.name}: PF ${nic.pf} has ${vfs.length} VFs, there is no vfIndex ${nic.vfIndex}`);
    const group = await readIommuGroup(this.runner, vf!, this.sysfsRoot);
    if (group === null) this.precondition(`${vf} on ${this.runner.where} has no IOMMU group: the IOMMU is off (boot with intel_iommu=on or amd_iommu=on)`);
    const viability = groupViability(group!, vf!);
    if (!viability.isViable) throw new ProvisioningError('IOMMU_GROUP_NOT_VIABLE', viability.reason, { data: { where: this.runner.where, vf, group: group!.group, blockers: viability.blockers } });
    await this.bind(vf!, nic.vfioDriver);
    const nodes = await findVfioNodes(this.runner, vf!, { sysfsRoot: this.sysfsRoot, ...(this.options.devRoot !== undefined ? { devRoot: this.options.devRoot } : {}) });
    return { pf: nic.pf, vf: vf!, driver: nic.vfioDriver, group: group!, nodes, migration: deviceMigrationHint(nic.vfioDriver) };
  }

  /**
   * A lab.yaml mdev NIC made ready for QEMU: created from its parent's type unless it exists
   * (an existing one must be of that type, and is left in place afterwards); removed again when
   * the journal is replayed.
   */
  async provisionMdev(nic: MdevNicSpec): Promise<ProvisionedMdev> {
    const device = mdevDevicePath(this.sysfsRoot, nic.uuid);
    const typeDir = mdevTypePath(this.sysfsRoot, nic.parent, nic.type);
    const where = `${nic.name} on ${this.runner.where}`;
    const state = (await runRead(this.runner, [
      sh`d=${device}; t=${typeDir}; p=${`${this.sysfsRoot}/class/mdev_bus/${nic.parent}`}`,
      'if [ -e "$d" ]; then l=$(readlink "$d/mdev_type"); echo "exists ${l##*/}"; fi',
      'if [ -d "$p" ]; then echo parent; for x in "$p"/mdev_supported_types/*; do [ -e "$x" ] && echo "type ${x##*/}"; done; fi',
      'if [ -r "$t/available_instances" ]; then echo "available $(cat "$t/available_instances")"; fi',
    ].join('\n'), `read mdev ${nic.uuid}`)).stdout;
    const existing = /^exists (\S*)$/m.exec(state);
    let isCreated = false;
    if (existing !== null) {
      if (existing[1] !== nic.type) this.precondition(`${where}: mdev ${nic.uuid} exists with type ${existing[1] || '(unknown)'}, the lab file says ${nic.type}; remove it or change the lab file`);
    } else {
      if (!/^parent$/m.test(state)) this.precondition(`${where}: no mdev parent ${nic.parent} under /sys/class/mdev_bus (load its driver, e.g. modprobe mtty)`);
      const types = [...state.matchAll(/^type (\S+)$/gm)].map((m) => m[1]!);
      if (!types.includes(nic.type)) this.precondition(`${where}: mdev parent ${nic.parent} has no type ${nic.type}; it offers ${types.join(', ') || 'none'}`);
      const available = /^available (\d+)$/m.exec(state);
      if (available !== null && Number(available[1]) === 0) this.precondition(`${where}: mdev type ${nic.parent} ${nic.type} has no available instances left (remove an unused mdev under /sys/bus/mdev/devices)`);
      const entry = await this.change(mdevCreateChange(this.sysfsRoot, nic.parent, nic.type, nic.uuid));
      if (!(await this.isMdevPresent(nic.uuid))) await this.failVerify(entry, `${where}: mdev ${nic.uuid} is absent after writing it to ${typeDir}/create`);
      isCreated = true;
    }
    const nodes = await findMdevVfioNodes(this.runner, nic.uuid, { sysfsRoot: this.sysfsRoot, ...(this.options.devRoot !== undefined ? { devRoot: this.options.devRoot } : {}) });
    return { uuid: nic.uuid, parent: nic.parent, type: nic.type, isCreated, nodes };
  }

  /**
   * Gives a VM a fresh mdev: removed and created again. mtty (Linux 6.12) keeps its migration state
   * across close and open and QEMU cannot reset it ("no available reset mechanism"), so an mdev
   * left in RESUMING by a cancelled or killed destination makes the next destination's RESUMING
   * request a no-op without a data fd, and its load fails with EBADF.
   */
  async refreshMdev(nic: MdevNicSpec): Promise<void> {
    const entry = await this.change(mdevRecreateChange(this.sysfsRoot, nic.parent, nic.type, nic.uuid));
    if (!(await this.isMdevPresent(nic.uuid))) await this.failVerify(entry, `${nic.name} on ${this.runner.where}: mdev ${nic.uuid} is absent after re-creating it`);
  }

  private async isMdevPresent(uuid: string): Promise<boolean> {
    const result = await runRead(this.runner, sh`if [ -e ${mdevDevicePath(this.sysfsRoot, uuid)} ]; then echo present; fi`, `check mdev ${uuid}`);
    return result.stdout.trim() === 'present';
  }

  private async change(commands: ChangeCommands): Promise<UndoJournalEntry> {
    return (await this.journal.change(commands.description, commands.doCommand, commands.undoCommand)).entry;
  }

  /** The change "worked" but the device is not as asked: undo it now, then fail saying so. */
  private async failVerify(entry: UndoJournalEntry, message: string): Promise<never> {
    let aftermath = 'The change was undone.';
    try {
      await this.journal.undo(entry);
    } catch (error) {
      aftermath = `Undoing it failed too (${errorMessage(error)}); it stays in the journal for the next replay.`;
    }
    throw new ProvisioningError('PROVISION_VERIFY_FAILED', `${message}. ${aftermath}`, { data: { where: this.runner.where, entry: entry.id } });
  }

  private precondition(message: string): never {
    throw new ProvisioningError('PROVISION_PRECONDITION', message, { data: { where: this.runner.where } });
  }
}
