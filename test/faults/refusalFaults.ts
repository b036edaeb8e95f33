import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { LabConfig } from '../../harness/config/types.js';
import { describeExit, messageHead, type FaultVerdict } from './FaultVerdict.js';
import { HilChild } from './HilChild.js';
import { LEASE_WAIT, NO_VM_SPEC } from './inRunFaults.js';
import { labFileCopy, type LabFileCopy } from './labFileCopy.js';
import { LabSnapshot } from './LabSnapshot.js';
import { SshdLogMark } from './SshdLogMark.js';

/** A refusal is immediate: connect (for the host key), check, exit. */
const REFUSAL_DEADLINE_MS = 120_000;

/**
 * Runs `hil --lab <broken copy> <args>` and judges it as a refusal: exit code, what it said, and
 * whether it touched the hosts (residue against a snapshot, and the sshds' own logs).
 */
async function refusal(lab: LabConfig, fault: string, copy: LabFileCopy, args: readonly string[]): Promise<FaultVerdict> {
  try {
    const before = LabSnapshot.take(lab);
    const mark = SshdLogMark.now(lab);
    const startedAtMs = Date.now();
    const child = new HilChild(['--lab', copy.file, ...args]);
    const exit = await child.exit(REFUSAL_DEADLINE_MS);
    const residue = LabSnapshot.take(lab).residueSince(before, child.runId === null ? [] : [child.runId]);
    return {
      fault, exit: describeExit(exit), outcomes: [], messageHead: messageHead(null, child.output),
      // Nothing to clean when nothing was touched: the time is how long the refusal took.
      cleanupMs: residue.length === 0 ? exit.atMs - startedAtMs : null, residue,
      evidence: {
        connections: mark.connectionsSince(),
        logins: Object.keys(lab.hosts).flatMap((host) => mark.linesSince(host, /Accepted publickey/).map((line) => `${host}: ${line}`)),
      },
      output: child.output,
    };
  } finally {
    copy.remove();
  }
}

/**
 * The source host's key is not the one the controller knows: a copy of the lab file whose
 * known_hosts for that host holds a freshly made key instead (the lab's own files stay as they are).
 */
export function hostKeyChangedLab(lab: LabConfig): LabFileCopy {
  const source = lab.hosts[lab.pairs[0]!.source]!;
  return labFileCopy(lab.file, (doc, dir) => {
    const otherKey = join(dir, 'other_host_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'not-the-host', '-f', otherKey], { timeout: 30_000 });
    const [type, key] = readFileSync(`${otherKey}.pub`, 'utf8').trim().split(/\s+/);
    const name = source.port === 22 ? source.address : `[${source.address}]:${source.port}`;
    writeFileSync(join(dir, 'known_hosts'), `${name} ${type} ${key}\n`);
    doc.setIn(['hosts', source.name, 'knownHosts'], join(dir, 'known_hosts'));
    // A refused run must not leave its (empty) run folder among the project's reports.
    doc.setIn(['lab', 'reportsDir'], join(dir, 'reports'));
  });
}

/** `hil preflight` or `hil run` against a host whose key changed: refused, exit 2, nothing touched. */
export function injectHostKeyChanged(lab: LabConfig, command: 'preflight' | 'run'): Promise<FaultVerdict> {
  const args = command === 'preflight' ? ['preflight'] : ['run', NO_VM_SPEC, ...LEASE_WAIT];
  return refusal(lab, `host key changed (hil ${command})`, hostKeyChangedLab(lab), args);
}

/** Ways reports cannot be written that root's permission bypass does not get around. */
export type UnwritableReports = 'file-in-the-way' | 'proc' | 'full';

/** A copy of the lab file whose reportsDir cannot be written, and how to undo what it set up. */
function unwritableReportsLab(lab: LabConfig, how: UnwritableReports): LabFileCopy {
  let mounted: string | null = null;
  const copy = labFileCopy(lab.file, (doc, dir) => {
    let reportsDir: string;
    if (how === 'file-in-the-way') {
      writeFileSync(join(dir, 'not-a-folder'), 'a file where reportsDir needs a folder\n');
      reportsDir = join(dir, 'not-a-folder', 'reports');
    } else if (how === 'proc') {
      reportsDir = '/proc/hil-reports';
    } else {
      // A 64 KiB tmpfs filled to the last byte: writable by permissions, but full.
      mounted = join(dir, 'full');
      mkdirSync(mounted);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'hil-fault-full', mounted]);
      fillUp(join(mounted, 'fill'));
      reportsDir = mounted;
    }
    doc.setIn(['lab', 'reportsDir'], reportsDir);
  });
  return {
    ...copy,
    remove: () => {
      if (mounted !== null) execFileSync('umount', [mounted]);
      copy.remove();
    },
  };
}

/** Writes zeros to `file` until its file system says it is full. */
function fillUp(file: string): void {
  const chunk = Buffer.alloc(4096);
  const fd = openSync(file, 'w');
  try {
    for (let written = 0; written < 1024 * 1024 * 1024; written += chunk.length) writeSync(fd, chunk);
    throw new Error(`${file}: still not full after 1 GiB`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
}

/** `hil run` with a reportsDir it cannot write: refused up front, exit 2, no host touched. */
export function injectReportsUnwritable(lab: LabConfig, how: UnwritableReports): Promise<FaultVerdict> {
  return refusal(lab, `reports ${how === 'full' ? 'folder full' : `unwritable (${how})`}`, unwritableReportsLab(lab, how), ['run', NO_VM_SPEC, ...LEASE_WAIT]);
}
