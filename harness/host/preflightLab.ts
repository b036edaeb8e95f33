import type { Environment } from '../config/environment.js';
import type { LabConfig } from '../config/types.js';
import { causeChain, errorMessage } from '../errors.js';
import { HostConnections } from './HostConnections.js';
import { CLOCK_LOOP_COMMAND, streamingClockReader } from './measureClockOffset.js';
import { preflightHost, type HostPreflight } from './preflightHost.js';
import { journalCheck, replayHostJournal } from './UndoJournalRecovery.js';

export interface LabPreflight {
  readonly lab: string;
  readonly file: string;
  readonly hosts: readonly HostPreflight[];
  /** Every host reachable and every check passed. */
  readonly isReady: boolean;
  readonly durationMs: number;
}

/**
 * Preflight of the named hosts (default: all), in parallel, over the given connections. With
 * `replayLeftoverJournals` (a run, holding its leases) each host's leftover undo journal is
 * replayed first, before anything else, and the outcome is the `journal` check.
 */
export async function preflightLab(lab: LabConfig, connections: HostConnections, hostNames = Object.keys(lab.hosts), options: { readonly replayLeftoverJournals?: boolean } = {}): Promise<LabPreflight> {
  const startedAt = Date.now();
  const hosts = await Promise.all(
    hostNames.map(async (name): Promise<HostPreflight> => {
      const host = lab.hosts[name]!;
      const hostStartedAt = Date.now();
      try {
        const transport = await connections.open(host);
        const journal = options.replayLeftoverJournals === true ? journalCheck(await replayHostJournal(host, transport, { commandTimeoutMs: lab.defaults.timeouts.commandMs })) : null;
        const preflight = await preflightHost(lab, host, transport, async () => streamingClockReader(await transport.spawn(CLOCK_LOOP_COMMAND), transport.where));
        return journal === null ? preflight : { ...preflight, checks: [journal, ...preflight.checks] };
      } catch (error) {
        return {
          host: name, where: connections.transportFor(host).where, isReachable: false, facts: null, capabilities: [],
          checks: [{ name: 'reachable', isOk: false, detail: errorMessage(error) }], error: causeChain(error),
          durationMs: Date.now() - hostStartedAt,
        };
      }
    }),
  );
  return {
    lab: lab.name, file: lab.file, hosts,
    isReady: hosts.every((h) => h.isReachable && h.checks.every((c) => c.isOk)),
    durationMs: Date.now() - startedAt,
  };
}

export type { Environment };
