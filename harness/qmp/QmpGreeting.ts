/** QEMU's version as announced in the QMP greeting. */
export interface QemuVersion {
  readonly major: number;
  readonly minor: number;
  readonly micro: number;
  /** Distribution build string, e.g. "Debian 1:10.0.2+ds-2+deb13u1~bpo12+1"; may be "". */
  readonly package: string;
}

export interface QmpGreeting {
  readonly version: QemuVersion;
  /** Capabilities the server offers (e.g. "oob"); the client enables none of them. */
  readonly capabilities: readonly string[];
}

/** Reads {"QMP": {"version": {"qemu": {...}, "package"}, "capabilities": [...]}}; undefined if malformed. */
export function parseGreeting(message: Record<string, unknown>): QmpGreeting | undefined {
  const qmp = message['QMP'];
  if (qmp === null || typeof qmp !== 'object') return undefined;
  const { version, capabilities } = qmp as { version?: unknown; capabilities?: unknown };
  if (version === null || typeof version !== 'object') return undefined;
  const { qemu, package: pkg } = version as { qemu?: unknown; package?: unknown };
  if (qemu === null || typeof qemu !== 'object') return undefined;
  const { major, minor, micro } = qemu as { major?: unknown; minor?: unknown; micro?: unknown };
  if (typeof major !== 'number' || typeof minor !== 'number' || typeof micro !== 'number') return undefined;
  const caps = Array.isArray(capabilities) ? capabilities.filter((c): c is string => typeof c === 'string') : [];
  return {
    version: { major, minor, micro, package: typeof pkg === 'string' ? pkg.trim() : '' },
    capabilities: caps,
  };
}

export function formatVersion(version: QemuVersion): string {
  return `${version.major}.${version.minor}.${version.micro}`;
}
