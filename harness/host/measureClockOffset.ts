import { HarnessError } from '../errors.js';
import type { CommandRunner } from '../runner.js';
import type { ClockFacts } from './HostFacts.js';

/** Wall-clock time on the controller in ms with sub-ms resolution. */
export function controllerNowMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * host clock − controller clock, NTP style: read the host's clock between two controller reads
 * and assume it was read half-way. The sample with the shortest round trip wins; half of that
 * round trip bounds the error.
 */
export async function measureClockOffset(runner: CommandRunner, samples = 5): Promise<ClockFacts> {
  let best: { offsetMs: number; roundTripMs: number } | null = null;
  for (let i = 0; i < samples; i++) {
    const sentAtMs = controllerNowMs();
    const result = await runner.run('date +%s%N', { timeoutMs: 10_000 });
    const receivedAtMs = controllerNowMs();
    const hostNs = result.stdout.trim();
    if (result.exitCode !== 0 || !/^\d{19}$/.test(hostNs)) {
      throw new HarnessError('CLOCK_READ_FAILED', `Could not read the clock of ${runner.where}: "date +%s%N" gave "${hostNs}" (exit ${result.exitCode}). The host needs GNU date.`);
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
