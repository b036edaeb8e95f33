import path from 'node:path';
import type {
  DefaultsSpec,
  GuestImageSpec,
  HostPairSpec,
  HostSpec,
  LabConfig,
  LabKind,
  NestedLabSpec,
  NicSpec,
  PatchApplyMode,
  PatchEntrySpec,
  QemuBuildSpec,
  QemuSourceBase,
  QemuSourceSpec,
  VirtualLabSpec,
} from './types.js';

/** The lab file's shape once the schema has passed it and filled in its defaults. */
interface LabDocument {
  lab: { name: string; kind: LabKind; stateDir: string; reportsDir: string; cacheDir: string };
  virtualLab?: VirtualLabSpec;
  nestedLab?: NestedLabSpec;
  hosts: Record<string, HostDocument>;
  pairs: HostPairSpec[];
  qemu: Record<string, { binary?: string; minVersion?: string; source?: SourceDocument }>;
  guests: Record<string, GuestDocument>;
  defaults: DefaultsSpec;
}

type PatchEntryDocument = string | { path: string; apply?: PatchApplyMode; applyByFile?: Record<string, PatchApplyMode> };

interface SourceDocument {
  base: { debian?: string; suite: string; tarball?: string; tree?: string; git?: string; ref?: string };
  patches: PatchEntryDocument[];
  leaveOut: (string | { commit: string })[];
  localPatches: PatchEntryDocument[];
  configure: string[];
  targets: string[];
  buildOn: 'controller' | 'hosts';
  prefix: string;
}

interface HostDocument {
  address: string;
  port: number;
  user: string;
  identityFile?: string;
  agent: boolean;
  knownHosts?: string;
  hostKey?: string;
  trustOnFirstUse: boolean;
  jump?: string;
  sshConfigHost?: string;
  workDir: string;
  migrationAddress?: string;
  qemu: string;
  allowLocalDevices: boolean;
  nics: NicDocument[];
}

type NicDocument =
  | { name: string; emulated: { model: 'virtio-net-pci' | 'e1000e' | 'igb'; tap: string; mac: string } }
  | {
      name: string;
      vf: {
        pf: string;
        pfDriver: string;
        numVfs: number;
        vfIndex: number;
        vfioDriver: string;
        restoreDriver?: string;
        netdev?: string;
      };
    }
  | { name: string; mdev: { parent: string; type: string; uuid: string } };

interface GuestDocument {
  kernel?: string;
  initrd?: string;
  append?: string;
  disk?: string;
  memoryMiB: number;
  cpus: number;
  address: string;
  echoPort: number;
}

/**
 * Turns a lab document that passed validation into the LabConfig records: controller paths made
 * absolute against the lab file's folder, optional fields left out rather than set to undefined.
 * `data` must have been through the schema (which fills the defaults) and the cross checks.
 */
