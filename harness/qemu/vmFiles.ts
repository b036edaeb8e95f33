import { posix } from 'node:path';

/** Where a VM's files live in a host's workDir. One layout, so teardown and preflight find them. */
export interface VmFiles {
  readonly qmpSocket: string;
  readonly serialSocket: string;
  readonly serialLog: string;
  readonly traceLog: string;
  /** QEMU's stdout + stderr (realize errors, warnings). */
  readonly log: string;
  readonly pidFile: string;
}

export function vmFiles(workDir: string, name: string): VmFiles {
  const at = (suffix: string) => posix.join(workDir, `${name}.${suffix}`);
  return {
    qmpSocket: at('qmp'),
    serialSocket: at('serial'),
    serialLog: at('serial.log'),
    traceLog: at('trace.log'),
    log: at('log'),
    pidFile: at('pid'),
  };
}
