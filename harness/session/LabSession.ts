import { writeFileSync } from 'node:fs';
import type { Environment } from '../config/environment.js';
import type { HostPairSpec, HostSpec, LabConfig, MdevNicSpec, VfNicSpec } from '../config/types.js';
import { sshConsoleArgv } from '../console/sshConsoleArgv.js';
import { errorMessage, InfrastructureError } from '../errors.js';
import { acquirePair, type HostLeasePair } from '../host/HostLeasePair.js';
import { HostLease } from '../host/HostLease.js';
import { leaseHolder } from '../host/HostLeaseRecord.js';
import { UndoJournal } from '../host/UndoJournal.js';
import { TeardownStack } from '../teardown.js';
import type { Capability, CapabilityVerdict } from '../host/capabilities.js';
import { HostConnections, type SshDrop } from '../host/HostConnections.js';
import { DeviceProvisioner, type ProvisionedMdev, type ProvisionedVf } from '../host/provisioning/DeviceProvisioner.js';
import { preflightLab, type LabPreflight } from '../host/preflightLab.js';
import type { HostPreflight } from '../host/preflightHost.js';
import { runChecked } from '../LocalRunner.js';
import type { CommandRunner } from '../runner.js';
import { ProbeStream } from '../measure/ProbeStream.js';
import { Migration } from '../migration/Migration.js';
import type { MigrationObserver } from '../migration/MigrationObserver.js';
import type { MigrationRecord } from '../migration/MigrationRecord.js';
import { PhaseHookError, type PhaseHook } from '../migration/PhaseHook.js';
import { QemuProcess } from '../qemu/QemuProcess.js';
import type { VmNic } from '../qemu/VmSpec.js';
import { vmName } from '../qemu/vmName.js';
import { sh } from '../shell.js';
import { detectLabAbilities, isLabCapability, type LabAbilities, type LabCapability } from './labCapabilities.js';
import { diagnoseGuestFailure } from './diagnosis/diagnoseGuestFailure.js';
import { inLabSetup } from './diagnosis/inLabSetup.js';
import type { FailurePhase } from '../report/Diagnosis.js';
import { LabVm } from './LabVm.js';
import type { LinkControl } from '../host/LinkControl.js';
import type { TestScope } from './TestScope.js';
import type { LaunchOptions } from './LaunchOptions.js';
import { withViommuDefaults, vmSpecFor } from './vmSpecFor.js';
import { parseTraceReadOutput, traceReadCommand, type TraceFileRead } from '../qemu/TraceFileRead.js';

export interface SessionOpenOptions {
  readonly lab: LabConfig;
  readonly environment: Environment;
  readonly runId: string;
  readonly runDir: string;
  readonly pairName?: string;
  /** How long to wait for a pair another run holds; 0 = fail at once naming the holder. */
  readonly leaseWaitMs?: number;
  readonly onWarning?: (message: string) => void;
}

/** QEMU's sockets, logs and pid files: a private folder in the host's workDir. */
function vmDir(host: HostSpec): string {
  return `${host.workDir}/vm`;
}

/** A lab.yaml VFIO NIC made ready on a host by this run's provisioning. */
export type ProvisionedDevice =
  | { readonly kind: 'vf'; readonly vf: ProvisionedVf }
  | { readonly kind: 'mdev'; readonly mdev: ProvisionedMdev };

export interface MigrateOptions {
  readonly hooks?: readonly PhaseHook[];
  readonly probe?: ProbeStream;
  readonly labels?: Readonly<Record<string, string>>;
  readonly downtimeLimitMs?: number;
  readonly maxBandwidthBytesPerSec?: number;
  /** 0: QEMU plans the switchover with its own estimate, whatever the lab file says. */
  readonly switchoverBandwidthBytesPerSec?: number;
  readonly timeoutMs?: number;
  /** QEMU ≥ 9.1: keep the destination up after a failed load, to read its error (brief §7 D3). */
  readonly destinationExitOnError?: boolean;
  /** More migration capabilities on both ends (e.g. postcopy-ram for admission case A10). */
  readonly extraCapabilities?: Readonly<Record<string, boolean>>;
  readonly isSwitchoverAckWanted?: boolean;
}

/**
 * One run's hold on a host pair (design.md §2): connections, the preflight done once, and the
 * means for suites to launch VMs, probe the guest and migrate it. Everything a test starts is
 * undone by that test's scope.
 */
