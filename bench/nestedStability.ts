/**
 * How often the nested lab's L2 guests fail to boot, and how the L1 hosts fare while they do.
 * Boots the L2 guest the way the suites do (LabSession.launchVm, then the shell wait of
 * LabVm.waitForShell) again and again on each L1 of the pair, both L1s at once, per device set:
 *
 *   node dist/bench/nestedStability.js [BOOTS] [--config none,mtty,vf,viommu] [--soak MINUTES]
 *       [--max-minutes M] [--hosts host-a,host-b]
 *       [--on HOST] [--l1-tcg OPTIONS] [--l1-cpu MODEL] [--l1-cpus N] [--l1-param P]...
 *       [--l0 DIR:10|DIR:11]
 *
 * BOOTS (default 40) per configuration and L1; --soak instead cycles the configurations until the
 * minutes are up; --max-minutes starts no boot after M minutes (so a run fits a lab-lock hold).
 * The --l1-* options change one thing in the L1's QEMU line (L1Tuning) so each candidate cause is
 * measured on its own; after --on HOST they apply to that L1 only, so two candidates (or one and
 * a control) run side by side under the same load. --l0 runs the L1 on another L0 QEMU: the
 * L1 image's trixie root filesystem copied to DIR (its /usr and /opt), QEMU 10.0 or 11.1 from it
 * started through DIR's own dynamic loader. SIGINT/SIGTERM start no further boot and end
 * the run with what it has; every boot is appended to boots.jsonl as it ends.
 *
 * Prints per configuration (all L1s, then each L1): boots, shells, resets (QMP RESET from the
 * guest), hangs (no shell within bootMs), console attach lost, L1 lost, other errors, time to
 * shell p50/p95 and the L1's uptime at each failure; then each L1's health from its dmesg and
 * serial console (panics, lockups, warnings). Runs its own nested lab (prefix nhils, 10.232.7.0/24,
 * labs/.lab/nested-stab) on labs/nested.yaml's image cache, and takes it down at the end.
 * Failed boots leave the L2's serial log and the L1's dmesg under labs/.lab/nested-stab/bench/.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readEnvironment } from '../harness/config/environment.js';
import type { MdevNicSpec, VfNicSpec } from '../harness/config/types.js';
import { errorMessage } from '../harness/errors.js';
import { LocalRunner } from '../harness/LocalRunner.js';
import type { L1Tuning } from '../harness/nested-lab/l1QemuArgv.js';
import { bootOutcomeOf, formatBootTable, l1HealthFindings, summariseBoots, type L2BootRecord } from '../harness/nested-lab/l2BootTally.js';
import { NestedLab } from '../harness/nested-lab/NestedLab.js';
import { nestedLabConfig } from '../test/support/nestedLabFixture.js';
import { waitForSshSessionsClosed } from '../harness/nested-lab/waitForSshSessionsClosed.js';
import type { VmNic } from '../harness/qemu/VmSpec.js';
import { LabSession } from '../harness/session/LabSession.js';
import { slug, TestScope } from '../harness/session/TestScope.js';
import { sh } from '../harness/shell.js';

const CONFIGS = ['none', 'mtty', 'vf', 'viommu'] as const;
type BootConfig = (typeof CONFIGS)[number];

interface BenchArgs {
  readonly boots: number;
  readonly configs: readonly BootConfig[];
  readonly soakMinutes?: number;
  readonly maxMinutes?: number;
  readonly hosts?: readonly string[];
  /** By host name; '*' for every L1 (a host's own entry is merged over it). */
  readonly tuning: Readonly<Record<string, L1Tuning>>;
}

type MutableTuning = { tcgOptions?: string; cpuModel?: string; cpus?: number; kernelParams?: string[]; qemuCommand?: string[]; extraArgs?: string[] };

