import { expect } from 'chai';
import { spawnSync, spawn } from 'node:child_process';
import { isDeadRunOfThisController } from './HostLease.js';
import { leaseHolder, type LeaseRecord } from './HostLeaseRecord.js';

function record(owner: string, pid: number): LeaseRecord {
  return { owner, runId: 'r1', pid, token: 't', acquiredAtS: 0, renewedAtS: 0, expiresAtS: 1 };
}

describe('a lease left by a dead run of this controller', () => {
  const us = leaseHolder('now');

  it('is recognised when its process is gone', () => {
    const gone = spawnSync('true').pid!;
    expect(isDeadRunOfThisController(record(us.owner, gone), us)).to.equal(true);
  });

  it('is not when the process lives, when it is ours, or when another controller holds it', async () => {
    const child = spawn('sleep', ['5']);
    try {
      expect(isDeadRunOfThisController(record(us.owner, child.pid!), us)).to.equal(false);
    } finally {
      child.kill();
    }
    expect(isDeadRunOfThisController(record(us.owner, process.pid), us)).to.equal(false);
    expect(isDeadRunOfThisController(record('ci@other-controller', spawnSync('true').pid!), us)).to.equal(false);
  });
});
