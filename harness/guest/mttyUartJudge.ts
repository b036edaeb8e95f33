import { LCR_DLAB, LSR_DATA_READY, LSR_EMPTY, MAX_QUEUED_BYTES, type MttyUartPlan } from './mttyUartPlan.js';

/**
 * What the guest read from the UART: each register under the name the command gave it (null
 * when the read returned nothing, or was not made), and the bytes RBR returned, in order.
 */
export interface MttyUartReading {
  readonly registers: ReadonlyMap<string, number | null>;
  readonly receivedBytes: readonly number[];
  /** Lines the command printed about a step that failed (a write dd refused, a missing BAR file). */
  readonly failures: readonly string[];
  readonly isComplete: boolean;
}

/** One register read and the value it must have, with what that value stands for. */
export interface RegisterExpectation {
  /** The name the guest command prints it under: "LCR.DLAB", "DLL", "LSR.drained". */
  readonly register: string;
  readonly value: number;
  readonly meaning: string;
}

export interface MttyUartExpectation {
  readonly registers: readonly RegisterExpectation[];
  /** The bytes RBR must return, in order; null when the FIFO is not read. */
  readonly receivedBytes: readonly number[] | null;
}

export interface UartMismatch {
  readonly register: string;
  readonly meaning: string;
  readonly expected: string;
  readonly read: string;
}

const hex = (value: number): string => `0x${value.toString(16).padStart(2, '0')}`;
const byteList = (bytes: readonly number[]): string => (bytes.length === 0 ? 'nothing' : bytes.map((b) => b.toString(16).padStart(2, '0')).join(' '));

function heldRegisters(plan: MttyUartPlan): RegisterExpectation[] {
  return [
    { register: 'IER', value: plan.ier, meaning: 'interrupt enable' },
    { register: 'MCR', value: plan.mcr, meaning: 'modem control, loopback on' },
    { register: 'SCR', value: plan.scr, meaning: 'scratch' },
    { register: 'LSR', value: LSR_DATA_READY, meaning: `line status with ${plan.queuedBytes.length} bytes queued: data ready, no overrun` },
  ];
}

function latchedDivisor(plan: MttyUartPlan): RegisterExpectation[] {
  return [
    { register: 'LCR.DLAB', value: plan.lcr | LCR_DLAB, meaning: 'line control with the divisor latch open' },
    { register: 'DLL', value: plan.dll, meaning: 'divisor latch low' },
    { register: 'DLM', value: plan.dlm, meaning: 'divisor latch high' },
  ];
}

/** On the source right after writing: everything but the FIFO's contents, which only a destructive read shows. */
export function expectedAfterSetUp(plan: MttyUartPlan): MttyUartExpectation {
  return {
    registers: [...heldRegisters(plan), { register: 'LCR', value: plan.lcr, meaning: 'line control' }, ...latchedDivisor(plan)],
    receivedBytes: null,
  };
}

/** On the destination: the same registers, the queued bytes in order, then an empty FIFO. */
export function expectedAfterMigration(plan: MttyUartPlan): MttyUartExpectation {
  return {
    registers: [...latchedDivisor(plan), ...heldRegisters(plan), { register: 'LSR.drained', value: LSR_EMPTY, meaning: 'line status once RBR has returned every queued byte' }],
    receivedBytes: plan.queuedBytes,
  };
}

export function compareMttyUart(expected: MttyUartExpectation, reading: MttyUartReading): UartMismatch[] {
  const mismatches: UartMismatch[] = [];
  for (const { register, value, meaning } of expected.registers) {
    const read = reading.registers.get(register);
    if (read === value) continue;
    const seen = read === undefined ? 'nothing (no line for it in the output)' : read === null ? 'nothing' : hex(read);
    mismatches.push({ register, meaning, expected: hex(value), read: seen });
  }
  const bytes = expected.receivedBytes;
  if (bytes !== null) {
    const got = reading.receivedBytes;
    const isSame = got.length === bytes.length && got.every((b, i) => b === bytes[i]);
    if (!isSame) {
      const more = got.length > MAX_QUEUED_BYTES ? ` (still data ready after ${got.length} reads: the FIFO did not empty)` : '';
      mismatches.push({ register: 'RBR', meaning: 'bytes queued in the FIFO, in order', expected: byteList(bytes), read: `${byteList(got)}${more}` });
    }
  }
  return mismatches;
}

/** "SCR (scratch) expected 0xa5, read 0x00; RBR (...) expected 11 22, read 11" */
export function formatUartMismatches(mismatches: readonly UartMismatch[]): string {
  return mismatches.map((m) => `${m.register} (${m.meaning}) expected ${m.expected}, read ${m.read}`).join('; ');
}

/** What was read, one line, for labels and reports: "LCR.DLAB=9b DLL=34 ... RBR=11 22 33". */
export function formatUartReading(reading: MttyUartReading): string {
  const registers = [...reading.registers].map(([name, value]) => `${name}=${value === null ? '-' : value.toString(16).padStart(2, '0')}`);
  const rx = reading.receivedBytes.length > 0 || reading.registers.has('LSR.drained') ? [`RBR=${byteList(reading.receivedBytes)}`] : [];
  return [...registers, ...rx].join(' ');
}