export class LabSession {
  private migrationCount = 0;
  /** Per host and NIC: provisioned once per run, undone by the journal replay at close. */
  private readonly provisioned = new Map<string, Promise<ProvisionedDevice>>();
  private readonly provisioners = new Map<string, Promise<DeviceProvisioner>>();
  /** "<host> <uuid>" of mdevs a VM of this run has had: the next VM gets them re-created. */
  private readonly usedMdevs = new Set<string>();
  /** Watches each migration as it goes (the terminal progress of `hil run`); null: nobody. */
  migrationObserver: MigrationObserver | null = null;

  private constructor(
    readonly lab: LabConfig,
    readonly pair: HostPairSpec,
    readonly runId: string,
    readonly runDir: string,
    readonly preflight: LabPreflight,
    private readonly connections: HostConnections,
    private readonly abilities: LabAbilities,
    private readonly leases: HostLeasePair,
    private readonly journals: ReadonlyMap<string, UndoJournal>,
  ) {}

  /**
   * Leases the pair (both hosts or neither), replays journals a dead run left, preflights both
   * hosts, and opens an undo journal on each for what this run starts there.
   */
  static async open(options: SessionOpenOptions): Promise<LabSession> {
    const { lab } = options;
    const pair = options.pairName === undefined ? lab.pairs[0] : lab.pairs.find((p) => p.name === options.pairName);
    if (pair === undefined) {
      throw new InfrastructureError('LAB_NO_PAIR', `${lab.file} has no host pair${options.pairName === undefined ? '' : ` named "${options.pairName}"`}; pairs: ${lab.pairs.map((p) => p.name).join(', ') || 'none'}`);
    }
    const connections = new HostConnections(lab, options.environment);
    const teardown = new TeardownStack(`opening a session on ${pair.name}`);
    teardown.push('close SSH connections', () => connections.closeAll());
    try {
      const hosts = [lab.hosts[pair.source]!, lab.hosts[pair.destination]!];
      const transports = await Promise.all(hosts.map((h) => connections.open(h)));
      const leaseOf = (i: number) => new HostLease(transports[i]!, { host: hosts[i]!.name, workDir: hosts[i]!.workDir, holder: leaseHolder(options.runId), ...(options.onWarning !== undefined ? { onWarning: options.onWarning } : {}) });
      const leases = await acquirePair(leaseOf(0), leaseOf(1), { waitMs: options.leaseWaitMs ?? 0 });
      teardown.push('release the pair lease', () => leases.release());
      const preflight = await preflightLab(lab, connections, [pair.source, pair.destination], { replayLeftoverJournals: true });
      if (!preflight.isReady) {
        const failed = preflight.hosts.flatMap((h) => h.checks.filter((c) => !c.isOk).map((c) => `${h.host}: ${c.name}: ${c.detail}`));
        throw new InfrastructureError('LAB_NOT_READY', `Preflight of pair ${pair.name} failed:\n  ${failed.join('\n  ')}`, { data: { failed } });
      }
      const journals = new Map(hosts.map((h, i) => [h.name, new UndoJournal(transports[i]!, { workDir: h.workDir, runId: options.runId, commandTimeoutMs: lab.defaults.timeouts.commandMs })]));
      return new LabSession(lab, pair, options.runId, options.runDir, preflight, connections, await detectLabAbilities(lab), leases, journals);
    } catch (error) {
      // Whatever was taken is given back; the error that stopped the opening is the one to see.
      await teardown.run().catch((teardownError: unknown) => options.onWarning?.(errorMessage(teardownError)));
      throw error;
    }
  }

  host(name: string): HostSpec {
    const host = this.lab.hosts[name];
    if (host === undefined) throw new InfrastructureError('LAB_NO_HOST', `No host "${name}" in ${this.lab.file}`);
    return host;
  }

  /** Commands on a host of the pair, over the session's SSH connection (opened on first use). */
  hostRunner(name: string): CommandRunner {
    const host = this.host(name);
    return { where: `${host.user}@${host.address}:${host.port}`, run: async (command, options) => (await this.connections.open(host)).run(command, options) };
  }

  /** SSH connections to the pair that dropped during this run, oldest first. */
  get sshDrops(): readonly SshDrop[] {
    return this.connections.drops;
  }

  hostPreflight(name: string): HostPreflight {
    return this.preflight.hosts.find((h) => h.host === name)!;
  }

