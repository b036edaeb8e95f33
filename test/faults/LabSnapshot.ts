import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { LabConfig } from '../../harness/config/types.js';
import { parseLeaseRecord } from '../../harness/host/HostLeaseRecord.js';
import { parseJournalText } from '../../harness/host/UndoJournalEntry.js';
import { becomesTrue } from '../../harness/waitFor.js';

/** A run id as `hil run` makes them (20261124-145802-ab31); QEMU names, VM files, leases and journal entries carry it. */
const RUN_ID = /\b\d{8}-\d{6}-[0-9a-f]{4}\b/g;

/**
 * What a run can leave on the virtual lab's hosts, as one line per item: QEMU processes of the
 * lab, everything under each host's workDir (journal, lease, VM files), the lab's namespaces and
 * their links with their up/down state. Residue is what a snapshot has that an earlier one had
 * not, so files other runs left before the fault are not counted against it.
 */
export class LabSnapshot {
  private constructor(readonly items: ReadonlySet<string>) {}

  static take(lab: LabConfig): LabSnapshot {
    return new LabSnapshot(new Set([...qemuOfLab(lab), ...workDirItems(lab), ...networkItems(lab)]));
  }

  /**
   * Items here that `before` did not have, sorted. With `ownRunIds`, an item naming only other
   * runs is left out: another engineer's run that started meanwhile on the same lab is not residue.
   */
  residueSince(before: LabSnapshot, ownRunIds?: readonly string[]): string[] {
    const isOurs = (item: string): boolean => {
      const named = item.match(RUN_ID) ?? [];
      return ownRunIds === undefined || named.length === 0 || named.some((id) => ownRunIds.includes(id));
    };
    return [...this.items].filter((item) => !before.items.has(item) && isOurs(item)).sort();
  }
}

export interface CleanWait {
  /** Controller clock when the hosts were first seen clean; null: not by the deadline. */
  readonly cleanAtMs: number | null;
  /** What was still there at the last look ([] once clean). */
  readonly residue: string[];
}

/** No watch outlives this, whatever its caller forgets. */
const MAX_WATCH_MS = 3_600_000;

/**
 * Watches the hosts from the moment of a fault until they hold nothing of ours that `before` did
 * not: started at the fault (so the time to clean is measured from it), ended with a grace
 * period once the runs that should clean up have exited.
 */
export class CleanWatch {
  private cleanAtMs: number | null = null;
  private residue: string[] = [];
  private giveUpAtMs = Number.POSITIVE_INFINITY;
  private readonly watching: Promise<boolean>;

  constructor(lab: LabConfig, before: LabSnapshot, ownRunIds?: () => readonly string[]) {
    this.watching = becomesTrue(() => {
      this.residue = LabSnapshot.take(lab).residueSince(before, ownRunIds?.());
      if (this.residue.length === 0) {
        this.cleanAtMs = Date.now();
        return true;
      }
      return Date.now() >= this.giveUpAtMs;
    }, { timeoutMs: MAX_WATCH_MS, intervalMs: 100 });
  }

  /** The result once clean, or `graceMs` from now at the latest. */
  async result(graceMs: number): Promise<CleanWait> {
    this.giveUpAtMs = Date.now() + graceMs;
    await this.watching;
    return { cleanAtMs: this.cleanAtMs, residue: this.residue };
  }
}

/** QEMU processes of this lab's VMs still alive (their command lines name a host's workDir). */
export function qemuOfLab(lab: LabConfig): string[] {
  const workDirs = Object.values(lab.hosts).map((h) => h.workDir);
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    const argv = readProcFile(`/proc/${pid}/cmdline`)?.split('\0') ?? [];
    const guest = argv.find((arg) => arg.startsWith('guest=hil-'));
    if (guest !== undefined && workDirs.some((dir) => argv.some((arg) => arg.includes(dir)))) found.push(`QEMU pid ${pid} ${guest.split(',')[0]}`);
  }
  return found;
}

/** A /proc file, or null when its process ended between listing and reading. */
function readProcFile(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return null;
    throw error;
  }
}

/** Every file and folder under each host's workDir (three levels: journal/, vm/, leases). */
function workDirItems(lab: LabConfig): string[] {
  const items: string[] = [];
  for (const host of Object.values(lab.hosts)) {
    const walk = (dir: string, relative: string, depth: number): void => {
      for (const name of readdirSync(dir).sort()) {
        const path = join(dir, name);
        const shown = `${relative}${name}`;
        if (!existsSync(path)) continue;
        if (statSync(path).isDirectory()) {
          items.push(`${host.name}: ${shown}/${shown === 'journal' ? journalNote(join(path, 'entries')) : ''}`);
          if (depth > 1) walk(path, `${shown}/`, depth - 1);
        } else {
          items.push(`${host.name}: ${shown}${shown === 'lease' ? leaseNote(path) : shown === 'journal/entries' ? journalNote(path) : ''}`);
        }
      }
    };
    if (existsSync(host.workDir)) walk(host.workDir, '', 3);
  }
  return items;
}

/** The runs whose undo entries the journal holds. */
function journalNote(path: string): string {
  if (!existsSync(path)) return '';
  const runs = [...new Set(parseJournalText(readFileSync(path, 'utf8')).entries.map((e) => e.runId))];
  return runs.length === 0 ? '' : ` (runs ${runs.join(', ')})`;
}

function leaseNote(path: string): string {
  const record = parseLeaseRecord(readFileSync(path, 'utf8'));
  return record === null ? ' (unreadable)' : ` (run ${record.runId}, pid ${record.pid})`;
}

/** The lab's namespaces, and each link in them (and in the root namespace) with its admin state. */
function networkItems(lab: LabConfig): string[] {
  const prefix = lab.virtualLab?.prefix ?? 'hil';
  const ip = (args: string[]): unknown[] => {
    const text = execFileSync('ip', ['-j', ...args], { encoding: 'utf8', timeout: 10_000 });
    return text.trim() === '' ? [] : (JSON.parse(text) as unknown[]);
  };
  const namespaces = (ip(['netns', 'list']) as { name: string }[]).map((n) => n.name).filter((n) => n.startsWith(prefix));
  const items = namespaces.map((n) => `netns ${n}`);
  for (const namespace of [null, ...namespaces]) {
    const links = ip(namespace === null ? ['link', 'show'] : ['-n', namespace, 'link', 'show']) as { ifname: string; flags: string[] }[];
    for (const link of links.filter((l) => namespace !== null || l.ifname.startsWith(prefix))) {
      items.push(`link ${namespace ?? '(root)'}/${link.ifname} ${link.flags.includes('UP') ? 'up' : 'down'}`);
    }
  }
  return items;
}
