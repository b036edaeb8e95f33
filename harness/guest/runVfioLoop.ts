import type { CommandRunner } from '../runner.js';
import { sh } from '../shell.js';
import type { DomainSwitchOutcome } from './DomainSwitchOutcome.js';
import { GuestActionError } from './GuestActionError.js';

export interface VfioLoopOptions {
  readonly cycles: number;
  /** Stop after this long even if cycles remain (the program's -s). */
  readonly maxSeconds?: number;
  readonly mapKiB?: number;
  readonly timeoutMs?: number;
}

/** Reads the output of guest/vfio-loop.c (its "done" line and per-step errors). */
export function parseVfioLoopOutput(bdf: string, text: string): DomainSwitchOutcome | null {
  const done = /vfio-loop: done cycles=(\d+) failed=(\d+) elapsed_ms=(\d+)/.exec(text);
  if (done === null) return null;
  const errors = text.split('\n').map((l) => l.trim()).filter((l) => /^vfio-loop: cycle \d+: /.test(l));
  return { way: 'vfio-user-program', bdf, cycles: Number(done[1]), failedCycles: Number(done[2]), elapsedMs: Number(done[3]), errors };
}

/**
 * Runs the guest image's VFIO user program (guest/vfio-loop.c) on a function already bound to
 * vfio-pci. Failed cycles are part of the outcome; a program that cannot start at all (wrong
 * driver, no group) is an error.
 */
export async function runVfioLoop(guest: CommandRunner, bdf: string, options: VfioLoopOptions): Promise<DomainSwitchOutcome> {
  const args = ['-n', String(options.cycles)];
  if (options.maxSeconds !== undefined) args.push('-s', String(options.maxSeconds));
  if (options.mapKiB !== undefined) args.push('-m', String(options.mapKiB));
  const result = await guest.run(sh`vfio-loop ${args} ${bdf} 2>&1`, { timeoutMs: options.timeoutMs ?? 60_000 + (options.maxSeconds ?? 0) * 1000 });
  const outcome = parseVfioLoopOutput(bdf, result.stdout);
  if (outcome === null) {
    throw new GuestActionError('GUEST_VFIO_LOOP', `vfio-loop on ${bdf} over ${guest.where} did not run (exit ${result.exitCode}): ${result.stdout.trim().slice(-400)}`, { data: { bdf, exitCode: result.exitCode } });
  }
  return outcome;
}
