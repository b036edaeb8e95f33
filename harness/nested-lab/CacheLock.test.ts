import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheLock } from './CacheLock.js';

describe('CacheLock', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hil-cache-lock-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is exclusive: a second taker times out naming the holder, and gets it once released', async () => {
    const path = join(dir, 'a.lock');
    const first = new CacheLock(path);
    await first.acquire(1_000);
    const failure = await new CacheLock(path).acquire(600).then(() => 'taken', (error: unknown) => String(error));
    expect(failure).to.match(new RegExp(`held by pid ${process.pid}`));
    first.release();
    expect(existsSync(path)).to.equal(false);
    await new CacheLock(path).with(1_000, async () => expect(existsSync(path)).to.equal(true));
    expect(existsSync(path)).to.equal(false);
  });

  it('takes over a lock whose holder is dead', async () => {
    const path = join(dir, 'b.lock');
    // Pid 2^22 + 1 is above Linux's pid_max limit: no process has it.
    writeFileSync(path, `${2 ** 22 + 1}\n`);
    await new CacheLock(path).with(1_000, async () => undefined);
    expect(existsSync(path)).to.equal(false);
  });
});
