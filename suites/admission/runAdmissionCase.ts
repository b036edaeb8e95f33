import { expect } from 'chai';
import { observeMigration } from '../../harness/bugs/observeMigration.js';
import type { Capability } from '../../harness/host/capabilities.js';
import { requireCapabilities } from '../../harness/mocha/mochaContext.js';
import { selectTraceLines } from '../../harness/qemu/parseTraceLog.js';
import type { VfioBackend } from '../../harness/qemu/VmSpec.js';
import { requireDevicePair, vfioVmNic } from '../../harness/session/assignableDevices.js';
import { A11_GUEST_RAM_MIB, type AdmissionCase } from './admissionCases.js';
import { SERIES_REFERENCES, seriesState } from './seriesState.js';

/** IOMMU_HWPT_ALLOC_DIRTY_TRACKING (brief §5.3): bit 1 of iommufd_backend_alloc_hwpt's flags. */
const HWPT_ALLOC_DIRTY_TRACKING = 0x2;

function skip(context: Mocha.Context, reason: string): never {
  context.test!.hilSkipReason = reason;
  context.skip();
  throw new Error('unreachable: mocha skip throws');
}

/** Runs one admission case on one backend and checks QEMU's answer (brief §7 A). */
export async function runAdmissionCase(context: Mocha.Context, test: AdmissionCase, backend: VfioBackend): Promise<void> {
  const needed: Capability[] = ['vfio', ...test.capabilities, ...(backend === 'iommufd' ? ['iommufd' as const] : [])];
  requireCapabilities(context, needed);
  const lab = context.lab;
  const facts = lab.hostPreflight(lab.pair.source).facts;
  const series = seriesState(facts?.qemu);
  if (series.state === 'unknown' && test.expect('pre').kind !== test.expect('post').kind) skip(context, `cannot tell what to expect: ${series.why}`);
  const expected = test.expect(series.state === 'fixed' ? 'post' : 'pre');
  const devices = await requireDevicePair(context, test.need, test.lookup);
  const why = test.precondition?.({ memTotalMiB: facts?.memTotalMiB ?? 0, hasIommuDirtyTracking: lab.missingCapabilities(['iommu-dirty-tracking']) === null, deviceKind: devices.source.kind });
  if (why !== undefined && why !== null) skip(context, why);
  context.scope.references.push(...SERIES_REFERENCES);
  Object.assign(context.scope.labels, { scenario: test.id, backend, device: `${devices.source.kind} ${devices.source.nic.name}`, expected: expected.kind, series: series.state });

  const name = devices.source.qemuName;
  /** QEMU's "<name>: <text>" (or just the text for a message about no device in particular). */
  const says = (message: string): boolean => (!('isNamed' in expected) || !expected.isNamed || message.includes(`${name}: `)) && 'text' in expected && message.includes(expected.text);
  const wanted = 'text' in expected ? `${expected.isNamed ? `${name}: …` : ''}${expected.text}` : 'no blocker';
  const nic = (device: typeof devices.source) => vfioVmNic(device, { id: 'vf0', backend, migration: test.migration });
  const common = {
    ...(test.viommu !== undefined ? { viommu: test.viommu } : {}),
    ...(test.id === 'A11' ? { memoryMiB: A11_GUEST_RAM_MIB } : {}),
    ...(test.tracePatterns !== undefined ? { tracePatterns: test.tracePatterns } : {}),
  };
  // Only a blocker or a migrate-time check needs `migrate` (and so a destination).
  const isMigrating = expected.kind === 'blocked' || expected.kind === 'migrate-error';
  const { observation } = await observeMigration(context, {
    launch: { nics: [nic(devices.source)], ...common },
    destinationLaunch: { nics: [nic(devices.destination)], ...common },
    isMigrating,
    ...(test.extraCapabilities !== undefined ? { extraCapabilities: test.extraCapabilities } : {}),
  });
  context.scope.writeArtifact('admission.json', 'other', `what QEMU did with ${test.id}/${backend}`, JSON.stringify({ expected: { kind: expected.kind, text: wanted }, startError: observation.startError, blockedReasons: observation.blockedReasons, outcome: observation.record?.outcome ?? null, reason: observation.record?.reason ?? null }, null, 2));

  switch (expected.kind) {
    case 'realize-error':
      expect(observation.startError, 'QEMU should have refused to start').to.be.a('string');
      expect(says(observation.startError!), `the realize error says "${wanted}": ${observation.startError}`).to.equal(true);
      return;
    case 'blocked':
      expect(observation.startError, 'QEMU start').to.equal(null);
      expect(observation.blockedReasons.some(says), `blocked-reasons ${JSON.stringify(observation.blockedReasons)} include "${wanted}"`).to.equal(true);
      expect(observation.record?.outcome, `migrate refused (${observation.record?.reason ?? ''})`).to.equal('blocked');
      expect(says(observation.record?.reason ?? ''), `the error of migrate says "${wanted}": ${observation.record?.reason ?? ''}`).to.equal(true);
      return;
    case 'warning':
      expect(observation.startError, 'QEMU start').to.equal(null);
      expect(observation.sourceLog.split('\n').some((l) => l.includes('warning: ') && says(l)), `QEMU stderr has "warning: ${wanted}"`).to.equal(true);
      expect(observation.blockedReasons.filter((r) => r.includes(name)), 'no blocker for the device').to.deep.equal([]);
      return;
    case 'migrate-error':
      expect(observation.startError, 'QEMU start').to.equal(null);
      expect(observation.blockedReasons.filter((r) => r.includes(name)), 'no blocker for the device').to.deep.equal([]);
      expect(['failed', 'blocked'], `migrate refused (outcome ${observation.record?.outcome ?? 'none'})`).to.include(observation.record?.outcome);
      expect(says(observation.record?.reason ?? ''), `the error of migrate says "${wanted}": ${observation.record?.reason ?? ''}`).to.equal(true);
      return;
    case 'admitted':
      expect(observation.startError, 'QEMU start').to.equal(null);
      expect(observation.blockedReasons.filter((r) => r.includes(name)), 'no blocker for the device').to.deep.equal([]);
      if (test.tracePatterns?.includes('iommufd_backend_alloc_hwpt') === true) {
        const flags = selectTraceLines(observation.sourceTrace, 'iommufd_backend_alloc_hwpt').map((l) => /flags=0x([0-9a-f]+)/i.exec(l.args)?.[1]).filter((f): f is string => f !== undefined).map((f) => parseInt(f, 16));
        expect(flags.some((f) => (f & HWPT_ALLOC_DIRTY_TRACKING) !== 0), `a HWPT allocated with IOMMU_HWPT_ALLOC_DIRTY_TRACKING (flags seen: ${flags.map((f) => `0x${f.toString(16)}`).join(', ') || 'none'})`).to.equal(true);
      }
      return;
  }
}
