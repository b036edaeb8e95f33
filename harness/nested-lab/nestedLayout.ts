import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { LabConfig, NestedLabSpec } from '../config/types.js';
import { bridgeMac, ipv4ToNumber, MAX_INTERFACE_NAME_CHARS, switchNames, type HostLayout, type LabLayout } from '../virtual-lab/labLayout.js';
import { NestedLabError } from './NestedLabError.js';

/**
 * Where the igb NIC (the SR-IOV PF) sits in every L1 host: slot 3 of q35's root bus. QEMU's igb
 * puts VF n at devfn PF + 0x80 + 2n, so the VFs appear as 0000:00:13.0, 0000:00:13.2, ...
 */
export const L1_PF_SLOT = 3;
export const L1_PF_ADDRESS = '0000:00:03.0';
/** The L1's own sshd listens on the standard port (the image's sshd_config). */
export const L1_SSH_PORT = 22;

/** One L1 host: a VM on this machine that the lab file describes as an ordinary SSH host. */
export interface L1HostLayout {
  readonly hostName: string;
  readonly index: number;
  /** Management address (the lab file's hosts.<name>.address) and with prefix length. */
  readonly address: string;
  readonly addressCidr: string;
  /** -name of the L1's QEMU; never "hil-...", which preflight takes for a stale guest under test. */
  readonly vmName: string;
  /** Taps in the VM namespace: management NIC, the igb PF's backend, the L2 guests' uplink. */
  readonly taps: { readonly mgmt: string; readonly pf: string; readonly lan: string };
  readonly macs: { readonly mgmt: string; readonly pf: string; readonly lan: string };
  /** Controller-side folder of this L1: pid file, QEMU log, serial console log, fw_cfg files. */
  readonly dir: string;
  readonly pidFile: string;
  readonly qemuLogFile: string;
  readonly consoleLogFile: string;
  /** Shell assignments handed to the L1's hil-setup through fw_cfg. */
  readonly identityFile: string;
  /** The L1's SSH host key (made on the controller, recorded in known_hosts, given via fw_cfg). */
  readonly hostKeyFile: string;
}

/** Everything the nested lab creates, by name. Pure data derived from the lab file. */
export interface NestedLayout {
  readonly prefix: string;
  readonly stateDir: string;
  readonly spec: NestedLabSpec;
  /** The lab network: switch, controller link, and one namespace ("vms") holding every L1 tap. */
  readonly network: LabLayout;
  /** The namespace the L1 QEMUs run in (their taps live there). */
  readonly vmNamespace: string;
  /** The L1 hosts in the shape the virtual lab's key maker expects (sshdDir = the L1's dir). */
  readonly keyHosts: readonly HostLayout[];
  readonly authorizedKeysFile: string;
  readonly hosts: readonly L1HostLayout[];
  /** Held while the caches below are checked or built (CacheLock). */
  readonly cacheLockFile: string;
  /** Private apt state for Debian trixie (the controller's own apt is never pointed at it). */
  readonly aptDir: string;
  /** The L1 image, its kernel and initrd, and the manifest that says what they were built from. */
  readonly imageDir: string;
  /** The build chroot (trixie + linux-source + headers) and the rebuilt modules, by input hash. */
  readonly buildRootDir: string;
  readonly modulesDir: string;
  /** Downloaded .debs kept between builds (QEMU 11.1 from trixie-backports). */
  readonly debDir: string;
  /** Scratch for the L2 guest image build (the virtual lab's builder) and its assembled sources. */
  readonly l2BuildDir: string;
  readonly l2SourceDir: string;
}

function interfaceName(name: string, what: string): string {
  if (name.length > MAX_INTERFACE_NAME_CHARS) {
    throw new NestedLabError('NESTED_NAME_INVALID', `nestedLab: interface name "${name}" (${what}) is longer than ${MAX_INTERFACE_NAME_CHARS} characters; shorten nestedLab.prefix`);
  }
  return name;
}

