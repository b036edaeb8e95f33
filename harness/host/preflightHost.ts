import { identityOf } from '../config/buildPlan.js';
import type { GuestImageSpec, HostSpec, LabConfig } from '../config/types.js';
import { causeChain, errorMessage } from '../errors.js';
import type { CommandRunner } from '../runner.js';
import { sh } from '../shell.js';
import { deriveCapabilities, type CapabilityVerdict } from './capabilities.js';
import { factsScript } from './factsScript.js';
import type { HostFacts } from './HostFacts.js';
import { execClockReader, measureClockOffset, type ClockReader } from './measureClockOffset.js';
import { compareVersions, parseFacts } from './parseFacts.js';

export interface PreflightCheck {
  readonly name: string;
  readonly isOk: boolean;
  /** What was seen; when not ok, what is wrong and what to do. */
  readonly detail: string;
}

export interface HostPreflight {
  readonly host: string;
  readonly where: string;
  readonly isReachable: boolean;
  readonly facts: HostFacts | null;
  readonly capabilities: readonly CapabilityVerdict[];
  readonly checks: readonly PreflightCheck[];
  /** Cause chain when the host could not be read at all. */
  readonly error: readonly string[] | null;
  readonly durationMs: number;
}

/** Reads one host's facts over its runner and checks what the lab file says it must have. */
export async function preflightHost(lab: LabConfig, host: HostSpec, runner: CommandRunner, openClock: () => Promise<ClockReader> = async () => execClockReader(runner)): Promise<HostPreflight> {
  const startedAt = Date.now();
  const qemu = lab.qemu[host.qemu];
  const qemuBinary = qemu?.binary ?? '/nonexistent';
  let facts: HostFacts;
  try {
    const workDirResult = await runner.run(sh`mkdir -p -m 0700 ${host.workDir} && test -w ${host.workDir}`, { timeoutMs: lab.defaults.timeouts.commandMs });
    const result = await runner.run(factsScript(qemuBinary, host.workDir), { timeoutMs: lab.defaults.timeouts.commandMs });
    const reader = await openClock();
    const clock = await measureClockOffset(reader).finally(() => reader.close());
    facts = parseFacts(host.name, qemuBinary, result.stdout, clock, qemu === undefined ? { kind: 'binary', name: host.qemu } : identityOf(qemu));
    const checks = hostChecks(lab, host, facts, workDirResult.exitCode === 0);
    return {
      host: host.name, where: runner.where, isReachable: true, facts,
      capabilities: deriveCapabilities(host, facts), checks, error: null, durationMs: Date.now() - startedAt,
    };
  } catch (error) {
    return {
      host: host.name, where: runner.where, isReachable: false, facts: null, capabilities: [],
      checks: [{ name: 'reachable', isOk: false, detail: errorMessage(error) }], error: causeChain(error), durationMs: Date.now() - startedAt,
    };
  }
}

function hostChecks(lab: LabConfig, host: HostSpec, facts: HostFacts, isWorkDirWritable: boolean): PreflightCheck[] {
  const checks: PreflightCheck[] = [];
  const check = (name: string, isOk: boolean, ok: string, notOk: string): void => {
    checks.push({ name, isOk, detail: isOk ? ok : notOk });
  };
  check('reachable', true, `SSH to ${host.user}@${host.address}:${host.port}`, '');
  check('workDir', isWorkDirWritable, `${host.workDir} writable`, `cannot create or write ${host.workDir} on ${host.name}: check hosts.${host.name}.workDir`);
  const qemu = lab.qemu[host.qemu];
  const version = facts.qemu.version;
  check('qemu', facts.qemu.isPresent, `${facts.qemu.binary} ${version ?? '?'}`,
    `QEMU not found at ${facts.qemu.binary} on ${host.name}: install it or fix qemu.${host.qemu}.binary`);
  const identity = facts.qemu.identity;
  if (identity.kind === 'source' && facts.qemu.isPresent) {
    // The version line carries the build's short identity (--with-pkgversion): a stale copy shows.
    check('qemu.identity', facts.qemu.versionLine?.includes(identity.pkgVersion) === true, identity.pkgVersion,
      `${facts.qemu.binary} on ${host.name} says "${facts.qemu.versionLine}", not the build qemu.${host.qemu} describes (${identity.pkgVersion}): run \`hil qemu build ${host.qemu}\` and let hil run install it`);
  }
  if (qemu?.minVersion !== undefined && version !== null) {
    check('qemu.minVersion', compareVersions(version, qemu.minVersion) >= 0, `${version} >= ${qemu.minVersion}`,
      `QEMU ${version} on ${host.name} is older than qemu.${host.qemu}.minVersion ${qemu.minVersion}`);
  }
  for (const nic of host.nics) {
    if (nic.kind === 'emulated') {
      const tap = facts.netdevs.find((n) => n.name === nic.tap);
      check(`nic.${nic.name}`, tap !== undefined, `tap ${nic.tap} present`, `tap ${nic.tap} for NIC ${nic.name} does not exist on ${host.name}${lab.kind === 'virtual' ? ': run `hil lab up`' : ''}`);
    } else if (nic.kind === 'vf') {
      const pf = facts.pciFunctions.find((f) => f.address === nic.pf);
      check(`nic.${nic.name}`, pf !== undefined && (pf.sriovTotalVfs ?? 0) >= nic.numVfs,
        `PF ${nic.pf} (${pf?.driver ?? 'no driver'}) supports ${pf?.sriovTotalVfs} VFs`,
        pf === undefined ? `PF ${nic.pf} for NIC ${nic.name} not found on ${host.name}` : `PF ${nic.pf} supports ${pf.sriovTotalVfs ?? 0} VFs, lab.yaml asks for ${nic.numVfs}`);
    } else {
      check(`nic.${nic.name}`, facts.mdevParents.includes(nic.parent), `mdev parent ${nic.parent} present`,
        `mdev parent ${nic.parent} for NIC ${nic.name} not found on ${host.name} (load its driver, e.g. mtty)`);
    }
  }
  const neededMiB = Math.max(...Object.values(lab.guests).map((g: GuestImageSpec) => g.memoryMiB), 0) * 2;
  check('memory', facts.memAvailableMiB >= neededMiB, `${facts.memAvailableMiB} MiB available`,
    `${facts.memAvailableMiB} MiB available on ${host.name}, a guest needs ${neededMiB / 2} MiB (twice that to be safe)`);
  check('clock', facts.clock.uncertaintyMs < 50, `offset ${facts.clock.offsetMs} ms ± ${facts.clock.uncertaintyMs} ms`,
    `clock offset uncertain by ${facts.clock.uncertaintyMs} ms: pauseWindowMs will be imprecise`);
  return checks;
}
