import type { CommandResult, CommandRunner } from '../runner.js';
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

const DONE = /vfio-loop: done cycles=(\d+) succeeded=(\d+) failed=(\d+) elapsed_ms=(\d+) group=\S+ iova=(0x[0-9a-f]+) map_kib=(\d+)/;
/** The done line of a vfio-loop that counted only attempts and failures. */
const DONE_WITHOUT_SUCCESSES = /vfio-loop: done cycles=\d+ failed=\d+ /;

/**
 * Reads the output of guest/vfio-loop.c (its "done" line and per-step errors); null when it has
 * no done line (the program did not get to run its cycles).
 */
export function parseVfioLoopOutput(bdf: string, text: string): DomainSwitchOutcome | null {
  const done = DONE.exec(text);
  if (done === null) {
    if (DONE_WITHOUT_SUCCESSES.test(text)) {
      throw new GuestActionError('GUEST_VFIO_LOOP_OUTDATED', `The guest's vfio-loop on ${bdf} does not count its successful cycles (done line: "${text.split('\n').find((l) => l.includes('vfio-loop: done'))?.trim() ?? ''}"): its guest image predates guest/vfio-loop.c; rebuild the image (hil lab up rebuilds it when guest/ changed)`, { data: { bdf } });
    }
    return null;
  }
  const cycles = Number(done[1]);
  const succeededCycles = Number(done[2]);
  const failedCycles = Number(done[3]);
  if (succeededCycles + failedCycles !== cycles) {
    throw new GuestActionError('GUEST_VFIO_LOOP_COUNTS', `vfio-loop on ${bdf} says ${cycles} cycles but ${succeededCycles} succeeded and ${failedCycles} failed: its counts do not add up`, { data: { bdf, cycles, succeededCycles, failedCycles } });
  }
  const errors = text.split('\n').map((l) => l.trim()).filter((l) => /^vfio-loop: cycle \d+: /.test(l));
  return { way: 'vfio-user-program', bdf, cycles, succeededCycles, failedCycles, elapsedMs: Number(done[4]), errors, dmaWindow: { iova: Number(BigInt(done[5]!)), sizeBytes: Number(done[6]) * 1024 } };
}

/**
 * Runs the guest image's VFIO user program (guest/vfio-loop.c) on a function already bound to
 * vfio-pci. Failed cycles are part of the outcome; a program that cannot start at all (wrong
 * driver, no group) is an error.
 */
export async function runVfioLoop(guest: CommandRunner, bdf: string, options: VfioLoopOptions): Promise<DomainSwitchOutcome> {
  const result = await guest.run(vfioLoopCommand(bdf, options), { timeoutMs: vfioLoopTimeoutMs(options) });
  return vfioLoopOutcome(bdf, result, guest.where);
}

/** The command line runVfioLoop types, for a caller that arms it ahead (GuestConsole.arm). */
export function vfioLoopCommand(bdf: string, options: VfioLoopOptions): string {
  const args = ['-n', String(options.cycles)];
  if (options.maxSeconds !== undefined) args.push('-s', String(options.maxSeconds));
  if (options.mapKiB !== undefined) args.push('-m', String(options.mapKiB));
  return sh`vfio-loop ${args} ${bdf} 2>&1`;
}

export function vfioLoopTimeoutMs(options: VfioLoopOptions): number {
  return options.timeoutMs ?? 60_000 + (options.maxSeconds ?? 0) * 1000;
}

/** The outcome of a finished vfio-loop command; a program that could not start is an error. */
export function vfioLoopOutcome(bdf: string, result: CommandResult, where: string): DomainSwitchOutcome {
  const outcome = parseVfioLoopOutput(bdf, result.stdout);
  if (outcome === null) {
    throw new GuestActionError('GUEST_VFIO_LOOP', `vfio-loop on ${bdf} over ${where} did not run (exit ${result.exitCode}): ${result.stdout.trim().slice(-400)}`, { data: { bdf, exitCode: result.exitCode } });
  }
  return outcome;
}