/** QEMU of a trixie root filesystem at `root`, run on this machine by that root's loader and libraries. */
function trixieQemu(root: string, version: string): Pick<MutableTuning, 'qemuCommand' | 'extraArgs'> {
  const prefix = version === '11' ? `${root}/opt/qemu-11.1/usr` : version === '10' ? `${root}/usr` : undefined;
  if (prefix === undefined) throw new Error(`--l0: DIR:10 or DIR:11, got version "${version}"`);
  const libraries = [`${prefix}/lib/x86_64-linux-gnu`, `${root}/usr/lib/x86_64-linux-gnu`].join(':');
  return {
    qemuCommand: [`${root}/usr/lib64/ld-linux-x86-64.so.2`, '--library-path', libraries, `${prefix}/bin/qemu-system-x86_64`],
    // Firmware of that build first, then its root's (11.1's own folder lacks the option ROMs).
    extraArgs: [...new Set([`${prefix}/share/qemu`, `${root}/usr/share/qemu`])].flatMap((dir) => ['-L', dir]),
  };
}

function parseArgs(argv: readonly string[]): BenchArgs {
  let boots = 40;
  let configs: BootConfig[] = [...CONFIGS];
  let soakMinutes: number | undefined;
  let maxMinutes: number | undefined;
  let hosts: string[] | undefined;
  let target = '*';
  const tuning: Record<string, MutableTuning> = {};
  const tune = (): MutableTuning => (tuning[target] ??= {});
  const rest = [...argv];
  const value = (flag: string): string => {
    const v = rest.shift();
    if (v === undefined) throw new Error(`${flag} needs a value`);
    return v;
  };
  while (rest.length > 0) {
    const arg = rest.shift()!;
    if (arg === '--config') {
      configs = value(arg).split(',').map((c) => {
        if (!(CONFIGS as readonly string[]).includes(c)) throw new Error(`--config: unknown configuration "${c}"; known: ${CONFIGS.join(', ')}`);
        return c as BootConfig;
      });
    } else if (arg === '--soak') soakMinutes = Number(value(arg));
    else if (arg === '--max-minutes') maxMinutes = Number(value(arg));
    else if (arg === '--hosts') hosts = value(arg).split(',');
    else if (arg === '--on') target = value(arg);
    else if (arg === '--l1-tcg') tune().tcgOptions = value(arg);
    else if (arg === '--l1-cpu') tune().cpuModel = value(arg);
    else if (arg === '--l1-cpus') tune().cpus = Number(value(arg));
    else if (arg === '--l1-param') (tune().kernelParams ??= []).push(value(arg));
    else if (arg === '--l0') {
      const given = value(arg);
      const colon = given.lastIndexOf(':');
      Object.assign(tune(), trixieQemu(given.slice(0, colon), given.slice(colon + 1)));
    }
    else if (/^\d+$/.test(arg)) boots = Number(arg);
    else throw new Error(`unknown argument "${arg}"; see the comment at the top of bench/nestedStability.ts`);
  }
  return {
    boots, configs, tuning,
    ...(soakMinutes === undefined ? {} : { soakMinutes }), ...(maxMinutes === undefined ? {} : { maxMinutes }), ...(hosts === undefined ? {} : { hosts }),
  };
}

/** Each L1's tuning: the '*' entry with the host's own merged over it (kernel parameters added). */
function tuningByHost(args: BenchArgs, hostNames: readonly string[]): Record<string, L1Tuning> {
  const common = args.tuning['*'] ?? {};
  const byHost: Record<string, L1Tuning> = {};
  for (const host of hostNames) {
    const own = args.tuning[host] ?? {};
    const kernelParams = [...(common.kernelParams ?? []), ...(own.kernelParams ?? [])];
    const merged = { ...common, ...own, ...(kernelParams.length > 0 ? { kernelParams } : {}) };
    if (Object.keys(merged).length > 0) byHost[host] = merged;
  }
  return byHost;
}

