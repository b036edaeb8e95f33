import { KnownHosts, knownHostsName } from './KnownHosts.js';
import { SshError } from './SshError.js';
import { endpointWhere, type SshEndpoint } from './SshEndpoint.js';
import { hostKeyFingerprint, isSameHostKey, matchesPin, parsePinnedHostKey, publicKeyLine, type HostKey } from './hostKey.js';

/**
 * Keys this transport has already accepted, by "user@host:port": a reconnect must meet the same
 * key, even when trust-on-first-use had no file to write it to.
 */
export type AcceptedHostKeys = Map<string, HostKey>;

/**
 * Decides whether `key`, offered by the endpoint's host, may be trusted; throws an SshError that
 * says what was seen and how to trust it otherwise. A pinned `hostKey` is authoritative when set;
 * otherwise known_hosts decides; an unknown key is accepted only with trustOnFirstUse (and then
 * written to known_hosts when there is one).
 */
export async function checkHostKey(endpoint: SshEndpoint, key: HostKey, accepted: AcceptedHostKeys): Promise<void> {
  const where = endpointWhere(endpoint);
  const seen = `${key.type} ${hostKeyFingerprint(key)}`;
  const data = { where, phase: 'host key check', keyType: key.type, fingerprint: hostKeyFingerprint(key) };
  const prefix = `SSH host key check for ${where} failed`;

  const earlier = accepted.get(where);
  if (earlier !== undefined && !isSameHostKey(earlier, key)) {
    throw new SshError('SSH_HOSTKEY_CHANGED', `${prefix}: host key changed since this transport first connected (was ${earlier.type} ${hostKeyFingerprint(earlier)}, now ${seen}). Someone may be intercepting the connection.`, { data });
  }

  if (endpoint.hostKey !== undefined) {
    const pin = parsePinnedHostKey(endpoint.hostKey);
    if (pin === undefined) {
      throw new SshError('SSH_CONFIG', `${prefix}: ${endpoint.configPath}.hostKey must be "ssh-ed25519 AAAA..." or "SHA256:<43 base64 characters>", got "${endpoint.hostKey}"`, { data });
    }
    if (!matchesPin(pin, key)) {
      const expected = pin.kind === 'key' ? `${pin.key.type} ${hostKeyFingerprint(pin.key)}` : pin.fingerprint;
      throw new SshError('SSH_HOSTKEY_CHANGED', `${prefix}: host key changed: ${endpoint.configPath}.hostKey pins ${expected}, but the host offered ${seen}. Someone may be intercepting the connection; if the host was re-keyed on purpose, update ${endpoint.configPath}.hostKey.`, { data: { ...data, expected } });
    }
    accepted.set(where, key);
    return;
  }

  if (endpoint.knownHosts !== undefined) {
    const file = endpoint.knownHosts;
    const knownHosts = await KnownHosts.read(file);
    const verdict = knownHosts.lookup(endpoint.host, endpoint.port, key);
    const name = knownHostsName(endpoint.host, endpoint.port);
    switch (verdict.status) {
      case 'match':
        accepted.set(where, key);
        return;
      case 'revoked':
        throw new SshError('SSH_HOSTKEY_REVOKED', `${prefix}: the host offered ${seen}, which ${file}:${verdict.line} marks @revoked. Do not trust this host until its keys are replaced.`, { data: { ...data, file, line: verdict.line } });
      case 'changed':
        throw new SshError('SSH_HOSTKEY_CHANGED', `${prefix}: host key changed: the host offered ${seen}, but ${file}:${verdict.line} holds a different ${verdict.expected.type} key (${hostKeyFingerprint(verdict.expected)}) for ${name}. Someone may be intercepting the connection; if the host was reinstalled, remove the old key with: ssh-keygen -R '${name}' -f ${file}`, { data: { ...data, file, line: verdict.line, expected: hostKeyFingerprint(verdict.expected) } });
      case 'unknown':
        if (endpoint.trustOnFirstUse) {
          await KnownHosts.append(file, endpoint.host, endpoint.port, key);
          accepted.set(where, key);
          return;
        }
        {
          const others = verdict.otherTypes.map((other) => `${other.type} at line ${other.line}`).join(', ');
          const knows = others === '' ? `${file} has no key for ${name}` : `${file} has no ${key.type} key for ${name} (only ${others})`;
          throw new SshError('SSH_HOSTKEY_UNKNOWN', `${prefix}: host key unknown: the host offered ${seen} and ${knows}. ${trustHint(endpoint, key, file)}`, { data: { ...data, file } });
        }
    }
  }

  if (endpoint.trustOnFirstUse) {
    accepted.set(where, key);
    return;
  }
  throw new SshError('SSH_HOSTKEY_UNKNOWN', `${prefix}: host key unknown: the host offered ${seen} and ${endpoint.configPath} has neither knownHosts nor hostKey. ${trustHint(endpoint, key, undefined)}`, { data });
}

function trustHint(endpoint: SshEndpoint, key: HostKey, file: string | undefined): string {
  const fingerprint = hostKeyFingerprint(key);
  const check = `If ${fingerprint} is the host's key (on the host: ssh-keygen -lf /etc/ssh/ssh_host_${key.type.replace(/^ssh-|-sha2-.*$/g, '')}_key.pub), trust it`;
  const keyscan = file === undefined ? '' : ` by running:\n  ssh-keyscan -p ${endpoint.port} ${endpoint.host} >> ${file}\nor`;
  return `${check}${keyscan} by pinning it in lab.yaml under ${endpoint.configPath}:\n  hostKey: "${fingerprint}"   (or "${publicKeyLine(key)}")`;
}
