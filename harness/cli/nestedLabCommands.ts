import { printPreflight } from './printPreflight.js';
import type { Command } from 'commander';
import { ExitCode } from './ExitCode.js';
import type { CliIo } from './cliSupport.js';
import { readEnvironment } from '../config/environment.js';
import { loadLab } from '../config/loadLab.js';
import type { LabConfig } from '../config/types.js';
import { LocalRunner } from '../LocalRunner.js';
import { NestedLab, type NestedLabStatus } from '../nested-lab/NestedLab.js';
import { NestedLabError } from '../nested-lab/NestedLabError.js';

/** What `hil lab ... --nested` loads when --lab is left at its default. */
export const NESTED_LAB_FILE = 'labs/nested.yaml';

/**
 * The lab file a `hil lab` command acts on: --lab as given, or with --nested and no --lab,
 * labs/nested.yaml. --nested with a lab file of another kind is a usage error, not a guess.
 */
export function loadLabForLabCommand(program: Command, isNested: boolean): LabConfig {
  const given = program.opts<{ lab: string }>().lab;
  const isDefault = program.getOptionValueSource('lab') === 'default';
  const config = loadLab(isNested && isDefault ? NESTED_LAB_FILE : given);
  if (isNested && config.kind !== 'nested') {
    throw new NestedLabError('NESTED_WRONG_KIND', `--nested: ${config.file} is a ${config.kind} lab; give --lab a lab file with lab.kind: nested (e.g. ${NESTED_LAB_FILE})`);
  }
  return config;
}

function nestedLab(config: LabConfig, io: CliIo, isQuiet = false): NestedLab {
  return new NestedLab(config, new LocalRunner(), isQuiet ? () => undefined : (line) => io.err(line), { isRoot: readEnvironment().isRoot });
}

export async function nestedLabUp(config: LabConfig, io: CliIo, options: { preflight: boolean }): Promise<void> {
  const result = await nestedLab(config, io).up();
  const image = result.image.isRebuilt ? `image built in ${result.image.durationMs} ms` : 'image cached';
  const hosts = result.hosts.map((h) => `${h.host} ${h.outcome === 'answering' ? 'already up' : `up after ${h.readyMs} ms`}`).join(', ');
  io.out(`Nested lab "${config.name}" is up (${result.durationMs} ms; ${image}; ${hosts}).`);
  if (options.preflight) await printPreflight(config, io);
}

export async function nestedLabDown(config: LabConfig, io: CliIo, options: { purge?: boolean }): Promise<void> {
  const result = await nestedLab(config, io).down({ purge: options.purge === true });
  io.out(`Nested lab "${config.name}" is down (${result.durationMs} ms): stopped ${result.stoppedVms.length} L1 VM(s), removed ${result.removed.length} namespace(s)/link(s)${result.isPurged ? ', state purged' : '; image cache kept'}.`);
}

export async function nestedLabStatus(config: LabConfig, io: CliIo, options: { json?: boolean }): Promise<void> {
  const status = await nestedLab(config, io, true).status();
  io.out(options.json === true ? JSON.stringify(status, null, 2) : formatNestedLabStatus(status));
  io.setExitCode(status.isUp ? ExitCode.ok : ExitCode.labFailure);
}

export function formatNestedLabStatus(status: NestedLabStatus): string {
  const lines = [`Nested lab is ${status.isUp ? 'UP' : 'NOT up'} (state in ${status.stateDir})`];
  const { image } = status;
  lines.push(`  L1 image: ${image.isPresent ? `built ${image.builtAt ?? '?'} in ${image.buildMs ?? '?'} ms, kernel ${image.kernelRelease ?? '?'}` : 'not built'}`);
  for (const host of status.hosts) {
    const state = host.isRunning ? `running (pid ${host.pid}), ${host.isAnswering ? 'answering SSH' : 'not answering SSH yet'}` : 'not running';
    lines.push(`  L1 ${host.host} ${host.address}: ${state} (console ${host.consoleLogFile})`);
  }
  const unhealthy = status.network.links.filter((l) => !l.isHealthy);
  lines.push(`  network: ${status.network.links.length - unhealthy.length}/${status.network.links.length} links healthy`);
  for (const link of unhealthy) lines.push(`    ${link.isPresent ? 'unhealthy' : 'missing'}: ${link.namespace === '' ? 'root' : link.namespace}/${link.name} (${link.kind})`);
  return lines.join('\n');
}