/** The devices the suites give an L2, made ready the way they do it (the session's provisioning). */
async function launchOptionsFor(session: LabSession, host: string, config: BootConfig): Promise<{ nics: VmNic[]; hasViommu: boolean }> {
  const nics = session.host(host).nics;
  if (config === 'none') return { nics: [], hasViommu: false };
  if (config === 'viommu') return { nics: [], hasViommu: true };
  if (config === 'mtty') {
    const spec = nics.find((n): n is MdevNicSpec => n.kind === 'mdev')!;
    const device = await session.provisionDevice(host, spec);
    if (device.kind !== 'mdev') throw new Error(`${spec.name} on ${host} was provisioned as a ${device.kind}`);
    return { nics: [{ kind: 'mdev', id: spec.name, uuid: device.mdev.uuid, backend: 'legacy' }], hasViommu: false };
  }
  const spec = nics.find((n): n is VfNicSpec => n.kind === 'vf')!;
  const device = await session.provisionDevice(host, spec);
  if (device.kind !== 'vf') throw new Error(`${spec.name} on ${host} was provisioned as a ${device.kind}`);
  return { nics: [{ kind: 'vfio', id: spec.name, host: device.vf.vf, backend: 'legacy' }], hasViommu: false };
}

async function l1Uptime(session: LabSession, host: string): Promise<number | undefined> {
  const result = await session.hostRunner(host).run('cat /proc/uptime', { timeoutMs: 20_000 }).catch(() => undefined);
  const seconds = Number(result?.stdout.split(' ')[0]);
  return result?.exitCode === 0 && Number.isFinite(seconds) ? seconds : undefined;
}

async function bootOnce(session: LabSession, runDir: string, host: string, config: BootConfig, index: number): Promise<L2BootRecord> {
  const id = `${host}-${config}-${index}`;
  const scope = new TestScope(id, runDir, slug(id));
  const startedAt = performance.now();
  try {
    const options = await launchOptionsFor(session, host, config);
    const vm = await session.launchVm(scope, { host, role: `${config}${index}`, ...options });
    await vm.waitForShell(session.lab.defaults.timeouts.bootMs);
    return { config, host, outcome: 'shell', readyMs: performance.now() - startedAt };
  } catch (error) {
    const uptime = await l1Uptime(session, host);
    const outcome = uptime === undefined ? 'l1-lost' : bootOutcomeOf(error);
    if (uptime !== undefined) {
      // Before the teardown stops the L2: whether its QEMU still runs says a hang from an exit.
      const look = await session.hostRunner(host).run('dmesg | tail -n 200; echo "--- QEMU processes"; ps -eo pid,etime,stat,args | grep "[q]emu-system"', { timeoutMs: 20_000 }).catch(() => undefined);
      writeFileSync(join(scope.artifactsDir, 'l1-dmesg.txt'), look?.stdout ?? '(no answer)');
    }
    return { config, host, outcome, ...(uptime === undefined ? {} : { l1UptimeSeconds: uptime }), detail: errorMessage(error).slice(0, 300) };
  } finally {
    await scope.teardown.run().catch((error: unknown) => console.error(`  | teardown of ${id}: ${errorMessage(error)}`));
  }
}

/** Set by SIGINT/SIGTERM: no further boot starts; the run ends with what it has. */
let isStopping = false;

/** One L1's boots: every configuration `boots` times, or round robin until the soak ends. */
async function bootLoop(session: LabSession, runDir: string, host: string, args: BenchArgs, record: (r: L2BootRecord) => void): Promise<void> {
  const startedAt = Date.now();
  const soakEndsAt = args.soakMinutes === undefined ? undefined : startedAt + args.soakMinutes * 60_000;
  const capEndsAt = args.maxMinutes === undefined ? Infinity : startedAt + args.maxMinutes * 60_000;
  const plan = function* (): Generator<[BootConfig, number]> {
    if (soakEndsAt === undefined) {
      for (const config of args.configs) for (let i = 0; i < args.boots; i++) yield [config, i];
      return;
    }
    for (let i = 0; Date.now() < soakEndsAt; i++) yield [args.configs[i % args.configs.length]!, Math.floor(i / args.configs.length)];
  };
  for (const [config, index] of plan()) {
    if (isStopping || Date.now() >= capEndsAt) return;
    const result = await bootOnce(session, runDir, host, config, index);
    record(result);
    if (result.outcome === 'l1-lost') return;
  }
}

