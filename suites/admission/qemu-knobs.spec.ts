import { expect } from 'chai';
import { parseQemuVersion } from '../../harness/bugs/qemuFixState.js';
import { SERIES_REFERENCES } from './seriesState.js';
import { keyedIt } from '../../harness/mocha/testId.js';

/** The knobs the admission matrix turns, and the QEMU release each appeared in (brief §2.1, §2.2, §3.1). */
const VFIO_PCI_PROPERTIES: readonly (readonly [string, string])[] = [
  ['enable-migration', '8.1'], ['x-pre-copy-dirty-page-tracking', '5.2'], ['iommufd', '9.0'],
  ['migration-events', '9.1'], ['x-device-dirty-page-tracking', '9.1'], ['x-migration-multifd-transfer', '10.0'],
];
/** "a|b": either name (x-scalable-mode lost its x- in 11.x: 11.1.3 has only scalable-mode). */
const INTEL_IOMMU_PROPERTIES: readonly (readonly [string, string])[] = [['caching-mode', '2.9'], ['x-scalable-mode|scalable-mode', '4.0'], ['intremap', '2.7']];
const MIGRATION_CAPABILITIES: readonly (readonly [string, string])[] = [['events', '2.4'], ['return-path', '2.5'], ['postcopy-ram', '2.6'], ['switchover-ack', '8.1'], ['multifd', '4.0']];

function isAtLeast(version: string, since: string): boolean {
  const a = parseQemuVersion(version)!;
  const b = parseQemuVersion(since)!;
  return a[0] !== b[0] ? a[0] > b[0] : a[1] !== b[1] ? a[1] > b[1] : a[2] >= b[2];
}

describe('admission/qemu-knobs: the QEMU under test has every knob the admission matrix turns, as its version promises (QEMU only)', function () {
  keyedIt('knobs', 'vfio-pci and intel-iommu properties and the migration capabilities the A cases use, per QEMU version', async function () {
    const lab = this.lab;
    const version = lab.hostPreflight(lab.pair.source).facts?.qemu.version ?? null;
    if (version === null || parseQemuVersion(version) === null) {
      this.test!.hilSkipReason = `the QEMU version of ${lab.pair.source} is not known`;
      this.skip();
    }
    this.scope.references.push(...SERIES_REFERENCES);
    Object.assign(this.scope.labels, { qemu: version! });
    // A firmware-only VM is enough: these are questions to QEMU, not to a guest.
    const vm = await lab.launchVm(this.scope, { host: lab.pair.source, role: 'knobs', hasViommu: true, nics: [] });
    const names = async (typename: string) => (await vm.qmp.execute<{ name: string }[]>('device-list-properties', { typename })).map((p) => p.name);
    const vfioPci = await names('vfio-pci');
    const intelIommu = await names('intel-iommu');
    const capabilities = (await vm.qmp.execute<{ capability: string }[]>('query-migrate-capabilities')).map((c) => c.capability);
    const found = { vfioPci, intelIommu, capabilities };
    this.scope.writeArtifact('qemu-knobs.json', 'other', `knobs of QEMU ${version}`, JSON.stringify(found, null, 2));
    const missing: string[] = [];
    for (const [list, table, what] of [[vfioPci, VFIO_PCI_PROPERTIES, 'vfio-pci'], [intelIommu, INTEL_IOMMU_PROPERTIES, 'intel-iommu'], [capabilities, MIGRATION_CAPABILITIES, 'migration capability']] as const) {
      for (const [name, since] of table) if (isAtLeast(version!, since) && !name.split('|').some((n) => list.includes(n))) missing.push(`${what} ${name} (since ${since})`);
    }
    expect(missing, `QEMU ${version} lacks knobs its version should have: ${missing.join(', ')}`).to.deep.equal([]);
  });
});
