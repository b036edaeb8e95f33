import { join } from 'node:path';
import type { HostSpec, LabConfig } from '../config/types.js';
import { projectRoot } from './projectRoot.js';

/**
 * The default lab.yaml's virtual lab as a LabConfig, with paths resolved under `stateDir`, for
 * tests of the virtual lab that must not depend on the config loader. Keep in step with lab.yaml.
 */
export function virtualLabConfigFixture(stateDir: string = join(projectRoot(), '.lab')): LabConfig {
  const host = (name: string, address: string): HostSpec => ({
    name,
    address,
    port: 22,
    user: 'root',
    identityFile: join(stateDir, 'ssh', 'id_ed25519'),
    agent: false,
    knownHosts: join(stateDir, 'ssh', 'known_hosts'),
    trustOnFirstUse: false,
    workDir: join(stateDir, 'hosts', name),
    migrationAddress: address,
    qemu: 'default',
    nics: [{ kind: 'emulated', name: 'nic0', model: 'virtio-net-pci', tap: 'hil-tap0', mac: '52:54:00:23:10:64' }],
    allowLocalDevices: false,
  });
  return {
    file: join(projectRoot(), 'lab.yaml'),
    name: 'virtual',
    kind: 'virtual',
    stateDir,
    reportsDir: join(projectRoot(), 'reports'),
    hosts: { 'host-a': host('host-a', '10.231.0.11'), 'host-b': host('host-b', '10.231.0.12') },
    pairs: [{ name: 'pair0', source: 'host-a', destination: 'host-b' }],
    qemu: { default: { name: 'default', binary: '/usr/bin/qemu-system-x86_64', minVersion: '7.2' } },
    guests: {
      default: {
        name: 'default',
        kernel: join(stateDir, 'guest', 'vmlinuz'),
        initrd: join(stateDir, 'guest', 'initrd.img'),
        append: 'console=ttyS0 panic=-1 hil.ip=10.231.0.100/24 hil.echo=7777',
        memoryMiB: 256,
        cpus: 1,
        address: '10.231.0.100',
        echoPort: 7777,
      },
    },
    defaults: {
      timeouts: { sshConnectMs: 10000, commandMs: 60000, bootMs: 90000, migrationMs: 120000 },
      migration: { downtimeLimitMs: 300, maxBandwidthBytesPerSec: 1073741824, port: 4446 },
      limits: { downtimeMs: 500, guestOutageMs: 2000 },
      probe: { rateHz: 100 },
    },
    virtualLab: { prefix: 'hil', controllerAddress: '10.231.0.1/24', guestKernelFlavour: 'cloud', tapsPerHost: 2 },
  };
}
