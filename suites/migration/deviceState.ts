import * as chai from 'chai';
import { randomInt } from 'node:crypto';
import { findGuestPciFunction, GUEST_PCI_IDS } from '../../harness/guest/guestPciFunctions.js';
import { compareMttyUart, expectedAfterMigration, formatUartMismatches, formatUartReading } from '../../harness/guest/mttyUartJudge.js';
import { mttyUartPlan, type MttyUartPlan } from '../../harness/guest/mttyUartPlan.js';
import { readBackMttyUart, setUpMttyUart } from '../../harness/guest/mttyUartState.js';
import { HarnessError } from '../../harness/errors.js';
import type { CommandRunner } from '../../harness/runner.js';
import type { AssignableDevice } from '../../harness/session/assignableDevices.js';

const { expect } = chai;

/**
 * Guest-visible state of the VFIO device across a chain of migrations: the guest sets it up
 * before each migration, and the destination guest must read back the same after it.
 */
export interface DeviceStateCheck {
  /** What is checked, for labels and messages. */
  readonly what: string;
  beforeMigration(source: CommandRunner, migration: number): Promise<void>;
  /** Fails the test on a mismatch; returns what was read, one line. */
  afterMigration(destination: CommandRunner, migration: number): Promise<string>;
}

/** Set and read over port 0 of mtty's UARTs (its I/O BAR 0) through sysfs in the guest. */
class MttyUartCheck implements DeviceStateCheck {
  private readonly seed = randomInt(0, 0x1_0000_0000);
  private plan: MttyUartPlan | null = null;

  constructor(private readonly bdf: string, readonly what: string) {}

  async beforeMigration(source: CommandRunner, migration: number): Promise<void> {
    const plan = mttyUartPlan(this.seed, migration);
    await setUpMttyUart(source, this.bdf, plan);
    this.plan = plan;
  }

  async afterMigration(destination: CommandRunner, migration: number): Promise<string> {
    const plan = this.plan;
    if (plan === null || plan.leg !== migration) throw new HarnessError('DEVICE_STATE_ORDER', `${this.what}: read back after migration ${migration}, but the state set up was for ${plan === null ? 'no migration' : `migration ${plan.leg}`}`);
    const reading = await readBackMttyUart(destination, this.bdf);
    const mismatches = compareMttyUart(expectedAfterMigration(plan), reading);
    if (mismatches.length > 0) {
      expect.fail(`${this.what} after migration ${migration}, read on the destination over ${destination.where}: ${formatUartMismatches(mismatches)}`);
    }
    return formatUartReading(reading);
  }
}

/**
 * The check for the device the guest was given, or null with why there is none: guest-visible
 * state is device-specific, and only mtty's is known here.
 */
export async function deviceStateCheckFor(device: AssignableDevice, guest: CommandRunner): Promise<{ readonly check: DeviceStateCheck } | { readonly check: null; readonly why: string }> {
  if (device.nic.kind !== 'mdev' || device.nic.parent !== 'mtty') {
    return { check: null, why: `no guest-side state check for ${device.kind} ${device.nic.name} (one exists for mtty mdevs only)` };
  }
  const fn = await findGuestPciFunction(guest, GUEST_PCI_IDS.mtty, `mtty mdev ${device.nic.name}`);
  return { check: new MttyUartCheck(fn.bdf, `mtty UART port 0 of ${fn.bdf}`) };
}
