import { join } from 'node:path';
import type { HostSpec, LabConfig } from '../config/types.js';
import { projectRoot } from './projectRoot.js';

export interface LabFixtureOptions {
  /** Namespace/interface prefix; lab tests use their own so they never touch a lab in use. */
  readonly prefix?: string;
  /** First three octets of the lab subnet (/24). */
  readonly subnet?: string;
}

/**
 * The default lab.yaml's virtual lab as a LabConfig, with paths resolved under `stateDir`, for
 * tests of the virtual lab that must not depend on the config loader. Keep in step with lab.yaml.
 */
export function virtualLabConfigFixture(stateDir: string = join(projectRoot(), '.lab'), options: LabFixtureOptions = {}): LabConfig {
  const prefix = options.prefix ?? 'hil';
  const subnet = options.subnet ?? '10.231.0';
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
    nics: [{ kind: 'emulated', name: 'nic0', model: 'virtio-net-pci', tap: `${prefix}-tap0`, mac: '52:54:00:23:10:64' }],
    allowLocalDevices: false,
  });
  return {
    file: join(projectRoot(), 'lab.yaml'),
    name: 'virtual',
    kind: 'virtual',
    stateDir,
    reportsDir: join(projectRoot(), 'reports'),
    hosts: { 'host-a': host('host-a', `${subnet}.11`), 'host-b': host('host-b', `${subnet}.12`) },
    pairs: [{ name: 'pair0', source: 'host-a', destination: 'host-b' }],
    qemu: { default: { name: 'default', binary: '/usr/bin/qemu-system-x86_64', minVersion: '7.2' } },
    guests: {
      default: {
        name: 'default',
        kernel: join(stateDir, 'guest', 'vmlinuz'),
        initrd: join(stateDir, 'guest', 'initrd.img'),
        append: `console=ttyS0 panic=-1 hil.ip=${subnet}.100/24 hil.echo=7777`,
        memoryMiB: 256,
        cpus: 1,
        address: `${subnet}.100`,
        echoPort: 7777,
      },
    },
    defaults: {
      timeouts: { sshConnectMs: 10000, commandMs: 60000, bootMs: 90000, migrationMs: 120000 },
      migration: { downtimeLimitMs: 300, maxBandwidthBytesPerSec: 1073741824, port: 4446 },
      limits: { downtimeMs: 500, guestOutageMs: 2000 },
      probe: { rateHz: 100 },
    },
    virtualLab: { prefix, controllerAddress: `${subnet}.1/24`, guestKernelFlavour: 'cloud', tapsPerHost: 2 },
  };
}
