import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { LabConfig } from '../config/types.js';
import { VirtualLabError } from './VirtualLabError.js';

/** Linux IFNAMSIZ is 16 including the NUL: an interface name has at most 15 characters. */
export const MAX_INTERFACE_NAME_CHARS = 15;

/** One virtual host: a network namespace with a bridge, an uplink to the switch, taps and sshd. */
export interface HostLayout {
  readonly hostName: string;
  readonly namespace: string;
  /** "10.231.0.11" and "10.231.0.11/24" (prefix length of the controller's address). */
  readonly address: string;
  readonly addressCidr: string;
  readonly sshPort: number;
  /** Bridge inside the host namespace holding the uplink and the taps. */
  readonly bridge: string;
  /** The bridge's fixed MAC (see bridgeMac). */
  readonly bridgeMac: string;
  /** veth end inside the host namespace. */
  readonly uplink: string;
  /** The other veth end, inside the switch namespace, enslaved to the switch bridge. */
  readonly switchPort: string;
  readonly taps: readonly string[];
  readonly workDir: string;
  /** sshd's config, host key, pid file and log for this host. */
  readonly sshdDir: string;
  /** Mounted over the login user's home in this host's sshd (see HostSshd). */
  readonly homeDir: string;
  readonly user: string;
}

/** Everything the virtual lab creates, by name: `up` makes exactly this, `down` removes it. */
export interface LabLayout {
  readonly prefix: string;
  readonly stateDir: string;
  readonly switchNamespace: string;
  readonly switchBridge: string;
  readonly switchBridgeMac: string;
  /** veth end in the root namespace carrying the controller's address. */
  readonly controllerLink: string;
  /** Its peer inside the switch namespace. */
  readonly controllerPeer: string;
  readonly controllerAddress: string;
  readonly controllerAddressCidr: string;
  readonly prefixLength: number;
  readonly hosts: readonly HostLayout[];
  /** Shared authorized_keys for every host's sshd. */
  readonly authorizedKeysFile: string;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function ipv4ToNumber(address: string): number | undefined {
  const match = IPV4.exec(address);
  if (match === null) return undefined;
  const octets = match.slice(1).map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  return octets.reduce((acc, o) => acc * 256 + o, 0);
}

function sameSubnet(a: number, b: number, prefixLength: number): boolean {
  const size = 2 ** (32 - prefixLength);
  return Math.floor(a / size) === Math.floor(b / size);
}

function interfaceName(name: string, what: string): string {
  if (name.length > MAX_INTERFACE_NAME_CHARS || !NAME.test(name)) {
    throw new VirtualLabError(
      'LAB_NAME_INVALID',
      `virtualLab: interface name "${name}" (${what}) must be 1-${MAX_INTERFACE_NAME_CHARS} characters of [A-Za-z0-9_.-]; shorten virtualLab.prefix or the host name`,
      { data: { name, what } },
    );
  }
  return name;
}

/**
 * A bridge takes the lowest MAC of its ports unless one is set: a QEMU tap joining (or a tap
 * leaving) would change the MAC behind the host's address and strand the controller's ARP entry.
 * A fixed, locally administered MAC derived from the namespace keeps it stable.
 */
export function bridgeMac(namespace: string, bridge: string): string {
  const bytes = createHash('sha256').update(`${namespace}/${bridge}`).digest().subarray(0, 5);
  return ['02', ...[...bytes].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

/** Derives every name and address of the lab from the lab file. Pure; throws on a bad layout. */
export function labLayout(config: LabConfig): LabLayout {
  const spec = config.virtualLab;
  if (spec === undefined) {
    throw new VirtualLabError('LAB_NOT_VIRTUAL', `${config.file}: lab "${config.name}" has no virtualLab section (kind ${config.kind}); \`hil lab\` only builds virtual labs`);
  }
  const prefix = spec.prefix;
  if (!NAME.test(prefix)) {
    throw new VirtualLabError('LAB_NAME_INVALID', `${config.file}: virtualLab.prefix must match [A-Za-z0-9][A-Za-z0-9_.-]*, got "${prefix}"`);
  }
  const [controllerAddress = '', lengthText = ''] = spec.controllerAddress.split('/');
  const prefixLength = Number(lengthText);
  const controllerNumber = ipv4ToNumber(controllerAddress);
  if (controllerNumber === undefined || !Number.isInteger(prefixLength) || prefixLength < 8 || prefixLength > 30) {
    throw new VirtualLabError('LAB_ADDRESS_INVALID', `${config.file}: virtualLab.controllerAddress must be IPv4/LEN with LEN 8-30, e.g. 10.231.0.1/24, got "${spec.controllerAddress}"`);
  }

  const sshdRoot = join(config.stateDir, 'sshd');
  const hosts = Object.values(config.hosts).map((host, index): HostLayout => {
    const hostNumber = ipv4ToNumber(host.address);
    if (hostNumber === undefined || !sameSubnet(hostNumber, controllerNumber, prefixLength) || hostNumber === controllerNumber) {
      throw new VirtualLabError(
        'LAB_ADDRESS_INVALID',
        `${config.file}: hosts.${host.name}.address must be an IPv4 address in ${spec.controllerAddress}'s subnet other than the controller's, got "${host.address}"`,
        { data: { host: host.name, address: host.address } },
      );
    }
    if (!NAME.test(host.name)) {
      throw new VirtualLabError('LAB_NAME_INVALID', `${config.file}: host name "${host.name}" must match [A-Za-z0-9][A-Za-z0-9_.-]* to name a namespace`);
    }
    const tapNames = new Set<string>();
    for (let i = 0; i < spec.tapsPerHost; i++) tapNames.add(`${prefix}-tap${i}`);
    for (const nic of host.nics) if (nic.kind === 'emulated') tapNames.add(nic.tap);
    const longPort = `${prefix}-${host.name}`;
    return {
      hostName: host.name,
      namespace: `${prefix}-${host.name}`,
      address: host.address,
      addressCidr: `${host.address}/${prefixLength}`,
      sshPort: host.port,
      bridge: interfaceName(`${prefix}-br0`, `bridge of ${host.name}`),
      bridgeMac: bridgeMac(`${prefix}-${host.name}`, `${prefix}-br0`),
      uplink: interfaceName(`${prefix}-up0`, `uplink of ${host.name}`),
      // A long host name does not fit an interface name: fall back to the host's index.
      switchPort: interfaceName(longPort.length <= MAX_INTERFACE_NAME_CHARS ? longPort : `${prefix}-port${index}`, `switch port of ${host.name}`),
      taps: [...tapNames].map((tap) => interfaceName(tap, `tap of ${host.name}`)),
      workDir: host.workDir,
      sshdDir: join(sshdRoot, host.name),
      homeDir: join(config.stateDir, 'home', host.name),
      user: host.user,
    };
  });

  return {
    prefix,
    stateDir: config.stateDir,
    ...switchNames(prefix),
    controllerAddress,
    controllerAddressCidr: spec.controllerAddress,
    prefixLength,
    hosts,
    authorizedKeysFile: join(sshdRoot, 'authorized_keys'),
  };
}

/** The switch namespace, its bridge and the controller's link into it: one naming for every lab flavour. */
export function switchNames(prefix: string): Pick<LabLayout, 'switchNamespace' | 'switchBridge' | 'switchBridgeMac' | 'controllerLink' | 'controllerPeer'> {
  return {
    switchNamespace: `${prefix}-sw`,
    switchBridge: interfaceName(`${prefix}-br0`, 'switch bridge'),
    switchBridgeMac: bridgeMac(`${prefix}-sw`, `${prefix}-br0`),
    controllerLink: interfaceName(`${prefix}-ctl`, 'controller link'),
    controllerPeer: interfaceName(`${prefix}-ctl-sw`, 'controller link peer'),
  };
}

/** Whether a namespace or interface name belongs to the lab with this prefix. */
export function isLabName(prefix: string, name: string): boolean {
  return name.startsWith(`${prefix}-`);
}
