import { expect } from 'chai';
import { HarnessError, InfrastructureError } from '../errors.js';
import { bootOutcomeOf, formatBootTable, l1HealthFindings, percentile, summariseBoots, type L2BootRecord } from './l2BootTally.js';

describe('l2BootTally', () => {
  it('tells a reset from a hang from any other error by the shell wait\'s codes', () => {
    expect(bootOutcomeOf(new InfrastructureError('GUEST_RESET_BEFORE_SHELL', 'reset'))).to.equal('reset');
    expect(bootOutcomeOf(new InfrastructureError('GUEST_NOT_READY', 'hung'))).to.equal('hang');
    expect(bootOutcomeOf(new HarnessError('CONSOLE_CLOSED', 'the attach command exited (code 255)'))).to.equal('console-lost');
    expect(bootOutcomeOf(new HarnessError('PROVISIONING_FAILED', 'no mdev'))).to.equal('error');
    expect(bootOutcomeOf(new Error('GUEST_RESET_BEFORE_SHELL'))).to.equal('error');
  });

  it('takes nearest-rank percentiles', () => {
    expect(percentile([], 50)).to.equal(undefined);
    expect(percentile([30, 10, 20], 50)).to.equal(20);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 100], 95)).to.equal(19);
    expect(percentile([5], 95)).to.equal(5);
  });

  it('counts outcomes per configuration, times only the boots that reached a shell, and keeps the uptime of each failure', () => {
    const records: L2BootRecord[] = [
      { config: 'none', host: 'host-a', outcome: 'shell', readyMs: 20_000 },
      { config: 'none', host: 'host-b', outcome: 'reset', l1UptimeSeconds: 812.4 },
      { config: 'mtty', host: 'host-a', outcome: 'shell', readyMs: 25_000 },
      { config: 'none', host: 'host-a', outcome: 'shell', readyMs: 18_000 },
      { config: 'none', host: 'host-a', outcome: 'hang', l1UptimeSeconds: 900 },
      { config: 'mtty', host: 'host-b', outcome: 'l1-lost' },
      { config: 'mtty', host: 'host-a', outcome: 'console-lost', l1UptimeSeconds: 300 },
    ];
    const [none, mtty] = summariseBoots(records);
    expect(none).to.deep.include({ config: 'none', boots: 4, shells: 2, resets: 1, hangs: 1, consoleLost: 0, l1Lost: 0, errors: 0, readyP50Ms: 18_000, readyP95Ms: 20_000 });
    expect(none!.failureUptimesSeconds).to.deep.equal([812.4, 900]);
    expect(mtty).to.deep.include({ config: 'mtty', boots: 3, shells: 1, consoleLost: 1, l1Lost: 1 });
    expect(mtty!.failureUptimesSeconds).to.deep.equal([undefined, 300]);
    const table = formatBootTable([none!, mtty!]).split('\n');
    expect(table[1]).to.match(/^none\s+4\s+2\s+1\s+1\s+0\s+0\s+0\s+18\.0\s+20\.0\s+812,900$/);
    expect(table[2]).to.match(/^mtty\s+3\s+1\s+0\s+0\s+1\s+1\s+0\s+25\.0\s+25\.0\s+\?,300$/);
    expect(table[3]).to.match(/^all\s+7\s+3\s+1\s+1\s+1\s+1\s+0$/);
  });

  it('finds panics, lockups and warnings in an L1 kernel log, each counted once', () => {
    const log = [
      '[  10.0] kvm_amd: Nested Virtualization enabled',
      '[ 900.1] Kernel panic - not syncing: corrupted stack end detected inside scheduler',
      '[ 500.2] watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [qemu-system-x86:1234]',
      '[ 600.3] WARNING: CPU: 0 PID: 77 at arch/x86/kvm/svm/nested.c:123 nested_svm_vmrun+0x1/0x2',
      '[ 601.0] RIP: 0010:nested_svm_vmrun+0x1/0x2',
    ].join('\n');
    const findings = l1HealthFindings(log);
    expect(findings).to.deep.include({ panics: 1, softLockups: 1, hardLockups: 0, warnings: 2 });
    expect(findings.lines[0]).to.contain('corrupted stack end');
    expect(l1HealthFindings('[ 1.0] kvm_amd: Nested Paging enabled\n')).to.deep.include({ panics: 0, softLockups: 0, warnings: 0 });
  });
});
