import * as chai from 'chai';
import { migrationAssertions } from '../../harness/assert/migrationAssertions.js';
import { sourceActiveWindow } from '../../harness/bugs/sourceActiveWindow.js';
import { runVfioLoop } from '../../harness/guest/runVfioLoop.js';
import { domainSwitchHook } from '../../harness/guest/domainSwitchHook.js';
import { GUEST_PCI_IDS } from '../../harness/guest/guestPciFunctions.js';
import { readBootId } from '../../harness/guest/readBootId.js';
import { requireCapabilities } from '../../harness/mocha/mochaContext.js';
import { parseTraceLog, selectTraceLines } from '../../harness/qemu/parseTraceLog.js';
import { sh } from '../../harness/shell.js';
import {
  BLOCKED_DOMAIN_REFERENCES, DOMAIN_SWITCH_DEVICE_ARGS, armDomainSwitchLoop, expectedDefaultDomains, guestAppend, prepareGuestDevice,
  traceDeviceName, VTD_TRACE_PATTERNS, type DomainSwitchWay, type GuestIommuMode,
} from './blockedDomainSetup.js';
import { keyedIt } from '../../harness/mocha/testId.js';

chai.use(migrationAssertions);
const { expect } = chai;

/**
 * Pre-copy must outlast the guest's loop (the loop runs on the source guest, which stops at
 * switchover): ~95 MiB of an idle 256 MiB guest at 16 MiB/s is ~6 s against a loop bounded to 3 s.
 */
const MAX_BANDWIDTH_BYTES_PER_SEC = 16 * 1024 * 1024;
const LOOP_BUDGET = { cycles: 25, maxSeconds: 3 };
const SYSFS_LOOP_BUDGET = { cycles: 10, maxSeconds: 3 };

interface Variant {
  readonly id: string;
  readonly title: string;
  readonly mode: GuestIommuMode;
  readonly way: DomainSwitchWay;
}

const VARIANTS: readonly Variant[] = [
  { id: 'C-guest-a', title: 'VFIO user program, guest iommu=nopt (DMA → blocked → unmanaged, the patch-7 trigger)', mode: 'nopt', way: 'vfio-user-program' },
  { id: 'C-guest-b', title: 'sysfs default-domain type DMA ↔ identity, guest iommu=nopt', mode: 'nopt', way: 'sysfs-default-domain' },
  { id: 'C3-guest', title: 'VFIO user program, guest iommu=pt (identity → blocked, the listener-patch trigger)', mode: 'pt', way: 'vfio-user-program' },
];

describe('blocked-domain/guest: the guest moves a device behind its vIOMMU through the blocking domain while migration is active (brief §7 C, guest side)', function () {
  for (const variant of VARIANTS) {
    keyedIt(variant.id, `${variant.id} ${variant.title}: migration completes, every cycle succeeds inside pre-copy, the vIOMMU sees the switches, the device still works after`, async function () {
      requireCapabilities(this, ['emulated-nic', 'viommu']);
      const lab = this.lab;
      const guest = lab.lab.guests['default']!;
      this.scope.references.push(...BLOCKED_DOMAIN_REFERENCES);
      Object.assign(this.scope.labels, { scenario: variant.id, viommu: 'intel-iommu', guestIommu: variant.mode, way: variant.way, device: 'emulated e1000e, vfio-pci in the guest' });
      const launch = { viommu: { model: 'intel-iommu' as const }, append: guestAppend(guest, variant.mode), deviceUnderTestArgs: DOMAIN_SWITCH_DEVICE_ARGS, tracePatterns: VTD_TRACE_PATTERNS };

      const src = await lab.launchVm(this.scope, { host: lab.pair.source, role: 'src', ...launch });
      const probe = await lab.startProbe(this.scope);
      await src.waitForEcho(probe, lab.lab.defaults.timeouts.bootMs);
      const srcConsole = src.openConsole();
      const bootId = await readBootId(srcConsole);
      const binding = await src.prepareDevice(() => prepareGuestDevice(srcConsole, GUEST_PCI_IDS.e1000e, 'domain-switch e1000e', variant.way));
      expect(expectedDefaultDomains(variant.mode), `default domain of group ${binding.iommuGroup} with iommu=${variant.mode}`).to.include(binding.defaultDomainType);

      const dst = await lab.launchVm(this.scope, { host: lab.pair.destination, role: 'dst', isIncoming: true, ...launch });
      const budget = variant.way === 'vfio-user-program' ? LOOP_BUDGET : SYSFS_LOOP_BUDGET;
      const loop = await armDomainSwitchLoop(srcConsole, binding.bdf, variant.way, budget);
      const switching = domainSwitchHook({
        name: `${variant.way} on ${binding.bdf}`,
        at: { kind: 'activeFor', ms: 300 },
        loop,
        migrationStatus: async () => (await src.qmp.execute<{ status: string }>('query-migrate')).status,
      });
      const record = await lab.migrate(this.scope, src, dst, { probe, hooks: [switching.hook], maxBandwidthBytesPerSec: MAX_BANDWIDTH_BYTES_PER_SEC });
      expect(record).to.have.completed();
      const { outcome, statusBefore, statusAfter } = switching.result();
      this.scope.writeArtifact('domain-switch.json', 'other', 'the guest loop during migration', JSON.stringify(switching.result(), null, 2));
      expect(outcome.errors, 'errors of the guest loop').to.deep.equal([]);
      expect(outcome.failedCycles, 'failed cycles').to.equal(0);
      expect(outcome.cycles, 'cycles run').to.be.at.least(1);
      expect(outcome.succeededCycles, 'cycles the guest counted as successful').to.equal(outcome.cycles);
      expect(switching.wasInsideActivePhase, `the loop ran inside pre-copy (status before "${statusBefore}", after "${statusAfter}"); lower max-bandwidth if not`).to.equal(true);

      // Stopping the source flushes its trace file; the guest now runs on the destination.
      srcConsole.close();
      await src.stop();
      const trace = parseTraceLog(await lab.readTrace(src));
      const active = sourceActiveWindow(record);
      const invalidations = selectTraceLines(trace, 'vtd_inv_desc_cc_*', active);
      // Every cycle changes the device's domain at least twice, each a context-cache invalidation.
      expect(invalidations.length, `context-cache invalidations on the source during pre-copy (${outcome.cycles} cycles)`).to.be.at.least(outcome.cycles);
      if (variant.mode === 'pt') {
        const device = traceDeviceName(binding.bdf);
        const switches = selectTraceLines(trace, 'vtd_switch_address_space', active).filter((l) => l.args.includes(`Device ${device} `));
        expect(switches.some((l) => l.args.includes('iommu enabled=1')), `${device} left identity (vtd_switch_address_space iommu enabled=1) during pre-copy`).to.equal(true);
        expect(switches.some((l) => l.args.includes('iommu enabled=0')), `${device} came back to identity (iommu enabled=0) during pre-copy`).to.equal(true);
      }

      const dstConsole = dst.openConsole();
      expect(await readBootId(dstConsole), 'boot id on the destination').to.equal(bootId);
      const after = await runVfioLoop(dstConsole, binding.bdf, { cycles: 1 });
      expect(after.succeededCycles, `a VFIO claim of ${binding.bdf} on the destination: ${after.errors.join('; ')}`).to.equal(1);
      const type = await dstConsole.run(sh`cat ${`/sys/kernel/iommu_groups/${binding.iommuGroup}/type`}`);
      expect(type.stdout.trim(), 'default domain after migration').to.equal(binding.defaultDomainType);
    });
  }
});
