import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { isAlive } from '../virtual-lab/processes.js';
import { waitFor } from '../waitFor.js';
import { NestedLabError } from './NestedLabError.js';

/**
 * An exclusive lock on the nested lab's caches, held while images are checked or built: two
 * `hil lab up --nested` (or a test instance sharing the caches) would otherwise both find no
 * image and build into the same scratch folders. The lock file holds the holder's pid; a lock
 * whose holder is dead is taken over.
 */
export class CacheLock {
  private isHeld = false;

  constructor(readonly path: string) {}

  private tryTake(): { taken: true } | { taken: false; holder: string } {
    mkdirSync(dirname(this.path), { recursive: true });
    try {
      const fd = openSync(this.path, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return { taken: true };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const text = readFileSync(this.path, 'utf8').trim();
    const pid = Number(text);
    // Written between open and write by its holder: try again on the next poll.
    if (text === '') return { taken: false, holder: 'a process that is writing the lock' };
    if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) {
      rmSync(this.path, { force: true });
      return this.tryTake();
    }
    return { taken: false, holder: `pid ${pid}` };
  }

  async acquire(timeoutMs: number): Promise<void> {
    await waitFor(
      `the nested lab's cache lock ${this.path}`,
      () => {
        const attempt = this.tryTake();
        return attempt.taken ? { isDone: true, value: undefined } : { isDone: false, seen: `held by ${attempt.holder}` };
      },
      {
        timeoutMs,
        intervalMs: 500,
        onTimeout: (what, ms, lastSeen) => new NestedLabError('NESTED_CACHE_LOCKED', `Timed out after ${ms} ms waiting for ${what} (${lastSeen}): another nested lab build is running`),
      },
    );
    this.isHeld = true;
  }

  release(): void {
    if (!this.isHeld) return;
    rmSync(this.path, { force: true });
    this.isHeld = false;
  }

  async with<T>(timeoutMs: number, work: () => Promise<T>): Promise<T> {
    await this.acquire(timeoutMs);
    try {
      return await work();
    } finally {
      this.release();
    }
  }
}
