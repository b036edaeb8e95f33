import { expect } from 'chai';
import { InfrastructureError } from '../../harness/errors.js';
import { judgeHooks, PhaseHookError, type PhaseHook } from '../../harness/migration/PhaseHook.js';
import { completedRecord } from './recordFixture.js';

const hook = (name: string, extra: Partial<PhaseHook> = {}): PhaseHook => ({ name, at: { kind: 'pass', pass: 3 }, action: async () => undefined, ...extra });

describe('phase hooks: a hook that failed or never fired fails the test', () => {
  it('passes when every hook fired without an error', () => {
    expect(judgeHooks([{ hook: hook('switch domains'), hasFired: true }], completedRecord())).to.equal(null);
  });

  it('negative control: a hook whose action threw is a failure naming it and what it threw', () => {
    const error = judgeHooks([{ hook: hook('switch domains'), hasFired: true, error: new Error('vfio-loop: 0 of 200 cycles succeeded') }], completedRecord());
    expect(error).to.be.instanceOf(PhaseHookError);
    expect(error!.code).to.equal('PHASE_HOOK_FAILED');
    expect(error!.isInfrastructure).to.equal(false);
    expect(error!.message).to.match(/"switch domains" \(at pass 3\) failed: vfio-loop: 0 of 200 cycles succeeded; migration m1 host-a→host-b ended completed/);
  });

  it('a hook that failed because the lab did (SSH gone) is the lab\'s failure, not the product\'s', () => {
    const error = judgeHooks([{ hook: hook('switch domains'), hasFired: true, error: new InfrastructureError('SSH_LOST', 'SSH to host-a lost') }], completedRecord());
    expect(error!.code).to.equal('PHASE_HOOK_FAILED');
    expect(error!.isInfrastructure).to.equal(true);
  });

  it('negative control: a required hook that never fired is a failure naming its phase and where the migration stopped', () => {
    const record = completedRecord({ samples: [{ atMs: 10, status: 'completed', dirtySyncCount: 2 }] });
    const error = judgeHooks([{ hook: hook('raise the limit'), hasFired: false }], record);
    expect(error!.code).to.equal('PHASE_HOOK_NOT_FIRED');
    expect(error!.message).to.match(/"raise the limit" \(at pass 3\) never fired: migration m1 host-a→host-b ended completed before its phase was reached \(last query-migrate: status completed, dirty-sync-count 2\)/);
  });

  it('a conditional hook may stay unfired, but not fail', () => {
    const fallback = hook('raise the limit', { isConditional: true });
    expect(judgeHooks([{ hook: fallback, hasFired: false }], completedRecord())).to.equal(null);
    expect(judgeHooks([{ hook: fallback, hasFired: true, error: new Error('QMP refused') }], completedRecord())!.code).to.equal('PHASE_HOOK_FAILED');
  });
});
