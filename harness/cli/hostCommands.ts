import type { Command } from 'commander';
import { readEnvironment } from '../config/environment.js';
import type { LabConfig } from '../config/types.js';
import { errorMessage } from '../errors.js';
import { HostConnections } from '../host/HostConnections.js';
import { HostLease } from '../host/HostLease.js';
import { describeLease, leaseHolder } from '../host/HostLeaseRecord.js';
import { formatJournalReplay, replayHostJournal, type HostJournalReplay } from '../host/UndoJournalRecovery.js';
import { ExitCode } from './ExitCode.js';
import { loadLabOption, type CliIo } from './cliSupport.js';

/** `hil host restore` (replay the undo journals by hand) and `hil host lease` (show or break leases). */
export function addHostCommands(program: Command, io: CliIo): void {
  const host = program.command('host').description('undo what runs left on the hosts; show or break host leases');
  host
    .command('restore')
    .description('replay each host\'s undo journal (newest change first), under the host\'s lease')
    .option('--host <name...>', 'only these hosts')
    .option('--force', 'replay even while another run holds the host\'s lease')
    .action(async (options: { host?: string[]; force?: boolean }) => {
      const config = loadLabOption(program);
      const names = hostNames(config, options.host, io, 'restore');
      if (names === null) return;
      const connections = new HostConnections(config, readEnvironment());
      const runId = `restore-${Date.now().toString(36)}`;
      try {
        const outcomes = await Promise.all(names.map((name) => restoreHost(config, connections, name, runId, options.force === true, io)));
        for (const outcome of outcomes) io.out(outcome.text);
        io.setExitCode(outcomes.every((o) => o.isClean) ? ExitCode.ok : ExitCode.labFailure);
      } finally {
        await connections.closeAll();
      }
    });
  host
    .command('lease')
    .description('show who holds each host; --break removes a lease (only when its run is gone)')
    .option('--host <name...>', 'only these hosts')
    .option('--break', 'remove the lease whoever holds it')
    .action(async (options: { host?: string[]; break?: boolean }) => {
      const config = loadLabOption(program);
      const names = hostNames(config, options.host, io, 'lease');
      if (names === null) return;
      const connections = new HostConnections(config, readEnvironment());
      try {
        for (const name of names) {
          const spec = config.hosts[name]!;
          const transport = await connections.open(spec);
          if (options.break === true) {
            const broken = await HostLease.breakLease(transport, spec.workDir, leaseHolder('lease-break'));
            io.out(broken.result === 'broken'
              ? `${name}: broke the lease of ${broken.previous === null ? 'an unreadable lease file' : describeLease(broken.previous, broken.hostNowS)}`
              : `${name}: no lease to break`);
            continue;
          }
          const { record, hasLeaseFile, hostNowS } = await HostLease.read(transport, spec.workDir);
          if (!hasLeaseFile) io.out(`${name}: free`);
          else if (record === null) io.out(`${name}: unreadable lease file (the next acquirer takes it over)`);
          else io.out(`${name}: ${record.expiresAtS > hostNowS ? 'leased by' : 'expired lease (free to take over) of'} ${describeLease(record, hostNowS)}`);
        }
      } finally {
        await connections.closeAll();
      }
    });
}

function hostNames(config: LabConfig, wanted: readonly string[] | undefined, io: CliIo, command: string): string[] | null {
  for (const name of wanted ?? []) {
    if (config.hosts[name] === undefined) {
      io.err(`hil host ${command}: no host "${name}" in ${config.file}; hosts are ${Object.keys(config.hosts).join(', ')}`);
      io.setExitCode(ExitCode.usage);
      return null;
    }
  }
  return [...(wanted ?? Object.keys(config.hosts))];
}

/** Replays one host's journal holding its lease, so no run starts on it meanwhile. */
async function restoreHost(config: LabConfig, connections: HostConnections, name: string, runId: string, isForced: boolean, io: CliIo): Promise<{ text: string; isClean: boolean }> {
  const spec = config.hosts[name]!;
  let lease: HostLease | null = null;
  try {
    const transport = await connections.open(spec);
    if (!isForced) {
      lease = new HostLease(transport, { host: name, workDir: spec.workDir, holder: leaseHolder(runId), ttlMs: 300_000, onWarning: (line) => io.err(`hil host restore: ${line}`) });
      await lease.acquire();
    }
    const outcome: HostJournalReplay = await replayHostJournal(spec, transport, { commandTimeoutMs: config.defaults.timeouts.commandMs });
    return { text: formatJournalReplay(outcome), isClean: outcome.isClean };
  } catch (error) {
    return { text: `${name}: not restored: ${errorMessage(error)}`, isClean: false };
  } finally {
    await lease?.release();
  }
}