export function buildLabConfig(data: unknown, file: string): LabConfig {
  const doc = data as LabDocument;
  const labFile = path.resolve(file);
  const labDir = path.dirname(labFile);
  const onController = (p: string): string => path.resolve(labDir, p);
  // The virtual lab's hosts are namespaces of this machine, so they share its filesystem and a
  // relative workDir means the same thing to them as to the controller.
  const onHost = (p: string): string => (doc.lab.kind === 'virtual' ? path.resolve(labDir, p) : p);

  const hosts: Record<string, HostSpec> = {};
  for (const [name, host] of Object.entries(doc.hosts)) {
    hosts[name] = {
      name,
      address: host.address,
      port: host.port,
      user: host.user,
      ...optional('identityFile', host.identityFile, onController),
      agent: host.agent,
      ...optional('knownHosts', host.knownHosts, onController),
      ...optional('hostKey', host.hostKey),
      trustOnFirstUse: host.trustOnFirstUse,
      ...optional('jump', host.jump),
      ...optional('sshConfigHost', host.sshConfigHost),
      workDir: onHost(host.workDir),
      migrationAddress: host.migrationAddress ?? host.address,
      qemu: host.qemu,
      nics: host.nics.map(toNicSpec),
      allowLocalDevices: host.allowLocalDevices,
    };
  }

  const qemu: Record<string, QemuBuildSpec> = {};
  for (const [name, build] of Object.entries(doc.qemu)) {
    const source = build.source === undefined ? undefined : toSourceSpec(build.source, onController);
    // The cross checks make sure exactly one of binary and source is there.
    const binary = source === undefined ? build.binary! : path.posix.join(source.prefix, 'bin', 'qemu-system-x86_64');
    qemu[name] = { name, binary, ...optional('minVersion', build.minVersion), ...(source === undefined ? {} : { source }) };
  }

  const guests: Record<string, GuestImageSpec> = {};
  for (const [name, guest] of Object.entries(doc.guests)) {
    guests[name] = {
      name,
      ...optional('kernel', guest.kernel, onController),
      ...optional('initrd', guest.initrd, onController),
      ...optional('append', guest.append),
      ...optional('disk', guest.disk, onController),
      memoryMiB: guest.memoryMiB,
      cpus: guest.cpus,
      address: guest.address,
      echoPort: guest.echoPort,
    };
  }

  return {
    file: labFile,
    name: doc.lab.name,
    kind: doc.lab.kind,
    stateDir: onController(doc.lab.stateDir),
    reportsDir: onController(doc.lab.reportsDir),
    cacheDir: onController(doc.lab.cacheDir),
    hosts,
    pairs: doc.pairs.map(({ name, source, destination }) => ({ name, source, destination })),
    qemu,
    guests,
    defaults: doc.defaults,
    ...(doc.virtualLab === undefined ? {} : { virtualLab: { ...doc.virtualLab } }),
    ...(doc.nestedLab === undefined ? {} : { nestedLab: { ...doc.nestedLab } }),
  };
}

function toSourceSpec(doc: SourceDocument, onController: (p: string) => string): QemuSourceSpec {
  const entry = (e: PatchEntryDocument): PatchEntrySpec =>
    typeof e === 'string'
      ? { path: onController(e), apply: 'exact', applyByFile: {} }
      : { path: onController(e.path), apply: e.apply ?? 'exact', applyByFile: { ...(e.applyByFile ?? {}) } };
  const b = doc.base;
  // The cross checks make sure exactly one kind of base is there, and git has its ref.
  const base: QemuSourceBase =
    b.debian !== undefined ? { kind: 'debian', version: b.debian, suite: b.suite }
      : b.tarball !== undefined ? { kind: 'tarball', path: onController(b.tarball) }
        : b.tree !== undefined ? { kind: 'tree', path: onController(b.tree) }
          : { kind: 'git', url: b.git!, ref: b.ref! };
  return {
    base,
    patches: doc.patches.map(entry),
    leaveOut: doc.leaveOut.map((l) => (typeof l === 'string' ? { kind: 'file', path: onController(l) } : { kind: 'commit', commit: l.commit.toLowerCase() })),
    localPatches: doc.localPatches.map(entry),
    configure: [...doc.configure],
    targets: [...doc.targets],
    buildOn: doc.buildOn,
    prefix: doc.prefix,
  };
}

function toNicSpec(nic: NicDocument): NicSpec {
  if ('emulated' in nic) return { kind: 'emulated', name: nic.name, ...nic.emulated };
  if ('vf' in nic) {
    const { vf } = nic;
    return {
      kind: 'vf',
      name: nic.name,
      pf: vf.pf,
      pfDriver: vf.pfDriver,
      numVfs: vf.numVfs,
      vfIndex: vf.vfIndex,
      vfioDriver: vf.vfioDriver,
      ...optional('restoreDriver', vf.restoreDriver),
      ...optional('netdev', vf.netdev),
    };
  }
  return { kind: 'mdev', name: nic.name, ...nic.mdev };
}

/** `{ key: value }` when the value is there, `{}` when not: records carry no undefined fields. */
function optional<K extends string>(
  key: K,
  value: string | undefined,
  transform: (value: string) => string = (v) => v,
): { [P in K]?: string } {
  return value === undefined ? {} : ({ [key]: transform(value) } as { [P in K]?: string });
}
