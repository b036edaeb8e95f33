import { HarnessError, InfrastructureError } from '../errors.js';

/** A VmSpec that cannot work; lists every problem found, not just the first. */
export class VmSpecError extends HarnessError {
  constructor(
    readonly vm: string,
    readonly problems: readonly string[],
  ) {
    super('VM_SPEC_INVALID', `VM spec ${JSON.stringify(vm)} is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      data: { vm, problems },
    });
  }
}

export class QemuStateError extends HarnessError {
  constructor(vm: string, call: string, state: string, expected: string) {
    super('QEMU_WRONG_STATE', `QemuProcess.${call}() for ${vm} needs state ${expected}, but the VM is ${state}`, {
      data: { vm, call, state, expected },
    });
  }
}

/**
 * QEMU did not come up. Not an infrastructure error by itself: a realize error (e.g. with
 * enable-migration=on) is often the verdict a suite is looking for. `logTail` has QEMU's words.
 */
export class QemuStartError extends HarnessError {
  constructor(
    vm: string,
    where: string,
    reason: string,
    readonly logTail: string,
    options: { cause?: unknown; pid?: number } = {},
  ) {
    const log = logTail.trim() === '' ? '(QEMU wrote nothing)' : logTail.trimEnd();
    super('QEMU_START_FAILED', `QEMU for ${vm} on ${where} did not start: ${reason}. QEMU's output:\n${log}`, {
      cause: options.cause,
      data: { vm, where, reason, logTail, pid: options.pid },
    });
  }
}

/**
 * QEMU could not start because its installation or the lab is broken (installationFault()): a lab
 * ERROR, never a product verdict, so it is deliberately not a QemuStartError that a suite would
 * judge. The QemuStartError with QEMU's whole output is its cause.
 */
export class QemuInstallationError extends InfrastructureError {
  constructor(vm: string, where: string, what: string, line: string, cause: QemuStartError) {
    super('QEMU_INSTALLATION_FAULT', `QEMU for ${vm} on ${where} could not start because ${what}: "${line}". This is the lab's fault, not a product verdict; fix the QEMU installation or the lab's files on ${where}.`, {
      cause,
      data: { vm, where, line },
    });
  }
}

export class QemuStopError extends HarnessError {
  constructor(vm: string, where: string, reason: string, options: { cause?: unknown; pid?: number } = {}) {
    super('QEMU_STOP_FAILED', `Could not stop QEMU for ${vm} on ${where}: ${reason}`, {
      cause: options.cause,
      data: { vm, where, reason, pid: options.pid },
    });
  }
}

/** A waitFor… deadline passed; the message names what it waited for and the last thing seen. */
export class QemuTimeoutError extends HarnessError {
  constructor(what: string, timeoutMs: number, lastSeen: string) {
    super('QEMU_TIMEOUT', `Timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${lastSeen}`, {
      data: { waitingFor: what, timeoutMs, lastSeen },
    });
  }
}