  /** Why the pair cannot run a test needing these capabilities, or null when both hosts (and the lab) have them. */
  missingCapabilities(needed: readonly (Capability | LabCapability)[]): string | null {
    const missing: string[] = [];
    for (const capability of needed.filter(isLabCapability)) {
      const verdict = this.abilities.verdicts.find((v) => v.capability === capability);
      if (verdict?.isPresent !== true) missing.push(`${capability} (${verdict?.reason ?? 'unknown'})`);
    }
    for (const host of [this.pair.source, this.pair.destination]) {
      for (const capability of needed.filter((c): c is Capability => !isLabCapability(c))) {
        const verdict: CapabilityVerdict | undefined = this.hostPreflight(host).capabilities.find((c) => c.capability === capability);
        if (verdict?.isPresent !== true) missing.push(`${capability} on ${host} (${verdict?.reason ?? 'unknown'})`);
      }
    }
    return missing.length === 0 ? null : `missing capability: ${missing.join('; ')}`;
  }

  private hasCapability(hostName: string, capability: Capability): boolean {
    return this.hostPreflight(hostName).capabilities.find((v) => v.capability === capability)?.isPresent === true;
  }

  /** The lab's control over the link between hosts, when it has one (capability link-control). */
  get linkControl(): LinkControl | null {
    return this.abilities.linkControl;
  }

  /**
   * The NIC's device made ready on a host of the pair (design.md §4): VFs created and the VF bound
   * to its VFIO driver, or the mdev created; each change journaled before it is made, so the
   * session's close (or the next preflight after a crash) undoes it. Done once per run and NIC;
   * what is already as asked is left untouched. Fails with a ProvisioningError (ERROR, the lab's
   * fault) naming the host and what to do.
   */
  provisionDevice(hostName: string, nic: VfNicSpec | MdevNicSpec): Promise<ProvisionedDevice> {
    const key = `${hostName}\u0000${nic.name}`;
    let pending = this.provisioned.get(key);
    if (pending === undefined) {
      pending = (async (): Promise<ProvisionedDevice> => {
        const provisioner = await this.provisionerFor(hostName);
        return nic.kind === 'vf' ? { kind: 'vf', vf: await provisioner.provisionVf(nic) } : { kind: 'mdev', mdev: await provisioner.provisionMdev(nic) };
      })();
      // A failure is not remembered: the next test asks again (and fails again, with the same words).
      pending.catch(() => this.provisioned.delete(key));
      this.provisioned.set(key, pending);
    }
    return pending;
  }

  private provisionerFor(hostName: string): Promise<DeviceProvisioner> {
    let provisioner = this.provisioners.get(hostName);
    if (provisioner === undefined) {
      provisioner = DeviceProvisioner.open(this.hostRunner(hostName), this.journals.get(hostName)!, this.host(hostName));
      provisioner.catch(() => this.provisioners.delete(hostName));
      this.provisioners.set(hostName, provisioner);
    }
    return provisioner;
  }

  /** The VM's trace file as it is now ("" when QEMU wrote none yet), at most the last 16 MiB. */
  async readTrace(vm: LabVm): Promise<string> {
    const read = await this.readTraceFile(vm);
    return read.kind === 'missing' ? '' : read.text;
  }

  /** The VM's trace file, saying whether it exists, its size, and whether only its tail was read. */
  async readTraceFile(vm: LabVm): Promise<TraceFileRead> {
    const transport = await this.connections.open(vm.host);
    const file = vm.process.files.traceLog;
    return parseTraceReadOutput(file, (await runChecked(transport, traceReadCommand(file))).stdout);
  }

