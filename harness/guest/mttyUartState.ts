import type { CommandResult, CommandRunner } from '../runner.js';
import { sh } from '../shell.js';
import { GuestActionError } from './GuestActionError.js';
import { compareMttyUart, expectedAfterSetUp, formatUartMismatches, type MttyUartReading } from './mttyUartJudge.js';
import { FCR_ENABLE_AND_CLEAR, LCR_DLAB, MAX_QUEUED_BYTES, UART_REGISTER_OFFSET as OFFSET, type MttyUartPlan } from './mttyUartPlan.js';

/** The port's I/O BAR as sysfs offers it: reads and writes of 1 byte become inb/outb at BAR + offset. */
export function uartResourcePath(bdf: string): string {
  return `/sys/bus/pci/devices/${bdf}/resource0`;
}

/**
 * Shell helpers shared by both commands (busybox sh and POSIX sh alike). dd seeks with lseek,
 * so reading one register never reads the ones before it (a read of offset 0 takes a byte from
 * the FIFO). `echo $v` unquoted drops od's leading space without another process: each one
 * counts in a nested guest under TCG.
 */
function helpers(resourcePath: string): string {
  return [
    sh`r=${resourcePath}`,
    'rd(){ v=$(dd if=$r bs=1 skip=$1 count=1 2>/dev/null | od -An -tx1); echo $v; }',
    'g(){ echo "mtty-reg $1 $(rd $2)"; }',
    'w(){ printf "\\\\$2" | dd of=$r bs=1 seek=$1 count=1 conv=notrunc 2>/dev/null || echo "mtty-fail write $2 at offset $1"; }',
    '[ -e $r ] || { echo "mtty-fail no $r"; exit 3; }',
  ].join('; ');
}

/** A byte as printf's octal escape wants it: the one form every printf knows. */
function octal(value: number): string {
  return value.toString(8).padStart(3, '0');
}

/** Each byte written to THR in turn: mtty queues them in its FIFO. */
function queue(bytes: readonly number[]): string {
  return sh`for b in ${bytes.map(octal)}; do w ${OFFSET.rbrThrDll} $b; done`;
}

/**
 * Writes the plan to the port, then reads back what reading leaves unchanged: IER, MCR, SCR, LSR
 * and LCR, then LCR with DLAB set and the divisor it latches. The FIFO is cleared first so
 * nothing earlier is queued ahead of the plan's bytes; DLAB stays set so the divisor crosses the
 * migration latched.
 */
export function mttyUartSetUpCommand(resourcePath: string, plan: MttyUartPlan): string {
  return [
    helpers(resourcePath),
    // DLAB clear first: with it set, the writes to offsets 0 and 1 below would go to the divisor.
    sh`w ${OFFSET.lcr} ${octal(plan.lcr)}; w ${OFFSET.fcr} ${octal(FCR_ENABLE_AND_CLEAR)}; w ${OFFSET.ierDlm} ${octal(plan.ier)}; w ${OFFSET.mcr} ${octal(plan.mcr)}; w ${OFFSET.scr} ${octal(plan.scr)}`,
    queue(plan.queuedBytes),
    `g IER ${OFFSET.ierDlm}; g MCR ${OFFSET.mcr}; g SCR ${OFFSET.scr}; g LSR ${OFFSET.lsr}; g LCR ${OFFSET.lcr}`,
    // Setting DLAB zeroes mtty's divisor; DLL and DLM are then ORed into it.
    sh`w ${OFFSET.lcr} ${octal(plan.lcr | LCR_DLAB)}; w ${OFFSET.rbrThrDll} ${octal(plan.dll)}; w ${OFFSET.ierDlm} ${octal(plan.dlm)}`,
    `g LCR.DLAB ${OFFSET.lcr}; g DLL ${OFFSET.rbrThrDll}; g DLM ${OFFSET.ierDlm}`,
    'echo mtty-done',
  ].join('; ');
}

/**
 * Reads the port back without knowing what to expect: LCR, the divisor only if DLAB is set
 * (otherwise offset 0 is RBR, and reading it would take a byte from the FIFO), then DLAB cleared
 * by writing LCR back without it, IER, MCR, SCR, LSR, RBR while LSR says data is ready (at most
 * one byte more than mtty can hold, so a FIFO that never empties still ends), and LSR once drained.
 */
