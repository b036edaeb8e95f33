import type { Readable, Writable } from 'node:stream';
import { HarnessError } from '../errors.js';
import type { CommandRunner } from '../runner.js';
import type { ClockFacts } from './HostFacts.js';

/** Wall-clock time on the controller in ms with sub-ms resolution. */
export function controllerNowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** A long-lived remote shell loop: one line in, the host's `date +%s%N` out. */
export interface StreamingShell {
  readonly stdin: Writable;
  readonly stdout: Readable;
  kill(signal?: string): Promise<unknown>;
}

export interface ClockReader {
  readonly where: string;
  /** The host's clock as `date +%s%N` prints it. */
  read(): Promise<string>;
  close(): Promise<void>;
}

export const CLOCK_LOOP_COMMAND = 'while read -r _; do date +%s%N; done';

/** One exec per read: works on any runner, but each sample pays for a channel set-up. */
export function execClockReader(runner: CommandRunner): ClockReader {
  return {
    where: runner.where,
    read: async () => (await runner.run('date +%s%N', { timeoutMs: 10_000 })).stdout,
    close: async () => undefined,
  };
}

/**
 * Reads over one open shell loop, so a sample's round trip is the network's alone (an exec over
 * SSH costs tens of ms of channel set-up, which would swamp the offset we are after).
 */
export function streamingClockReader(shell: StreamingShell, where: string): ClockReader {
  let buffered = '';
  const lines: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  shell.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      const waiter = waiters.shift();
      if (waiter !== undefined) waiter(line);
      else lines.push(line);
    }
  });
  return {
    where,
    read: () => new Promise<string>((resolve, reject) => {
      const ready = lines.shift();
      if (ready !== undefined) return resolve(ready);
      const timer = setTimeout(() => reject(new HarnessError('CLOCK_READ_FAILED', `No clock reading from ${where} within 10 s`)), 10_000);
      waiters.push((line) => { clearTimeout(timer); resolve(line); });
      shell.stdin.write('\n');
    }),
    close: async () => {
      shell.stdin.end();
      await shell.kill('TERM');
    },
  };
}

/**
 * host clock − controller clock, NTP style: read the host's clock between two controller reads
 * and assume it was read half-way. The sample with the shortest round trip wins; half of that
 * round trip bounds the error.
 */
export async function measureClockOffset(reader: ClockReader, samples = 7): Promise<ClockFacts> {
  let best: { offsetMs: number; roundTripMs: number } | null = null;
  for (let i = 0; i < samples; i++) {
    const sentAtMs = controllerNowMs();
    const hostNs = (await reader.read()).trim();
    const receivedAtMs = controllerNowMs();
    if (!/^\d{19}$/.test(hostNs)) {
      throw new HarnessError('CLOCK_READ_FAILED', `Could not read the clock of ${reader.where}: "date +%s%N" gave "${hostNs}". The host needs GNU date.`);
    }
    const hostMs = Number(BigInt(hostNs) / 1000n) / 1000;
    const roundTripMs = receivedAtMs - sentAtMs;
    const offsetMs = hostMs - (sentAtMs + roundTripMs / 2);
    if (best === null || roundTripMs < best.roundTripMs) best = { offsetMs, roundTripMs };
  }
  if (best === null) throw new HarnessError('CLOCK_READ_FAILED', 'measureClockOffset needs at least one sample');
  return { offsetMs: round3(best.offsetMs), uncertaintyMs: round3(best.roundTripMs / 2), samples };
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
