import { GuestActionError } from './GuestActionError.js';

/**
 * Register offsets of a 16550 port in its I/O BAR. Offsets 0 and 1 are the divisor latch while
 * LCR.DLAB (bit 7) is set, the data and interrupt-enable registers otherwise.
 */
export const UART_REGISTER_OFFSET = { rbrThrDll: 0, ierDlm: 1, fcr: 2, lcr: 3, mcr: 4, lsr: 5, scr: 7 } as const;

export const LCR_DLAB = 0x80;
/** FCR: FIFO on (16 bytes deep in mtty), receive and transmit FIFOs cleared. */
export const FCR_ENABLE_AND_CLEAR = 0x07;
/** LSR as mtty computes it: DR alone while its FIFO holds a byte, THRE|TEMT alone once it is empty (no overrun). */
export const LSR_DATA_READY = 0x01;
export const LSR_EMPTY = 0x60;
/**
 * mtty keeps one circular FIFO of 16 bytes and tells empty from full by head == tail only, so a
 * full FIFO reads as empty: at most 15 queued bytes can be read back.
 */
export const MAX_QUEUED_BYTES = 15;

/**
 * The UART state a guest sets up before one migration and expects on the destination after it.
 * Every value is non-zero, so a register left at mtty's initial zero never matches, and each
 * differs from the previous leg's: an mdev keeps its registers when QEMU closes or resets it, so
 * the destination of A→B→A's second leg already holds what the guest wrote before the first.
 */
export interface MttyUartPlan {
  /** 1-based migration number the plan is for. */
  readonly leg: number;
  /** LCR without DLAB (word length, stop bits, parity, break): 0x01–0x7f. */
  readonly lcr: number;
  /** Divisor latch low and high bytes, written with DLAB set and left latched across the migration. */
  readonly dll: number;
  readonly dlm: number;
  /**
   * IER: receiver-line-status and modem-status interrupts only. mtty raises an interrupt on a
   * THR write with RDI set and on an IER write with THRI set; the guest's serial driver has no
   * port on this device to take one.
   */
  readonly ier: number;
  /**
   * MCR: loopback always on (a 16550 returns transmitted bytes to its receiver only then; mtty
   * always does), plus OUT1/AFE/bits 6–7. Never DTR, RTS or OUT2: with IER.MSI set, mtty raises
   * an interrupt on an MCR write carrying them.
   */
  readonly mcr: number;
  readonly scr: number;
  /** Bytes written to THR: mtty queues them in its FIFO, and reading RBR returns them in order. */
  readonly queuedBytes: readonly number[];
}

const IER_CHOICES = [0x04, 0x0c, 0x08] as const;
const MCR_LOOP = 0x10;
const MCR_FREE_BITS = [0x04, 0x20, 0x40, 0x80] as const;

/** One byte of the seed for one field: distinct fields of one seed do not move together. */
function seedByte(seed: number, salt: number): number {
  return Math.imul((seed ^ Math.imul(salt, 0x9e3779b1)) >>> 0, 0x85ebca6b) >>> 24;
}

/** 1 + ((base + step·leg) mod modulus): never 0, and consecutive legs differ when step mod modulus ≠ 0. */
function stepped(base: number, step: number, leg: number, modulus: number): number {
  return 1 + ((base + step * leg) % modulus);
}

/**
 * The plan for one leg of a run. A run takes a fresh seed, so a destination holding an earlier
 * run's values (the mdevs live as long as the lab) does not match either.
 */
export function mttyUartPlan(seed: number, leg: number): MttyUartPlan {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new GuestActionError('MTTY_UART_PLAN', `The UART plan's seed must be an integer 0–0xffffffff, got ${seed}`);
  if (!Number.isInteger(leg) || leg < 1) throw new GuestActionError('MTTY_UART_PLAN', `The UART plan's leg must be a positive integer, got ${leg}`);
  const mcrBits = stepped(seedByte(seed, 5), 1, leg, 15);
  const queuedCount = 4 + ((seedByte(seed, 6) + leg) % 4);
  const byteBase = seedByte(seed, 7);
  return {
    leg,
    lcr: stepped(seedByte(seed, 1), 0x1d, leg, 127),
    dll: stepped(seedByte(seed, 2), 0x47, leg, 255),
    dlm: stepped(seedByte(seed, 3), 0x2f, leg, 255),
    ier: IER_CHOICES[leg % IER_CHOICES.length]!,
    mcr: MCR_FREE_BITS.reduce((mcr, bit, i) => ((mcrBits >> i) & 1 ? mcr | bit : mcr), MCR_LOOP),
    scr: stepped(seedByte(seed, 4), 0x3b, leg, 255),
    // 101 is prime to 255: the bytes of one leg are all distinct, so a reordering shows.
    queuedBytes: Array.from({ length: queuedCount }, (_, i) => 1 + ((byteBase + 0x3b * leg + 101 * i) % 255)),
  };
}