export function mttyUartReadBackCommand(resourcePath: string): string {
  return [
    helpers(resourcePath),
    `l=$(rd ${OFFSET.lcr}); echo "mtty-reg LCR.DLAB $l"`,
    `if [ -n "$l" ] && [ $((0x$l & ${LCR_DLAB})) -ne 0 ]; then g DLL ${OFFSET.rbrThrDll}; g DLM ${OFFSET.ierDlm}; w ${OFFSET.lcr} $(printf %03o $((0x$l & ${0xff ^ LCR_DLAB}))); else echo "mtty-reg DLL -"; echo "mtty-reg DLM -"; fi`,
    `g IER ${OFFSET.ierDlm}; g MCR ${OFFSET.mcr}; g SCR ${OFFSET.scr}; g LSR ${OFFSET.lsr}`,
    `n=0; while [ $n -le ${MAX_QUEUED_BYTES} ]; do s=$(rd ${OFFSET.lsr}); [ -n "$s" ] && [ $((0x$s & 1)) -eq 1 ] || break; echo "mtty-rx $(rd ${OFFSET.rbrThrDll})"; n=$((n+1)); done`,
    `g LSR.drained ${OFFSET.lsr}`,
    'echo mtty-done',
  ].join('; ');
}

const HEX_BYTE = /^[0-9a-f]{2}$/i;

function byteOrNull(text: string | undefined): number | null {
  return text !== undefined && HEX_BYTE.test(text) ? parseInt(text, 16) : null;
}

/** The command's lines among whatever else the console carried (a kernel message, the echoed command). */
export function parseMttyUartOutput(text: string): MttyUartReading {
  const registers = new Map<string, number | null>();
  const receivedBytes: number[] = [];
  const failures: string[] = [];
  let isComplete = false;
  for (const line of text.split('\n').map((l) => l.trim())) {
    const reg = /^mtty-reg ([A-Z][A-Za-z.]*)(?: (\S+))?$/.exec(line);
    if (reg !== null) {
      registers.set(reg[1]!, byteOrNull(reg[2]));
      continue;
    }
    const rx = /^mtty-rx(?: (\S+))?$/.exec(line);
    if (rx !== null) {
      const byte = byteOrNull(rx[1]);
      if (byte === null) failures.push(`RBR read returned "${rx[1] ?? ''}"`);
      else receivedBytes.push(byte);
      continue;
    }
    if (line.startsWith('mtty-fail ')) failures.push(line.slice('mtty-fail '.length));
    else if (line === 'mtty-done') isComplete = true;
  }
  return { registers, receivedBytes, failures, isComplete };
}

/** The set-up as a console line: a subshell, so its `exit` ends the command and not the console's shell. */
export function mttyUartSetUpLine(bdf: string, plan: MttyUartPlan): string {
  return `( ${mttyUartSetUpCommand(uartResourcePath(bdf), plan)} ) 2>&1`;
}

export function mttyUartReadBackLine(bdf: string): string {
  return `( ${mttyUartReadBackCommand(uartResourcePath(bdf))} ) 2>&1`;
}

function uartReading(result: CommandResult, bdf: string, what: string, where: string): MttyUartReading {
  const reading = parseMttyUartOutput(result.stdout);
  if (result.exitCode !== 0 || !reading.isComplete || reading.failures.length > 0) {
    const why = reading.failures.length > 0 ? reading.failures.join('; ') : `exit ${result.exitCode}${reading.isComplete ? '' : ', no end line'}`;
    throw new GuestActionError('MTTY_UART_ACCESS', `${what} on ${bdf} over ${where} did not finish: ${why}. Output: ${result.stdout.trim().slice(-400)}`, { data: { bdf } });
  }
  return reading;
}

/**
 * Sets the plan up in the guest and checks on the source that it took: a value that does not
 * read back before any migration says nothing about the migration.
 */
export async function setUpMttyUart(guest: CommandRunner, bdf: string, plan: MttyUartPlan, timeoutMs = 180_000): Promise<MttyUartReading> {
  const result = await guest.run(mttyUartSetUpLine(bdf, plan), { timeoutMs });
  const reading = uartReading(result, bdf, `Writing the UART state of migration ${plan.leg}`, guest.where);
  const mismatches = compareMttyUart(expectedAfterSetUp(plan), reading);
  if (mismatches.length > 0) {
    throw new GuestActionError('MTTY_UART_SET_UP', `The UART state written for migration ${plan.leg} on ${bdf} over ${guest.where} did not read back on the source, before any migration: ${formatUartMismatches(mismatches)}`, { data: { bdf } });
  }
  return reading;
}

/** Reads the UART back (draining its FIFO); judging it is the caller's. */
export async function readBackMttyUart(guest: CommandRunner, bdf: string, timeoutMs = 180_000): Promise<MttyUartReading> {
  const result = await guest.run(mttyUartReadBackLine(bdf), { timeoutMs });
  return uartReading(result, bdf, 'Reading the UART state back', guest.where);
}