  async launchVm(scope: TestScope, options: LaunchOptions): Promise<LabVm> {
    const host = this.host(options.host);
    const guest = this.lab.guests[options.guest ?? 'default'];
    if (guest === undefined || guest.kernel === undefined) throw new InfrastructureError('LAB_NO_GUEST', `No kernel-booted guest "${options.guest ?? 'default'}" in ${this.lab.file}`);
    const transport = await this.connections.open(host);
    const name = vmName(this.runId, options.role);
    // A host with usable KVM runs its guests with it: the nested lab's L2 boots in ~20 s under KVM
    // and takes minutes under TCG inside TCG (design.md §5); the virtual lab has no usable KVM.
    const accelerator = this.hasCapability(host.name, 'kvm') ? 'kvm' as const : 'tcg' as const;
    const extraArgs = [...(options.extraArgs ?? []), ...(options.deviceUnderTestArgs ?? [])];
    const requested = vmSpecFor({ ...options, extraArgs, name, host, vmDir: vmDir(host), guest, accelerator, boot: await inLabSetup(scope, `copying the guest's kernel and initrd to ${host.name}`, () => this.guestFilesOn(host, guest.kernel!, guest.initrd)) });
    const spec = withViommuDefaults(requested, this.lab.defaults.viommu);
    const qemu = this.lab.qemu[host.qemu]!;
    const process = new QemuProcess(spec, { runner: transport, sockets: transport, binary: qemu.binary, workDir: vmDir(host) });
    const transcript = scope.artifactPath(`${options.role}.console.log`, 'console', `serial console transcript of ${name}`);
    const diagnoser = (failed: LabVm, phase: FailurePhase, error: unknown) =>
      diagnoseGuestFailure({ scope, launch: options, bootTimeoutMs: this.lab.defaults.timeouts.bootMs, launchVm: (s, o) => this.launchVm(s, o) }, failed, phase, error);
    const vm = new LabVm(host, options.role, process, sshConsoleArgv(host, spec.serialSocket, (n) => this.lab.hosts[n]), transcript, diagnoser);
    scope.teardown.push(`collect logs of ${name}`, () => this.collectLogs(scope, vm));
    // Stopping is safe to repeat, so after a dropped connection it reconnects rather than leave QEMU running.
    scope.teardown.push(`stop ${name}`, async () => { await this.connections.open(host); await vm.stop(); });
    // On the host before QEMU exists: a controller that dies from here on leaves a way to stop it.
    await inLabSetup(scope, `preparing ${host.name} for ${name}`, async () => {
      await runChecked(transport, sh`mkdir -p -m 0700 ${vmDir(host)} && chmod 0700 ${vmDir(host)}`);
      await this.freshMdevsFor(host, spec.nics);
      await this.journals.get(host.name)!.append(`QEMU ${name}`, process.undoCommand);
    });
    await process.start({ timeoutMs: this.lab.defaults.timeouts.bootMs });
    return vm;
  }

  /** Every mdev an earlier VM of this run had is re-created first (DeviceProvisioner.refreshMdev says why). */
  private async freshMdevsFor(host: HostSpec, nics: readonly VmNic[]): Promise<void> {
    for (const nic of nics) {
      if (nic.kind !== 'mdev') continue;
      const key = `${host.name} ${nic.uuid}`;
      const spec = host.nics.find((n): n is MdevNicSpec => n.kind === 'mdev' && n.uuid === nic.uuid);
      if (this.usedMdevs.has(key) && spec !== undefined) await (await this.provisionerFor(host.name)).refreshMdev(spec);
      this.usedMdevs.add(key);
    }
  }

  /** Kernel and initrd as the host sees them: the same files on a single-machine lab, uploaded otherwise. */
  private async guestFilesOn(host: HostSpec, kernel: string, initrd: string | undefined): Promise<{ kernel: string; initrd?: string }> {
    if (this.lab.kind === 'virtual') return { kernel, ...(initrd !== undefined ? { initrd } : {}) };
    const transport = await this.connections.open(host);
    const upload = async (path: string): Promise<string> => {
      const remote = `${host.workDir}/images/${path.split('/').pop()!}`;
      await runChecked(transport, sh`mkdir -p -m 0700 ${host.workDir}/images`);
      await transport.put(path, remote, { mode: 0o600 });
      return remote;
    };
    return { kernel: await upload(kernel), ...(initrd !== undefined ? { initrd: await upload(initrd) } : {}) };
  }

  private async collectLogs(scope: TestScope, vm: LabVm): Promise<void> {
    const transport = await this.connections.open(vm.host);
    const files = vm.process.files;
    scope.writeArtifact(`${vm.role}.qemu.log`, 'qemu-log', `QEMU stdout/stderr of ${vm.name} on ${vm.host.name}`, await vm.process.readLog());
    for (const [file, kind, name] of [[files.serialLog, 'console', 'serial.log'], [files.traceLog, 'trace', 'trace.log']] as const) {
      const text = (await runChecked(transport, sh`if [ -f ${file} ]; then tail -c 4194304 ${file}; fi`)).stdout;
      if (text !== '') scope.writeArtifact(`${vm.role}.${name}`, kind, `${name} of ${vm.name} on ${vm.host.name}`, text);
    }
    // The host is left as it was found: the VM's files go once they are copied here.
    await runChecked(transport, sh`rm -f ${files.log} ${files.serialLog} ${files.traceLog}`);
  }

