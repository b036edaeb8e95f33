import { createHmac } from 'node:crypto';
import { appendFile, mkdir, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SshError } from './SshError.js';
import { hostKeyFromBlob, isSameHostKey, publicKeyLine, type HostKey } from './hostKey.js';

/**
 * An OpenSSH known_hosts file (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): plain or hashed
 * (`|1|salt|hmac`) host fields, comma lists with `*`/`?` wildcards and `!` negation, `[host]:port`
 * for ports other than 22, and the markers @revoked (never accept that key) and @cert-authority
 * (a CA for host certificates; the harness does not use certificates, so such lines neither
 * vouch for nor contradict a host's key).
 */
export interface KnownHostsEntry {
  /** 1-based line number in the file, for messages. */
  readonly line: number;
  readonly marker: 'revoked' | 'cert-authority' | undefined;
  readonly hosts: { readonly kind: 'hashed'; readonly salt: Buffer; readonly hash: Buffer } | { readonly kind: 'patterns'; readonly patterns: readonly string[] };
  readonly key: HostKey;
}

export type KnownHostsVerdict =
  | { readonly status: 'match'; readonly line: number }
  | { readonly status: 'revoked'; readonly line: number }
  /** The file holds a different key of the same type for this host. */
  | { readonly status: 'changed'; readonly line: number; readonly expected: HostKey }
  /** Nothing for this key type; `otherTypes` are keys of other types the file has for the host. */
  | { readonly status: 'unknown'; readonly otherTypes: readonly { readonly type: string; readonly line: number }[] };

export class KnownHosts {
  private constructor(
    readonly file: string,
    readonly entries: readonly KnownHostsEntry[],
  ) {}

  /** A missing file is an empty one: every host in it is unknown. */
  static async read(file: string): Promise<KnownHosts> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new KnownHosts(file, []);
      throw new SshError('SSH_CONFIG', `Could not read the known_hosts file ${file}: ${(error as Error).message}`, { cause: error, data: { file } });
    }
    return KnownHosts.parse(text, file);
  }

  /** Lines that are not valid entries are skipped, as ssh(1) does. */
  static parse(text: string, file: string): KnownHosts {
    const entries: KnownHostsEntry[] = [];
    text.split('\n').forEach((rawLine, index) => {
      const entry = parseLine(rawLine, index + 1);
      if (entry !== undefined) entries.push(entry);
    });
    return new KnownHosts(file, entries);
  }

  /** What this file says about `key` offered by host:port. */
  lookup(host: string, port: number, key: HostKey): KnownHostsVerdict {
    const name = knownHostsName(host, port);
    const forHost = this.entries.filter((entry) => entry.marker !== 'cert-authority' && entryMatches(entry, name));
    const revoked = forHost.find((entry) => entry.marker === 'revoked' && isSameHostKey(entry.key, key));
    if (revoked !== undefined) return { status: 'revoked', line: revoked.line };
    const plain = forHost.filter((entry) => entry.marker === undefined);
    const match = plain.find((entry) => isSameHostKey(entry.key, key));
    if (match !== undefined) return { status: 'match', line: match.line };
    const changed = plain.find((entry) => entry.key.type === key.type);
    if (changed !== undefined) return { status: 'changed', line: changed.line, expected: changed.key };
    return { status: 'unknown', otherTypes: plain.map((entry) => ({ type: entry.key.type, line: entry.line })) };
  }

  /** Key types the file holds for host:port, in file order, to steer algorithm negotiation. */
  knownKeyTypes(host: string, port: number): string[] {
    const name = knownHostsName(host, port);
    const types = this.entries.filter((entry) => entry.marker === undefined && entryMatches(entry, name)).map((entry) => entry.key.type);
    return [...new Set(types)];
  }

  /** Appends a plain entry; creates the file (0600) and its folder (0700) when missing. */
  static async append(file: string, host: string, port: number, key: HostKey): Promise<void> {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    const needsNewline = await endsWithoutNewline(file);
    await appendFile(file, `${needsNewline ? '\n' : ''}${knownHostsName(host, port)} ${publicKeyLine(key)}\n`, { mode: 0o600 });
  }
}

/** The name known_hosts stores for an endpoint: bare host for port 22, else "[host]:port". */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host.toLowerCase() : `[${host.toLowerCase()}]:${port}`;
}

function parseLine(rawLine: string, line: number): KnownHostsEntry | undefined {
  const text = rawLine.trim();
  if (text === '' || text.startsWith('#')) return undefined;
  const fields = text.split(/\s+/);
  let marker: KnownHostsEntry['marker'];
  if (fields[0]?.startsWith('@')) {
    const word = fields.shift();
    if (word === '@revoked') marker = 'revoked';
    else if (word === '@cert-authority') marker = 'cert-authority';
    else return undefined;
  }
  const [hostField, type, base64] = fields;
  if (hostField === undefined || type === undefined || base64 === undefined) return undefined;
  const hosts = parseHostField(hostField);
  if (hosts === undefined) return undefined;
  const key = hostKeyFromBlob(Buffer.from(base64, 'base64'));
  // A damaged line is skipped like ssh(1) skips it; it could never match a key anyway.
  if (key === undefined || key.type !== type) return undefined;
  return { line, marker, hosts, key };
}

function parseHostField(field: string): KnownHostsEntry['hosts'] | undefined {
  if (!field.startsWith('|')) return { kind: 'patterns', patterns: field.toLowerCase().split(',').filter((p) => p !== '') };
  const [, magic, salt, hash] = field.split('|');
  if (magic !== '1' || salt === undefined || hash === undefined) return undefined;
  return { kind: 'hashed', salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
}

function entryMatches(entry: KnownHostsEntry, name: string): boolean {
  if (entry.hosts.kind === 'hashed') {
    return createHmac('sha1', entry.hosts.salt).update(name).digest().equals(entry.hosts.hash);
  }
  let isMatched = false;
  for (const pattern of entry.hosts.patterns) {
    // A matching negated pattern vetoes the whole line, whatever else matched (match_hostlist).
    if (pattern.startsWith('!')) {
      if (globMatches(pattern.slice(1), name)) return false;
    } else if (globMatches(pattern, name)) {
      isMatched = true;
    }
  }
  return isMatched;
}

/** OpenSSH host patterns: `*` any run, `?` one character, everything else literal. */
function globMatches(pattern: string, text: string): boolean {
  const regex = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${regex}$`).test(text);
}

async function endsWithoutNewline(file: string): Promise<boolean> {
  try {
    const info = await stat(file);
    if (info.size === 0) return false;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  const text = await readFile(file);
  return text[text.length - 1] !== 0x0a;
}
