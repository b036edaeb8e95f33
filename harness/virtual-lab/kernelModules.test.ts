import { expect } from 'chai';
import { moduleNameOf, parseModulesBuiltin, parseModulesDep, selectModules } from './kernelModules.js';

// An excerpt of depmod's output for Debian's 6.1 cloud kernel.
const DEP = `kernel/drivers/virtio/virtio.ko:
kernel/drivers/virtio/virtio_ring.ko:
kernel/drivers/virtio/virtio_pci_modern_dev.ko:
kernel/drivers/virtio/virtio_pci_legacy_dev.ko:
kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_legacy_dev.ko kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko
kernel/net/core/failover.ko:
kernel/drivers/vfio/pci/vfio-pci.ko.xz: kernel/drivers/vfio/pci/vfio-pci-core.ko.xz kernel/drivers/vfio/vfio.ko.xz
kernel/drivers/vfio/pci/vfio-pci-core.ko.xz: kernel/drivers/vfio/vfio.ko.xz
kernel/drivers/vfio/vfio.ko.xz:
`;

describe('kernelModules', () => {
  it('names modules with underscores and without compression suffixes', () => {
    expect(moduleNameOf('kernel/drivers/vfio/pci/vfio-pci-core.ko.zst')).to.equal('vfio_pci_core');
    expect(moduleNameOf('kernel/net/core/failover.ko')).to.equal('failover');
  });

  it('orders every module after the modules it depends on', () => {
    const selection = selectModules(parseModulesDep(DEP), new Set(), ['virtio_net', 'virtio_pci', 'vfio_pci']);
    const order = selection.loadOrder;
    const at = (suffix: string): number => order.findIndex((p) => p.endsWith(suffix));
    expect(order).to.have.length(11);
    expect(new Set(order).size).to.equal(order.length);
    expect(at('/failover.ko')).to.be.below(at('/net_failover.ko'));
    expect(at('/net_failover.ko')).to.be.below(at('/virtio_net.ko'));
    expect(at('/virtio_ring.ko')).to.be.below(at('/virtio_net.ko'));
    expect(at('/virtio_pci_modern_dev.ko')).to.be.below(at('/virtio_pci.ko'));
    expect(at('/vfio.ko.xz')).to.be.below(at('/vfio-pci-core.ko.xz'));
    expect(at('/vfio-pci-core.ko.xz')).to.be.below(at('/vfio-pci.ko.xz'));
  });

  it('reports built-in and missing modules instead of loading them', () => {
    const builtin = parseModulesBuiltin('kernel/drivers/block/virtio_blk.ko\nkernel/drivers/vfio/vfio_iommu_type1.ko\n');
    const selection = selectModules(parseModulesDep(DEP), builtin, ['vfio_iommu_type1', 'e1000e', 'failover']);
    expect(selection.builtIn).to.deep.equal(['vfio_iommu_type1']);
    expect(selection.missing).to.deep.equal(['e1000e']);
    expect(selection.loadOrder).to.deep.equal(['kernel/net/core/failover.ko']);
  });
});