async function l1Health(session: LabSession, lab: NestedLab, host: string): Promise<string> {
  const dmesg = await session.hostRunner(host).run('dmesg', { timeoutMs: 30_000 }).catch(() => undefined);
  const vm = lab.vms.find((v) => v.host.hostName === host)!;
  const consoleLog = await new LocalRunner().run(sh`cat ${vm.host.consoleLogFile}`);
  const fromDmesg = l1HealthFindings(dmesg?.stdout ?? '');
  const fromConsole = l1HealthFindings(consoleLog.stdout);
  const uptime = await l1Uptime(session, host);
  const lines = [
    `${host}: ${uptime === undefined ? 'NOT ANSWERING' : `up ${Math.round(uptime)} s`}; dmesg: ${fromDmesg.panics} panic, ${fromDmesg.softLockups} soft lockup, ${fromDmesg.hardLockups} hard lockup, ${fromDmesg.warnings} warning lines; serial console: ${fromConsole.panics} panic, ${fromConsole.softLockups} soft lockup, ${fromConsole.warnings} warning lines`,
    ...[...new Set([...fromConsole.lines, ...fromDmesg.lines])].map((l) => `    ${l}`),
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const log = (line: string): void => console.error(`  | ${new Date().toISOString().slice(11, 19)} ${line}`);
  const config = nestedLabConfig({ prefix: 'nhils', subnet: '10.232.7', stateDir: '.lab/nested-stab' });
  const tuning = tuningByHost(args, Object.keys(config.hosts));
  const lab = new NestedLab(config, new LocalRunner(), log, { cacheDir: nestedLabConfig().stateDir, l1Tuning: tuning });
  const runId = `stab-${new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}`;
  const runDir = join(config.stateDir, 'bench', runId);
  const records: L2BootRecord[] = [];
  let health: string[] = [];
  mkdirSync(runDir, { recursive: true });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      isStopping = true;
      log(`${signal}: no further boot starts; the boots under way finish, then the lab goes down`);
    });
  }
  await lab.down();
  let up: Awaited<ReturnType<NestedLab['up']>>;
  let session: LabSession;
  try {
    up = await lab.up();
    session = await LabSession.open({ lab: config, environment: readEnvironment(), runId, runDir, onWarning: log });
  } catch (error) {
    await lab.down();
    throw error;
  }
  try {
    const hosts = args.hosts ?? [session.pair.source, session.pair.destination];
    await Promise.all(hosts.map((host) => bootLoop(session, runDir, host, args, (r) => {
      records.push(r);
      appendFileSync(join(runDir, 'boots.jsonl'), `${JSON.stringify(r)}\n`);
      log(`${r.host} ${r.config}: ${r.outcome}${r.readyMs === undefined ? '' : ` ${(r.readyMs / 1000).toFixed(1)} s`}${r.outcome === 'shell' ? '' : ` (L1 up ${r.l1UptimeSeconds?.toFixed(0) ?? '?'} s) ${r.detail ?? ''}`}`);
    })));
    health = await Promise.all(hosts.map((host) => l1Health(session, lab, host)));
  } finally {
    await session.close().catch((error: unknown) => log(`session close: ${errorMessage(error)}`));
    await waitForSshSessionsClosed(new LocalRunner(), Object.values(config.hosts).map((h) => h.address));
    await lab.down();
  }
  const tuningText = Object.keys(tuning).length === 0 ? 'the lab\'s own L1 line' : JSON.stringify(tuning);
  console.log(`nested L2 boot stability: ${args.soakMinutes === undefined ? `${args.boots} boots per configuration and L1` : `soak ${args.soakMinutes} min`}; L1: ${tuningText}; L1s up in ${up.hosts.map((h) => `${(h.readyMs / 1000).toFixed(0)} s`).join('/')}; run ${runDir}`);
  console.log(formatBootTable(summariseBoots(records)));
  for (const host of [...new Set(records.map((r) => r.host))]) {
    console.log(`${host}${tuning[host] === undefined ? '' : ` ${JSON.stringify(tuning[host])}`}:`);
    console.log(formatBootTable(summariseBoots(records.filter((r) => r.host === host))).replace(/^/gm, '  '));
  }
  console.log('L1 health after the boots:');
  for (const text of health) console.log(text);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
