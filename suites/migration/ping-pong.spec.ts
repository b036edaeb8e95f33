import * as chai from 'chai';
import { migrationAssertions } from '../../harness/assert/migrationAssertions.js';
import { NIC_GUEST_DRIVER, readGuestImageFacts } from '../../harness/guest/GuestImageFacts.js';
import { readBootId } from '../../harness/guest/readBootId.js';
import { requireCapabilities } from '../../harness/mocha/mochaContext.js';
import type { Capability } from '../../harness/host/capabilities.js';
import { keyedIt } from '../../harness/mocha/testId.js';

chai.use(migrationAssertions);
const { expect } = chai;

/** Migrations per cell: A→B, B→A, ... */
const MIGRATIONS = 4;
const NIC_MODELS = ['virtio-net-pci', 'e1000e'] as const;

describe('migration/ping-pong: the guest migrates A→B→A and keeps running', function () {
  for (const nicModel of NIC_MODELS) {
    for (const hasViommu of [false, true]) {
      keyedIt(`${nicModel}/${hasViommu ? 'viommu' : 'no-viommu'}`, `${nicModel}, ${hasViommu ? 'with vIOMMU' : 'no vIOMMU'}: ${MIGRATIONS} migrations, same boot id, downtime and outage within limits`, async function () {
        const lab = this.lab;
        const guest = lab.lab.guests['default']!;
        // Labelled before any skip, so a skipped cell still shows in the report's matrix.
        Object.assign(this.scope.labels, { backend: 'emulated', nic: nicModel, viommu: hasViommu ? 'intel-iommu' : 'none', guestRamMiB: String(guest.memoryMiB) });
        const needs: Capability[] = hasViommu ? ['emulated-nic', 'viommu'] : ['emulated-nic'];
        requireCapabilities(this, needs);
        const driver = NIC_GUEST_DRIVER[nicModel]!;
        if (readGuestImageFacts(guest).modulesMissing.includes(driver)) {
          this.test!.hilSkipReason = `missing capability: the guest image has no ${driver} driver for ${nicModel} (set virtualLab.guestKernelFlavour: generic)`;
          this.skip();
        }
        const limits = lab.lab.defaults.limits;
        const hosts = [lab.pair.source, lab.pair.destination] as const;

        let vm = await lab.launchVm(this.scope, { host: hosts[0], role: 'vm0', nicModel, hasViommu });
        const probe = await lab.startProbe(this.scope);
        await probe.waitForReply(lab.lab.defaults.timeouts.bootMs);
        const bootId = await readBootId(vm.openConsole());

        for (let i = 1; i <= MIGRATIONS; i++) {
          const next = await lab.launchVm(this.scope, { host: hosts[i % 2]!, role: `vm${i}`, nicModel, hasViommu, isIncoming: true });
          const record = await lab.migrate(this.scope, vm, next, { probe });
          expect(record).to.have.completed();
          expect(record).downtimeBelow(limits.downtimeMs);
          expect(record).outageBelow(limits.guestOutageMs);
          await vm.stop();
          vm = next;
          expect(await readBootId(vm.openConsole()), `boot id after migration ${i}`).to.equal(bootId);
        }
      });
    }
  }
});
