import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { LabConfig } from '../../harness/config/types.js';
import { labLayout } from '../../harness/virtual-lab/labLayout.js';

/**
 * Where each virtual host's sshd log ended at one moment; later, what the sshds logged since:
 * the host-side evidence of whether the controller connected at all (sshd logs "Connection
 * from" for every TCP connection and "Accepted publickey" for every login at LogLevel VERBOSE).
 */
export class SshdLogMark {
  private constructor(private readonly offsets: ReadonlyMap<string, { readonly file: string; readonly bytes: number }>) {}

  static now(lab: LabConfig): SshdLogMark {
    const offsets = new Map<string, { file: string; bytes: number }>();
    for (const host of labLayout(lab).hosts) {
      const file = join(host.sshdDir, 'sshd.log');
      offsets.set(host.hostName, { file, bytes: existsSync(file) ? statSync(file).size : 0 });
    }
    return new SshdLogMark(offsets);
  }

  /** Lines the host's sshd logged since the mark that match `pattern`. */
  linesSince(host: string, pattern: RegExp): string[] {
    const mark = this.offsets.get(host);
    if (mark === undefined) throw new Error(`no sshd log of ${host} in the virtual lab`);
    const size = statSync(mark.file).size;
    if (size <= mark.bytes) return [];
    const buffer = Buffer.alloc(size - mark.bytes);
    const fd = openSync(mark.file, 'r');
    try {
      readSync(fd, buffer, 0, buffer.length, mark.bytes);
    } finally {
      closeSync(fd);
    }
    return buffer.toString('utf8').split('\n').filter((line) => pattern.test(line));
  }

  /** TCP connections to any host's sshd since the mark, as "<host>: <log line>". */
  connectionsSince(): string[] {
    return [...this.offsets.keys()].flatMap((host) => this.linesSince(host, /Connection from/).map((line) => `${host}: ${line}`));
  }
}
