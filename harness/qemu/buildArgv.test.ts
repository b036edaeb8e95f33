import { expect } from 'chai';
import { buildArgv } from './buildArgv.js';
import { VmSpecError } from './errors.js';
import type { VmNic, VmSpec } from './VmSpec.js';

const BASE: VmSpec = {
  name: 'hil-r1-src',
  machine: 'pc',
  memoryMiB: 256,
  cpus: 1,
  qmpSocket: '/w/hil-r1-src.qmp',
  serialSocket: '/w/hil-r1-src.serial',
  nics: [],
};

/** Every value that follows `flag` in argv, in order. */
function valuesOf(argv: readonly string[], flag: string): string[] {
  return argv.flatMap((word, i) => (word === flag && i + 1 < argv.length ? [argv[i + 1]!] : []));
}

function problemsOf(spec: VmSpec): readonly string[] {
  try {
    buildArgv(spec);
  } catch (error) {
    expect(error).to.be.instanceOf(VmSpecError);
    return (error as VmSpecError).problems;
  }
  throw new Error('expected buildArgv to reject the spec');
}

const VF_LEGACY: VmNic = { kind: 'vfio', id: 'vf0', host: '0000:3b:00.2', backend: 'legacy' };
const VF_IOMMUFD: VmNic = { kind: 'vfio', id: 'vf0', host: '0000:3b:00.2', backend: 'iommufd' };
const MDEV_UUID = '83b8f4f2-509f-382f-3c1e-e6bfe0fa1001';

