import type { Command } from 'commander';
import { readEnvironment } from '../config/environment.js';
import { LocalRunner } from '../LocalRunner.js';
import { HostConnections } from '../host/HostConnections.js';
import { formatPreflight } from '../host/formatPreflight.js';
import { preflightLab } from '../host/preflightLab.js';
import { VirtualLab } from '../virtual-lab/VirtualLab.js';
import { loadLabForLabCommand, nestedLabDown, nestedLabStatus, nestedLabUp } from './nestedLabCommands.js';
import { ExitCode } from './ExitCode.js';
import { printPreflight } from './printPreflight.js';
import { loadLabOption, type CliIo } from './cliSupport.js';

export function addLabCommands(program: Command, io: CliIo): void {
  const lab = program.command('lab').description('bring the embedded virtual lab up or down, or show its state');
  lab
    .command('up')
    .description('install what is missing, build the guest image, start the hosts; then preflight them')
    .option('--no-preflight', 'skip the preflight after the lab is up')
    .option('--nested', 'the nested lab (labs/nested.yaml unless --lab names one)')
    .action(async (options: { preflight: boolean; nested?: boolean }) => {
      const config = loadLabForLabCommand(program, options.nested === true);
      if (config.kind === 'nested') return nestedLabUp(config, io, options);
      const environment = readEnvironment();
      const virtualLab = new VirtualLab(config, new LocalRunner(), (line) => io.err(line), { isRoot: environment.isRoot });
      await virtualLab.up();
      if (options.preflight) await printPreflight(config, io);
    });
  lab
    .command('down')
    .description('stop everything the lab started and remove its namespaces, links and taps')
    .option('--purge', 'also remove the state folder (keys, guest image cache)')
    .option('--nested', 'the nested lab (labs/nested.yaml unless --lab names one)')
    .action(async (options: { purge?: boolean; nested?: boolean }) => {
      const config = loadLabForLabCommand(program, options.nested === true);
      if (config.kind === 'nested') return nestedLabDown(config, io, options);
      const virtualLab = new VirtualLab(config, new LocalRunner(), (line) => io.err(line), { isRoot: readEnvironment().isRoot });
      await virtualLab.down({ purge: options.purge === true });
    });
  lab
    .command('status')
    .description('what of the lab exists and answers')
    .option('--json', 'machine-readable output')
    .option('--nested', 'the nested lab (labs/nested.yaml unless --lab names one)')
    .action(async (options: { json?: boolean; nested?: boolean }) => {
      const config = loadLabForLabCommand(program, options.nested === true);
      if (config.kind === 'nested') return nestedLabStatus(config, io, options);
      const status = await new VirtualLab(config, new LocalRunner(), () => undefined, { isRoot: readEnvironment().isRoot }).status();
      if (options.json === true) io.out(JSON.stringify(status, null, 2));
      else io.out(formatLabStatus(status));
      io.setExitCode(status.isUp ? ExitCode.ok : ExitCode.labFailure);
    });
}

function formatLabStatus(status: Awaited<ReturnType<VirtualLab['status']>>): string {
  const lines = [`Lab is ${status.isUp ? 'UP' : 'NOT up'} (state in ${status.stateDir})`];
  lines.push(`  QEMU: ${status.qemu.version ?? 'not installed'} (${status.qemu.binary})`);
  for (const sshd of status.sshds) lines.push(`  sshd ${sshd.host}: ${sshd.isRunning ? 'running' : 'not running'}, ${sshd.isAnswering ? 'answering' : 'not answering'} (log ${sshd.logFile})`);
  for (const image of status.guestImages) lines.push(`  guest image ${image.guest}: ${image.isPresent ? `built ${image.builtAt ?? ''}, kernel ${image.kernelRelease ?? '?'}` : 'not built'}`);
  const missing = status.network.links.filter((l) => !l.isPresent || !l.isHealthy);
  const namespaces = status.network.namespaces.filter((n) => n.isPresent).map((n) => n.name);
  lines.push(`  network: namespaces ${namespaces.join(', ') || 'none'}; ${status.network.links.length - missing.length}/${status.network.links.length} links healthy`);
  for (const link of missing) lines.push(`    ${link.isPresent ? 'unhealthy' : 'missing'}: ${link.namespace === '' ? 'root' : link.namespace}/${link.name} (${link.kind})`);
  lines.push(`  other processes in lab namespaces: ${status.processes.length === 0 ? 'none' : status.processes.map((p) => `${p.namespace}:${p.pid} ${p.command.slice(0, 60)}`).join('; ')}`);
  return lines.join('\n');
}

export function addPreflightCommand(program: Command, io: CliIo): void {
  program
    .command('preflight')
    .description('check every host of the lab over SSH and derive its capabilities')
    .option('--json', 'machine-readable output')
    .option('--host <name...>', 'only these hosts')
    .action(async (options: { json?: boolean; host?: string[] }) => {
      const config = loadLabOption(program);
      const connections = new HostConnections(config, readEnvironment());
      try {
        for (const name of options.host ?? []) {
          if (config.hosts[name] === undefined) {
            io.err(`hil preflight: no host "${name}" in ${config.file}; hosts are ${Object.keys(config.hosts).join(', ')}`);
            io.setExitCode(ExitCode.usage);
            return;
          }
        }
        const report = await preflightLab(config, connections, options.host);
        io.out(options.json === true ? JSON.stringify(report, null, 2) : formatPreflight(report));
        io.setExitCode(report.isReady ? ExitCode.ok : ExitCode.labFailure);
      } finally {
        await connections.closeAll();
      }
    });
}