/** A stable QEMU-range MAC (52:54:00:...) per lab, host and NIC role. */
export function l1Mac(prefix: string, hostName: string, role: string): string {
  const bytes = createHash('sha256').update(`${prefix}/${hostName}/${role}`).digest().subarray(0, 3);
  return ['52', '54', '00', ...[...bytes].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

function numberToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

export interface NestedLayoutOptions {
  /**
   * Where the image, module and package caches live; default <lab.cacheDir>/nested, outside the
   * checkout, so a second clone on the same machine (CI's fresh one) reuses them. A second lab
   * instance (a test with its own prefix and subnet) shares the first one's caches this way.
   */
  readonly cacheDir?: string;
}

export function nestedLayout(config: LabConfig, options: NestedLayoutOptions = {}): NestedLayout {
  const spec = config.nestedLab;
  if (spec === undefined) {
    throw new NestedLabError('NESTED_NOT_NESTED', `${config.file}: lab "${config.name}" has no nestedLab section (kind ${config.kind}); the nested lab is built from it`);
  }
  const { prefix } = spec;
  const [controllerAddress = '', lengthText = ''] = spec.controllerAddress.split('/');
  const prefixLength = Number(lengthText);
  const controllerNumber = ipv4ToNumber(controllerAddress);
  if (controllerNumber === undefined || !Number.isInteger(prefixLength) || prefixLength < 8 || prefixLength > 30) {
    throw new NestedLabError('NESTED_ADDRESS_INVALID', `${config.file}: nestedLab.controllerAddress must be IPv4/LEN with LEN 8-30, got "${spec.controllerAddress}"`);
  }
  const subnetSize = 2 ** (32 - prefixLength);
  const subnetOf = (n: number): number => Math.floor(n / subnetSize);
  const stateDir = config.stateDir;
  const cacheDir = options.cacheDir ?? join(config.cacheDir, 'nested');
  const used = new Set<number>([controllerNumber]);

  const hosts = Object.values(config.hosts).map((host, index): L1HostLayout => {
    const hostNumber = ipv4ToNumber(host.address);
    if (hostNumber === undefined || subnetOf(hostNumber) !== subnetOf(controllerNumber) || used.has(hostNumber)) {
      throw new NestedLabError('NESTED_ADDRESS_INVALID', `${config.file}: hosts.${host.name}.address must be an IPv4 address in ${spec.controllerAddress}'s subnet, used by no other host, got "${host.address}"`);
    }
    used.add(hostNumber);
    if (host.port !== L1_SSH_PORT) {
      throw new NestedLabError('NESTED_PORT_INVALID', `${config.file}: hosts.${host.name}.port must be ${L1_SSH_PORT} in a nested lab (the L1 image's sshd listens there), got ${host.port}`);
    }
    for (const nic of host.nics) {
      if (nic.kind === 'vf' && nic.pf !== L1_PF_ADDRESS) {
        throw new NestedLabError('NESTED_PF_INVALID', `${config.file}: hosts.${host.name} NIC ${nic.name}: the L1's igb PF is at ${L1_PF_ADDRESS}, got pf "${nic.pf}"`);
      }
    }
    const dir = join(stateDir, 'hosts', host.name);
    return {
      hostName: host.name,
      index,
      address: host.address,
      addressCidr: `${host.address}/${prefixLength}`,
      vmName: `${prefix}-l1-${host.name}`,
      taps: {
        mgmt: interfaceName(`${prefix}-${index}-mgmt`, `management tap of ${host.name}`),
        pf: interfaceName(`${prefix}-${index}-pf`, `igb tap of ${host.name}`),
        lan: interfaceName(`${prefix}-${index}-lan`, `L2 uplink tap of ${host.name}`),
      },
      macs: { mgmt: l1Mac(prefix, host.name, 'mgmt'), pf: l1Mac(prefix, host.name, 'pf'), lan: l1Mac(prefix, host.name, 'lan') },
      dir,
      pidFile: join(dir, 'qemu.pid'),
      qemuLogFile: join(dir, 'qemu.log'),
      consoleLogFile: join(dir, 'console.log'),
      identityFile: join(dir, 'identity.sh'),
      hostKeyFile: join(dir, 'ssh_host_ed25519_key'),
    };
  });

  // The VM namespace's bridge needs an address of its own: the first one nobody else uses.
  let vmBridgeNumber = controllerNumber + 1;
  while (used.has(vmBridgeNumber)) vmBridgeNumber++;
  if (subnetOf(vmBridgeNumber) !== subnetOf(controllerNumber)) {
    throw new NestedLabError('NESTED_ADDRESS_INVALID', `${config.file}: no free address left in ${spec.controllerAddress} for the VM namespace's bridge`);
  }
  const vmNamespace = `${prefix}-vms`;
  const sshRoot = join(stateDir, 'ssh');
  const vmHost: HostLayout = {
    hostName: 'vms',
    namespace: vmNamespace,
    address: numberToIpv4(vmBridgeNumber),
    addressCidr: `${numberToIpv4(vmBridgeNumber)}/${prefixLength}`,
    sshPort: L1_SSH_PORT,
    bridge: interfaceName(`${prefix}-br0`, 'VM bridge'),
    bridgeMac: bridgeMac(vmNamespace, `${prefix}-br0`),
    uplink: interfaceName(`${prefix}-up0`, 'VM namespace uplink'),
    switchPort: interfaceName(`${prefix}-vms`, 'switch port of the VM namespace'),
    taps: hosts.flatMap((h) => [h.taps.mgmt, h.taps.pf, h.taps.lan]),
    workDir: join(stateDir, 'hosts'),
    sshdDir: join(stateDir, 'hosts'),
    homeDir: join(stateDir, 'hosts'),
    user: 'root',
  };
  const network: LabLayout = {
    prefix,
    stateDir,
    ...switchNames(prefix),
    controllerAddress,
    controllerAddressCidr: spec.controllerAddress,
    prefixLength,
    hosts: [vmHost],
    authorizedKeysFile: join(sshRoot, 'authorized_keys'),
  };
  const keyHosts = hosts.map((h): HostLayout => ({
    ...vmHost,
    hostName: h.hostName,
    address: h.address,
    addressCidr: h.addressCidr,
    taps: [],
    sshdDir: h.dir,
    homeDir: h.dir,
    workDir: h.dir,
  }));

  return {
    prefix,
    stateDir,
    spec,
    network,
    vmNamespace,
    keyHosts,
    authorizedKeysFile: network.authorizedKeysFile,
    hosts,
    cacheLockFile: join(cacheDir, 'cache.lock'),
    aptDir: join(cacheDir, 'apt'),
    imageDir: join(cacheDir, 'image'),
    buildRootDir: join(cacheDir, 'build-root'),
    modulesDir: join(cacheDir, 'modules'),
    debDir: join(cacheDir, 'debs'),
    l2BuildDir: join(cacheDir, 'l2-build'),
    l2SourceDir: join(cacheDir, 'l2-sources'),
  };
}
