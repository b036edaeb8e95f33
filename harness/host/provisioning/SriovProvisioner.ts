import { errorMessage } from '../../errors.js';
import type { HostSpec, VfNicSpec } from '../../config/types.js';
import type { CommandRunner } from '../../runner.js';
import { sh } from '../../shell.js';
import type { UndoJournal } from '../UndoJournal.js';
import type { UndoJournalEntry } from '../UndoJournalEntry.js';
import { checkDeviceAccess, type DeviceAccess, type MachineIdentity } from './deviceAccess.js';
import { groupViability, readIommuGroup, type IommuGroup } from './iommuGroup.js';
import { deviceMigrationHint, type DeviceMigrationHint } from './migrationSupport.js';
import { checkDriverName, checkSysfsRoot, DEFAULT_SYSFS_ROOT, pciDriverPath, readPciFunction, runRead, type PciFunctionState } from './pciSysfs.js';
import { autoprobeChange, bindChange, numVfsChange, unbindChange, type ChangeCommands } from './provisionCommands.js';
import { ProvisioningError } from './ProvisioningError.js';
import { findVfioNodes, type VfioNodes } from './vfioNodes.js';

export interface SriovProvisionerOptions {
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

/**
 * Changes a host's PCI devices for a run: SR-IOV VFs, driver binding. Every change goes through
 * the host's undo journal with its exact undo before it is made (design.md §4), so teardown, or
 * the next preflight after a crash, puts each device back: bindings first, then VF counts.
 * open() refuses the machine the harness runs on unless hosts.<name>.allowLocalDevices is set.
 */
export class SriovProvisioner {
  private readonly sysfsRoot: string;

  private constructor(
    private readonly runner: CommandRunner,
    private readonly journal: UndoJournal,
    readonly access: DeviceAccess,
    private readonly options: SriovProvisionerOptions,
  ) {
    this.sysfsRoot = checkSysfsRoot(options.sysfsRoot ?? DEFAULT_SYSFS_ROOT);
  }

  static async open(runner: CommandRunner, journal: UndoJournal, host: Pick<HostSpec, 'name' | 'allowLocalDevices'>, options: SriovProvisionerOptions = {}): Promise<SriovProvisioner> {
    const access = await checkDeviceAccess(host, runner, options.controllerIdentity);
    if (!access.mayChangeDevices) {
      throw new ProvisioningError('PROVISION_REFUSED_LOCAL', `Refusing to provision devices: ${access.reason}`, { data: { host: host.name, where: runner.where } });
    }
    return new SriovProvisioner(runner, journal, access, options);
  }

  readFunction(address: string): Promise<PciFunctionState> {
    return readPciFunction(this.runner, address, this.sysfsRoot);
  }

  async listVfs(pf: string): Promise<string[]> {
    return [...(await this.readFunction(pf)).vfs];
  }

  /** Makes the PF have exactly `numVfs` VFs (0 first, then N); returns them in virtfn order. */
  async createVfs(pf: string, numVfs: number, options: { readonly isAutoprobe?: boolean; readonly expectPfDriver?: string } = {}): Promise<string[]> {
    const state = await this.readFunction(pf);
    const where = `${pf} on ${this.runner.where}`;
    if (state.sriovTotalVfs === null || state.sriovNumVfs === null) this.precondition(`${where} is not an SR-IOV PF (no sriov_totalvfs)`);
    if (!Number.isInteger(numVfs) || numVfs < 0 || numVfs > state.sriovTotalVfs!) this.precondition(`${where} supports ${state.sriovTotalVfs} VFs, asked for ${numVfs}`);
    if (state.driver === null) this.precondition(`PF ${where} has no driver bound: SR-IOV needs the PF's own driver (e.g. mlx5_core, igb); bind it first`);
    if (options.expectPfDriver !== undefined && state.driver !== options.expectPfDriver) this.precondition(`PF ${where} is bound to ${state.driver}, the lab file says ${options.expectPfDriver}`);
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