describe('buildArgv', function () {
  it('builds the minimal VM in a fixed order', function () {
    expect(buildArgv(BASE)).to.deep.equal([
      '-name', 'guest=hil-r1-src',
      '-no-user-config', '-nodefaults', '-display', 'none',
      '-machine', 'pc',
      '-accel', 'tcg',
      '-m', '256M', '-smp', '1',
      '-chardev', 'socket,id=qmp,path=/w/hil-r1-src.qmp,server=on,wait=off', '-mon', 'chardev=qmp,mode=control',
      '-chardev', 'socket,id=serial0,path=/w/hil-r1-src.serial,server=on,wait=off', '-serial', 'chardev:serial0',
    ]);
  });

  it('is pure: same spec, same argv, and the (frozen) spec is not touched', function () {
    const spec = Object.freeze({ ...BASE, nics: Object.freeze([VF_IOMMUFD]), viommu: Object.freeze({ model: 'intel-iommu' as const }), machine: 'q35' as const });
    expect(buildArgv(spec)).to.deep.equal(buildArgv(spec));
  });

  it('selects kvm, a CPU model, timestamps, -S and -incoming defer when asked', function () {
    const argv = buildArgv({ ...BASE, accelerator: 'kvm', cpuModel: 'host', isLogTimestamped: true, startsPaused: true, isIncoming: true });
    expect(valuesOf(argv, '-accel')).to.deep.equal(['kvm']);
    expect(valuesOf(argv, '-cpu')).to.deep.equal(['host']);
    expect(valuesOf(argv, '-msg')).to.deep.equal(['timestamp=on']);
    expect(argv).to.include('-S');
    expect(valuesOf(argv, '-incoming')).to.deep.equal(['defer']);
    expect(buildArgv(BASE)).to.not.include.members(['-S', '-incoming']);
  });

  it('boots a kernel with initrd and command line, or a disk', function () {
    const kernel = buildArgv({ ...BASE, boot: { kind: 'kernel', kernel: '/g/vmlinuz', initrd: '/g/initrd.img', append: 'console=ttyS0 a=b,c' } });
    expect(valuesOf(kernel, '-kernel')).to.deep.equal(['/g/vmlinuz']);
    expect(valuesOf(kernel, '-initrd')).to.deep.equal(['/g/initrd.img']);
    expect(valuesOf(kernel, '-append')).to.deep.equal(['console=ttyS0 a=b,c']);
    const disk = buildArgv({ ...BASE, boot: { kind: 'disk', path: '/g/disk.qcow2', format: 'qcow2', isReadOnly: true } });
    expect(valuesOf(disk, '-drive')).to.deep.equal(['file=/g/disk.qcow2,format=qcow2,if=none,id=disk0-drive,readonly=on']);
    expect(valuesOf(disk, '-device')).to.deep.equal(['virtio-blk-pci,drive=disk0-drive,id=disk0']);
  });

  it('copies the serial line to a log file when asked', function () {
    const argv = buildArgv({ ...BASE, serialLogFile: '/w/console.log' });
    expect(valuesOf(argv, '-chardev')[1]).to.equal('socket,id=serial0,path=/w/hil-r1-src.serial,server=on,wait=off,logfile=/w/console.log,logappend=on');
  });

  for (const model of ['virtio-net-pci', 'e1000e', 'igb'] as const) {
    it(`puts an emulated ${model} on a tap`, function () {
      const argv = buildArgv({ ...BASE, nics: [{ kind: 'emulated', id: 'nic0', model, tap: 'hil-tap0', mac: '52:54:00:23:10:64' }] });
      expect(valuesOf(argv, '-netdev')).to.deep.equal(['tap,id=nic0-net,ifname=hil-tap0,script=no,downscript=no']);
      expect(valuesOf(argv, '-device')).to.deep.equal([`${model},netdev=nic0-net,mac=52:54:00:23:10:64,id=nic0`]);
    });
  }

  it('hands a VF over with the legacy container: host= and no iommufd object', function () {
    const argv = buildArgv({ ...BASE, nics: [VF_LEGACY] });
    expect(valuesOf(argv, '-device')).to.deep.equal(['vfio-pci,host=0000:3b:00.2,id=vf0']);
    expect(argv).to.not.include('-object');
  });

  it('hands VFs over with IOMMUFD: one shared iommufd object, before the devices', function () {
    const argv = buildArgv({ ...BASE, nics: [VF_IOMMUFD, { kind: 'vfio', id: 'vf1', host: '0000:3b:00.3', backend: 'iommufd' }] });
    expect(valuesOf(argv, '-object')).to.deep.equal(['iommufd,id=iommufd0']);
    expect(valuesOf(argv, '-device')).to.deep.equal([
      'vfio-pci,host=0000:3b:00.2,id=vf0,iommufd=iommufd0',
      'vfio-pci,host=0000:3b:00.3,id=vf1,iommufd=iommufd0',
    ]);
    expect(argv.indexOf('iommufd,id=iommufd0')).to.be.below(argv.indexOf('vfio-pci,host=0000:3b:00.2,id=vf0,iommufd=iommufd0'));
  });

  it('hands an mdev over by its sysfs path, with either backend', function () {
    const legacy = buildArgv({ ...BASE, nics: [{ kind: 'mdev', id: 'tty0', uuid: MDEV_UUID }] });
    expect(valuesOf(legacy, '-device')).to.deep.equal([`vfio-pci,sysfsdev=/sys/bus/mdev/devices/${MDEV_UUID},id=tty0`]);
    const iommufd = buildArgv({ ...BASE, nics: [{ kind: 'mdev', id: 'tty0', uuid: MDEV_UUID, backend: 'iommufd' }] });
    expect(valuesOf(iommufd, '-device')).to.deep.equal([`vfio-pci,sysfsdev=/sys/bus/mdev/devices/${MDEV_UUID},id=tty0,iommufd=iommufd0`]);
    expect(valuesOf(iommufd, '-object')).to.deep.equal(['iommufd,id=iommufd0']);
  });

  const migrationTable: { options: NonNullable<Extract<VmNic, { kind: 'vfio' }>['migration']>; suffix: string }[] = [
    { options: {}, suffix: '' },
    { options: { enableMigration: 'on' }, suffix: ',enable-migration=on' },
    { options: { enableMigration: 'off' }, suffix: ',enable-migration=off' },
    { options: { enableMigration: 'auto' }, suffix: ',enable-migration=auto' },
    { options: { migrationEvents: true }, suffix: ',migration-events=on' },
    { options: { migrationEvents: false }, suffix: ',migration-events=off' },
    { options: { deviceDirtyPageTracking: 'off' }, suffix: ',x-device-dirty-page-tracking=off' },
    { options: { preCopyDirtyPageTracking: 'off' }, suffix: ',x-pre-copy-dirty-page-tracking=off' },
    {
      options: { enableMigration: 'on', migrationEvents: true, deviceDirtyPageTracking: 'off', preCopyDirtyPageTracking: 'auto' },
      suffix: ',enable-migration=on,migration-events=on,x-device-dirty-page-tracking=off,x-pre-copy-dirty-page-tracking=auto',
    },
  ];
  for (const { options, suffix } of migrationTable) {
    it(`emits vfio-pci migration properties only when set: ${JSON.stringify(options)}`, function () {
      const argv = buildArgv({ ...BASE, nics: [{ ...VF_LEGACY, migration: options } as VmNic] });
      expect(valuesOf(argv, '-device')).to.deep.equal([`vfio-pci,host=0000:3b:00.2,id=vf0${suffix}`]);
    });
  }

  it('with a vIOMMU: q35 with split irqchip and SATA off, intel-iommu before the VFIO devices', function () {
    const argv = buildArgv({ ...BASE, machine: 'pc-q35-10.0', viommu: { model: 'intel-iommu' }, nics: [VF_IOMMUFD] });
    expect(valuesOf(argv, '-machine')).to.deep.equal(['pc-q35-10.0,kernel-irqchip=split,sata=off']);
    const devices = valuesOf(argv, '-device');
    expect(devices).to.deep.equal(['intel-iommu,id=viommu0,intremap=on,caching-mode=on', 'vfio-pci,host=0000:3b:00.2,id=vf0,iommufd=iommufd0']);
    expect(argv.indexOf(devices[0]!)).to.be.below(argv.indexOf(devices[1]!));
  });

  it('turns on scalable mode and first-stage translation when asked', function () {
    const argv = buildArgv({ ...BASE, machine: 'q35', viommu: { model: 'intel-iommu', isScalableMode: true, hasFirstStageTranslation: true }, nics: [VF_IOMMUFD] });
    expect(valuesOf(argv, '-device')[0]).to.equal('intel-iommu,id=viommu0,intremap=on,caching-mode=on,x-scalable-mode=on,x-flts=on');
  });

  it('sets the address width only when asked (aw-bits=39: the whole-space unmap stays under type1\'s bitmap limit)', function () {
    const argv = buildArgv({ ...BASE, machine: 'q35', viommu: { model: 'intel-iommu', addressWidthBits: 39 }, nics: [VF_LEGACY] });
    expect(valuesOf(argv, '-device')[0]).to.equal('intel-iommu,id=viommu0,intremap=on,caching-mode=on,aw-bits=39');
  });

  it('turns caching-mode off only when asked (admission case A12)', function () {
    const argv = buildArgv({ ...BASE, machine: 'q35', viommu: { model: 'intel-iommu', hasCachingMode: false }, nics: [VF_LEGACY] });
    expect(valuesOf(argv, '-device')[0]).to.equal('intel-iommu,id=viommu0,intremap=on,caching-mode=off');
  });

  it('leaves q35 alone without a vIOMMU', function () {
    expect(valuesOf(buildArgv({ ...BASE, machine: 'q35' }), '-machine')).to.deep.equal(['q35']);
  });

  it('enables each trace pattern and sends the lines to the -D file', function () {
    const argv = buildArgv({ ...BASE, traces: { patterns: ['vfio_migration_*', 'vmstate_downtime*'], file: '/w/trace.log' } });
    expect(valuesOf(argv, '-trace')).to.deep.equal(['enable=vfio_migration_*', 'enable=vmstate_downtime*']);
    expect(valuesOf(argv, '-D')).to.deep.equal(['/w/trace.log']);
  });

  it('appends extra arguments last', function () {
    const argv = buildArgv({ ...BASE, isIncoming: true, extraArgs: ['-global', 'migration.x-foo=on'] });
    expect(argv.slice(-4)).to.deep.equal(['-incoming', 'defer', '-global', 'migration.x-foo=on']);
  });

  const rejections: { what: string; spec: VmSpec; problem: RegExp }[] = [
    { what: 'a vIOMMU on pc', spec: { ...BASE, viommu: { model: 'intel-iommu' } }, problem: /vIOMMU \(intel-iommu\) needs a q35 machine; pc/ },
    { what: 'a vIOMMU on a versioned i440fx', spec: { ...BASE, machine: 'pc-i440fx-10.0', viommu: { model: 'intel-iommu' } }, problem: /needs a q35 machine/ },
    { what: 'the iommufd backend without a host BDF', spec: { ...BASE, nics: [{ kind: 'vfio', id: 'vf0', backend: 'iommufd' } as unknown as VmNic] }, problem: /iommufd backend needs the host PCI address/ },
    { what: 'a short BDF', spec: { ...BASE, nics: [{ ...VF_LEGACY, host: '3b:00.2' } as VmNic] }, problem: /full PCI address/ },
    { what: 'a device assigned twice', spec: { ...BASE, nics: [VF_LEGACY, { ...VF_LEGACY, id: 'vf1' } as VmNic] }, problem: /assigned twice/ },
    { what: 'a duplicate id', spec: { ...BASE, nics: [VF_LEGACY, { ...VF_LEGACY, host: '0000:3b:00.3' } as VmNic] }, problem: /id vf0 is used twice/ },
    { what: 'a reserved id', spec: { ...BASE, nics: [{ ...VF_LEGACY, id: 'viommu0' } as VmNic] }, problem: /reserved/ },
    { what: 'an id QEMU refuses', spec: { ...BASE, nics: [{ ...VF_LEGACY, id: '0vf' } as VmNic] }, problem: /must start with a letter/ },
    { what: 'a multicast MAC', spec: { ...BASE, nics: [{ kind: 'emulated', id: 'n0', model: 'igb', tap: 't0', mac: '01:00:5e:00:00:01' }] }, problem: /multicast/ },
    { what: 'a tap name over 15 bytes', spec: { ...BASE, nics: [{ kind: 'emulated', id: 'n0', model: 'igb', tap: 'a-very-long-tap-name', mac: '52:54:00:00:00:01' }] }, problem: /tap must be an interface name/ },
    { what: 'a bad mdev uuid', spec: { ...BASE, nics: [{ kind: 'mdev', id: 'm0', uuid: 'not-a-uuid' }] }, problem: /uuid must be an mdev UUID/ },
    { what: 'a bad enable-migration value', spec: { ...BASE, nics: [{ ...VF_LEGACY, migration: { enableMigration: 'yes' } } as unknown as VmNic] }, problem: /enableMigration must be on, off or auto/ },
    { what: 'x-flts without scalable mode', spec: { ...BASE, machine: 'q35', viommu: { model: 'intel-iommu', hasFirstStageTranslation: true }, nics: [VF_IOMMUFD] }, problem: /needs isScalableMode/ },
    { what: 'x-flts with the legacy container', spec: { ...BASE, machine: 'q35', viommu: { model: 'intel-iommu', isScalableMode: true, hasFirstStageTranslation: true }, nics: [VF_LEGACY] }, problem: /x-flts=on needs the iommufd backend/ },
    { what: 'a name without the run id', spec: { ...BASE, name: 'myvm' }, problem: /name must be "hil-<runId>-<role>"/ },
    { what: 'an unknown machine', spec: { ...BASE, machine: 'virt' as VmSpec['machine'] }, problem: /machine must be/ },
    { what: 'a relative socket path', spec: { ...BASE, qmpSocket: 'w/qmp' }, problem: /qmpSocket must be an absolute path/ },
    { what: 'a socket path over 107 bytes', spec: { ...BASE, qmpSocket: `/${'x'.repeat(120)}` }, problem: /unix socket path can have at most 107/ },
    { what: 'a comma in a path', spec: { ...BASE, serialSocket: '/w/a,b' }, problem: /must not contain a comma/ },
    { what: 'the same path for QMP and serial', spec: { ...BASE, serialSocket: BASE.qmpSocket }, problem: /same path/ },
    { what: "a '%' in the trace file", spec: { ...BASE, traces: { patterns: ['vfio_*'], file: '/w/trace-%p.log' } }, problem: /must not contain '%'/ },
    { what: 'an empty trace list', spec: { ...BASE, traces: { patterns: [], file: '/w/t.log' } }, problem: /traces.patterns is empty/ },
    { what: 'a trace pattern with a comma', spec: { ...BASE, traces: { patterns: ['a,b'], file: '/w/t.log' } }, problem: /not an event name or glob/ },
    { what: 'zero CPUs', spec: { ...BASE, cpus: 0 }, problem: /cpus must be an integer >= 1/ },
    { what: 'fractional memory', spec: { ...BASE, memoryMiB: 256.5 }, problem: /memoryMiB must be an integer/ },
  ];
  for (const { what, spec, problem } of rejections) {
    it(`rejects ${what}`, function () {
      const problems = problemsOf(spec);
      expect(problems.some((p) => problem.test(p)), `problems: ${JSON.stringify(problems)}`).to.equal(true);
    });
  }

  it('lists every problem at once, naming the VM', function () {
    let error: unknown;
    try {
      buildArgv({ ...BASE, viommu: { model: 'intel-iommu' }, cpus: 0, nics: [{ kind: 'mdev', id: 'm0', uuid: 'x' }] });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(VmSpecError);
    expect((error as VmSpecError).problems).to.have.length(3);
    expect((error as VmSpecError).message).to.contain('VM spec "hil-r1-src" is invalid');
    expect((error as VmSpecError).code).to.equal('VM_SPEC_INVALID');
  });
});
