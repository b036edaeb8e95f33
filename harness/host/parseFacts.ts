import type { QemuBuildIdentity } from '../config/QemuBuildIdentity.js';
import type { ClockFacts, HostFacts, PciFunctionFacts } from './HostFacts.js';

/** Turns the `key<TAB>value` lines of factsScript into HostFacts. */
export function parseFacts(host: string, qemuBinary: string, text: string, clock: ClockFacts, identity: QemuBuildIdentity = { kind: 'binary', name: qemuBinary }): HostFacts {
  const all = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab <= 0) continue;
    const key = line.slice(0, tab);
    const list = all.get(key) ?? [];
    list.push(line.slice(tab + 1));
    all.set(key, list);
  }
  const one = (key: string): string | null => all.get(key)?.[0] ?? null;
  const many = (key: string): string[] => all.get(key) ?? [];
  const has = (key: string): boolean => one(key) === 'yes';
  const intOrNull = (text: string | undefined): number | null => (text === undefined || text === '' || !/^\d+$/.test(text) ? null : Number(text));

  const cmdline = one('cmdline') ?? '';
  const versionLine = one('qemu.version');
  const [memTotalKiB, memAvailableKiB] = (one('mem') ?? '0 0').split(' ').map(Number);

  const pciFunctions: PciFunctionFacts[] = many('pci').map((row) => {
    const [address = '', driver = '', group = '', total = '', numVfs = '', netdevs = ''] = row.split('|');
    return {
      address,
      driver: driver === '' ? null : driver,
      iommuGroup: intOrNull(group),
      sriovTotalVfs: intOrNull(total),
      sriovNumVfs: intOrNull(numVfs),
      netdevs: netdevs.split(',').filter((n) => n !== ''),
    };
  });

  return {
    host,
    hostname: one('hostname') ?? '',
    kernelRelease: one('kernel') ?? '',
    kernelCmdline: cmdline,
    iommu: {
      units: many('iommu.unit').map((row) => {
        const [unit = '', intelEcap = '', amdFeatures = ''] = row.split('|');
        return { unit, ...(intelEcap !== '' ? { intelEcap } : {}), ...(amdFeatures !== '' ? { amdFeatures } : {}) };
      }),
      groupCount: Number(one('iommu.groups') ?? '0'),
      isScalableModeDefaultOn: one('iommu.smdefault') === null ? null : one('iommu.smdefault') === 'on',
      dmesgAmdEfr: one('iommu.dmesgefr'),
    },
    hasDevVfio: many('vfio.entry').length > 0,
    devVfioEntries: many('vfio.entry'),
    vfioCdevs: many('vfio.cdev'),
    hasDevIommu: has('dev.iommu'),
    hasDevKvm: has('dev.kvm'),
    modulesLoaded: many('module.loaded'),
    modulesAvailable: many('module.available'),
    netdevs: many('netdev').map((row) => {
      const [name = '', driver = '', pci = '', state = ''] = row.split('|');
      return {
        name,
        driver: driver === '' ? null : driver,
        pciAddress: /^[0-9a-f]{4}:/.test(pci) ? pci : null,
        isUp: state === 'up' || state === 'unknown',
      };
    }),
    pciFunctions,
    mdevParents: many('mdev.parent'),
    qemu: {
      binary: qemuBinary,
      isPresent: versionLine !== null,
      version: versionLine?.match(/version (\d+\.\d+(?:\.\d+)?)/)?.[1] ?? null,
      versionLine,
      hasIommufdObject: has('qemu.iommufd'),
      vfioPciProperties: (one('qemu.vfioprops') ?? '').split(',').filter((p) => p !== ''),
      hasIntelIommu: has('qemu.intel-iommu'),
      nicModels: many('qemu.nic'),
      identity,
    },
    clock,
    memTotalMiB: Math.round((memTotalKiB ?? 0) / 1024),
    memAvailableMiB: Math.round((memAvailableKiB ?? 0) / 1024),
    hasLeftoverJournal: has('journal'),
    harnessQemuPids: many('harness.qemu').map(Number),
  };
}

/** Compares dotted versions: negative when a < b. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
