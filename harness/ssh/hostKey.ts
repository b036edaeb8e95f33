import { createHash } from 'node:crypto';

/**
 * Host keys as the SSH wire format carries them (RFC 4253 §6.6: a blob that starts with the key
 * type as a length-prefixed string), and the two ways a person writes one down.
 */
export interface HostKey {
  /** "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa", ... */
  readonly type: string;
  readonly blob: Buffer;
}

/** Undefined when the blob does not start with a key type. */
export function hostKeyFromBlob(blob: Buffer): HostKey | undefined {
  if (blob.length < 4) return undefined;
  const typeLength = blob.readUInt32BE(0);
  if (typeLength === 0 || 4 + typeLength > blob.length) return undefined;
  return { type: blob.subarray(4, 4 + typeLength).toString('latin1'), blob };
}

/** Parses "ssh-ed25519 AAAA... [comment]"; undefined when the text is not a public key line. */
export function parsePublicKeyLine(text: string): HostKey | undefined {
  const [type, base64] = text.trim().split(/\s+/);
  if (type === undefined || base64 === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return undefined;
  const key = hostKeyFromBlob(Buffer.from(base64, 'base64'));
  // The type written in front must agree with the one inside the blob, as OpenSSH insists.
  return key?.type === type ? key : undefined;
}

/** OpenSSH's fingerprint: "SHA256:" + unpadded base64 of the blob's SHA-256. */
export function hostKeyFingerprint(key: HostKey): string {
  return `SHA256:${createHash('sha256').update(key.blob).digest('base64').replace(/=+$/, '')}`;
}

/** "ssh-ed25519 AAAA...": the form for known_hosts and for `hostKey:` in lab.yaml. */
export function publicKeyLine(key: HostKey): string {
  return `${key.type} ${key.blob.toString('base64')}`;
}

export function isSameHostKey(a: HostKey, b: HostKey): boolean {
  return a.type === b.type && a.blob.equals(b.blob);
}

/** A pinned key from lab.yaml: either a whole public key or a SHA256 fingerprint. */
export type PinnedHostKey = { readonly kind: 'key'; readonly key: HostKey } | { readonly kind: 'fingerprint'; readonly fingerprint: string };

export function parsePinnedHostKey(text: string): PinnedHostKey | undefined {
  const trimmed = text.trim();
  const fingerprint = /^SHA256:([A-Za-z0-9+/]{43})=?$/.exec(trimmed);
  if (fingerprint !== null) return { kind: 'fingerprint', fingerprint: `SHA256:${fingerprint[1]}` };
  const key = parsePublicKeyLine(trimmed);
  return key === undefined ? undefined : { kind: 'key', key };
}

export function matchesPin(pin: PinnedHostKey, key: HostKey): boolean {
  return pin.kind === 'key' ? isSameHostKey(pin.key, key) : pin.fingerprint === hostKeyFingerprint(key);
}

/**
 * Host key algorithms to offer, those for the key types we already know first: without this the
 * server may pick a type we hold no key for and a known host would look unknown (OpenSSH orders
 * its HostKeyAlgorithms by known_hosts for the same reason).
 */
const ALGORITHMS_BY_KEY_TYPE: Readonly<Record<string, readonly string[]>> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};
const DEFAULT_ALGORITHM_ORDER = Object.values(ALGORITHMS_BY_KEY_TYPE).flat();

export function hostKeyAlgorithmsPreferring(knownTypes: readonly string[]): string[] {
  const preferred = knownTypes.flatMap((type) => ALGORITHMS_BY_KEY_TYPE[type] ?? []);
  return [...new Set([...preferred, ...DEFAULT_ALGORITHM_ORDER])];
}