  /** A probe stream to the guest's echo responder, stopped by the test's teardown. */
  async startProbe(scope: TestScope, guestName = 'default', rateHz = this.lab.defaults.probe.rateHz): Promise<ProbeStream> {
    const guest = this.lab.guests[guestName]!;
    const probe = new ProbeStream({ address: guest.address, port: guest.echoPort }, rateHz);
    await probe.start();
    scope.teardown.push('stop probe stream', () => probe.stop());
    return probe;
  }

  async migrate(scope: TestScope, from: LabVm, to: LabVm, options: MigrateOptions = {}): Promise<MigrationRecord> {
    const id = `m${++this.migrationCount}`;
    const d = this.lab.defaults;
    const migration = new Migration(
      { host: from.host.name, vm: from.name, qmp: from.qmp, clockOffsetMs: this.hostPreflight(from.host.name).facts?.clock.offsetMs ?? 0 },
      { host: to.host.name, vm: to.name, qmp: to.qmp, clockOffsetMs: this.hostPreflight(to.host.name).facts?.clock.offsetMs ?? 0 },
      {
        id, listen: { address: to.host.migrationAddress, port: d.migration.port },
        downtimeLimitMs: options.downtimeLimitMs ?? d.migration.downtimeLimitMs,
        maxBandwidthBytesPerSec: options.maxBandwidthBytesPerSec ?? d.migration.maxBandwidthBytesPerSec,
        switchoverBandwidthBytesPerSec: options.switchoverBandwidthBytesPerSec ?? d.migration.switchoverBandwidthBytesPerSec ?? 0,
        timeoutMs: options.timeoutMs ?? d.timeouts.migrationMs, resumeTimeoutMs: d.timeouts.bootMs,
        ...(options.hooks !== undefined ? { hooks: options.hooks } : {}),
        ...(options.probe !== undefined ? { probe: options.probe } : {}),
        onSample: (sample) => this.migrationObserver?.migrationSample(id, sample),
        ...(options.destinationExitOnError !== undefined ? { destinationExitOnError: options.destinationExitOnError } : {}),
        ...(options.extraCapabilities !== undefined ? { extraCapabilities: options.extraCapabilities } : {}),
        ...(options.isSwitchoverAckWanted !== undefined ? { isSwitchoverAckWanted: options.isSwitchoverAckWanted } : {}),
      },
    );
    this.migrationObserver?.migrationStarted(id, `${from.host.name}→${to.host.name}`);
    // A failed or missed phase hook fails the test, after its record is kept like any other.
    const { record, hookError } = await migration.run().then(
      (finished) => ({ record: finished, hookError: null }),
      (error: unknown) => {
        if (!(error instanceof PhaseHookError)) throw error;
        return { record: error.record, hookError: error };
      },
    );
    this.migrationObserver?.migrationEnded(id, record.outcome);
    const recordName = `${id}.migration.json`;
    writeFileSync(scope.artifactPath(recordName, 'migration-record', `MigrationRecord ${id} ${from.host.name}→${to.host.name}`), JSON.stringify(record, null, 2), { mode: 0o600 });
    scope.migrations.push({
      id, direction: `${from.host.name}→${to.host.name}`, outcome: record.outcome, reason: record.reason,
      labels: { ...scope.labels, ...options.labels }, measurements: record.measurements, recordArtifact: `${scope.artifactsSubdir}/${recordName}`,
    });
    if (hookError !== null) throw hookError;
    return record;
  }

  /** Undoes what this run left on the hosts (journal), releases the lease, closes connections. */
  async close(): Promise<void> {
    const teardown = new TeardownStack(`session ${this.runId}`);
    teardown.push('close SSH connections', () => this.connections.closeAll());
    teardown.push('release the pair lease', () => this.leases.release());
    for (const [host, journal] of this.journals) teardown.push(`replay the undo journal of ${host}`, async () => { await journal.replay({ runId: this.runId }); });
    // Runs first (the stack unwinds): undo and release are safe to repeat, so a connection that
    // dropped during the run is reopened for them.
    teardown.push('reconnect dropped SSH connections', async () => { await Promise.all([this.pair.source, this.pair.destination].map((h) => this.connections.open(this.host(h)))); });
    await teardown.run();
  }
}
