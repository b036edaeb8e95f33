import type { HostSpec } from '../config/types.js';
import { SshError, sshWhere } from './SshError.js';
import { expandSshPath, type SshConfigFile, type SshConfigEntry } from './SshConfigFile.js';

/**
 * Everything needed to open one SSH connection, after lab.yaml, ~/.ssh/config and jump hosts
 * have been reconciled. Plain data: resolving does no I/O.
 */
export interface SshEndpoint {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** Where the endpoint is configured, for hints: "hosts.host-a" or "hosts.host-a.jump". */
  readonly configPath: string;
  /** Private keys to offer, in order. */
  readonly identityFiles: readonly IdentityFile[];
  /** The ssh-agent socket to use, when the host uses an agent. */
  readonly agentSocket?: string;
  readonly knownHosts?: string;
  readonly hostKey?: string;
  readonly trustOnFirstUse: boolean;
  /** The hop to tunnel through; its own `jump` is the hop before it. */
  readonly jump?: SshEndpoint;
  /** What to check when authentication fails, ending with a full stop. */
  readonly authHint: string;
}

export interface IdentityFile {
  readonly path: string;
  /** Named by an ssh config: a missing file is skipped, as ssh(1) does; a lab.yaml one must exist. */
  readonly isOptional: boolean;
}

export type DefaultedField = 'port' | 'user';

export interface EndpointContext {
  readonly sshConfig?: SshConfigFile;
  /** For `~` and %d in ssh config paths. */
  readonly homeDir?: string;
  /** Looks up another host of the lab by name, for `jump: host-b`. */
  readonly resolveHost?: (name: string) => HostSpec | undefined;
  /** The ssh-agent socket (SSH_AUTH_SOCK, read by config/). */
  readonly agentSocket?: string;
  /**
   * HostSpec fields the loader filled with a default rather than read from lab.yaml: only these
   * may be overridden by the ssh config (explicit lab.yaml values win).
   */
  readonly defaultedFields?: readonly DefaultedField[];
}

export function endpointWhere(endpoint: Pick<SshEndpoint, 'user' | 'host' | 'port'>): string {
  return sshWhere(endpoint.user, endpoint.host, endpoint.port);
}

export function resolveEndpoint(spec: HostSpec, context: EndpointContext): SshEndpoint {
  return resolveSpec(spec, context, context.defaultedFields ?? [], [spec.name]);
}

function resolveSpec(spec: HostSpec, context: EndpointContext, defaulted: readonly DefaultedField[], chain: readonly string[]): SshEndpoint {
  const configPath = `hosts.${spec.name}`;
  const alias = spec.sshConfigHost ?? spec.address;
  const entry = configEntryFor(alias, spec.sshConfigHost !== undefined, context);
  const host = spec.address === alias && entry?.hostName !== undefined ? entry.hostName.replace(/%h/g, alias) : spec.address;
  const port = defaulted.includes('port') && entry?.port !== undefined ? entry.port : spec.port;
  const user = defaulted.includes('user') && entry?.user !== undefined ? entry.user : spec.user;
  const where = sshWhere(user, host, port);

  let identityFiles: IdentityFile[] = [];
  let authHint: string;
  if (spec.identityFile !== undefined) {
    identityFiles = [{ path: spec.identityFile, isOptional: false }];
    authHint = `Check ${configPath}.identityFile.`;
  } else if (!spec.agent && entry !== undefined && entry.identityFiles.length > 0) {
    identityFiles = configIdentities(entry, context, { host, port, user, alias }, where);
    authHint = `Check IdentityFile for Host ${alias} in ${context.sshConfig?.file}.`;
  } else {
    authHint = spec.agent ? `Check that the ssh-agent holds a key authorised on the host (${configPath}.agent).` : `Set ${configPath}.identityFile or ${configPath}.agent.`;
  }
  if (spec.agent && context.agentSocket === undefined) {
    throw new SshError('SSH_AUTH', `SSH to ${where}: ${configPath}.agent is true but no ssh-agent socket is known (is SSH_AUTH_SOCK set?).`, { data: { where, phase: 'auth' } });
  }

  const base = {
    host, port, user, configPath, identityFiles, authHint,
    agentSocket: spec.agent ? context.agentSocket : undefined,
    knownHosts: spec.knownHosts,
    hostKey: spec.hostKey,
    trustOnFirstUse: spec.trustOnFirstUse,
  };
  const jumpText = spec.jump ?? entry?.proxyJump;
  const jump = jumpText === undefined ? undefined : resolveJump(jumpText, base, context, spec.jump !== undefined ? `${configPath}.jump` : `ProxyJump for Host ${alias}`, chain);
  return { ...base, jump };
}

/** `jump:` names a lab host, or is "[user@]host[:port]"; ProxyJump may list hops "a,b". */
function resolveJump(text: string, target: Omit<SshEndpoint, 'jump'>, context: EndpointContext, source: string, chain: readonly string[]): SshEndpoint {
  let previous: SshEndpoint | undefined;
  for (const hop of text.split(',').map((part) => part.trim())) {
    if (chain.includes(hop)) {
      throw new SshError('SSH_CONFIG', `${source} makes a loop: ${[...chain, hop].join(' -> ')}`, { data: { chain: [...chain, hop] } });
    }
    const labHost = context.resolveHost?.(hop);
    const endpoint = labHost !== undefined ? resolveSpec(labHost, context, [], [...chain, hop]) : hopEndpoint(hop, target, context, source, [...chain, hop]);
    // Within a list each hop goes through the one before it, whatever its own config says.
    previous = previous === undefined ? endpoint : { ...endpoint, jump: previous };
  }
  if (previous === undefined) throw new SshError('SSH_CONFIG', `${source} is empty`, { data: { source } });
  return previous;
}

/**
 * A hop given as text borrows the target's credentials (after any IdentityFile its ssh config
 * names) and trust settings, but not the target's pinned key.
 */
function hopEndpoint(text: string, target: Omit<SshEndpoint, 'jump'>, context: EndpointContext, source: string, chain: readonly string[]): SshEndpoint {
  const parsed = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:@]+)(?::(\d+))?$/.exec(text);
  if (parsed === null) {
    throw new SshError('SSH_CONFIG', `${source} "${text}" is neither a lab host name nor [user@]host[:port]`, { data: { source, jump: text } });
  }
  const [, userText, hostText = '', portText] = parsed;
  const alias = hostText.replace(/^\[|\]$/g, '');
  const entry = configEntryFor(alias, false, context);
  const host = entry?.hostName?.replace(/%h/g, alias) ?? alias;
  const port = portText !== undefined ? Number(portText) : (entry?.port ?? 22);
  const user = userText ?? entry?.user ?? target.user;
  const fromConfig = entry === undefined ? [] : configIdentities(entry, context, { host, port, user, alias }, text);
  const endpoint: SshEndpoint = {
    ...target,
    host, port, user,
    configPath: source,
    hostKey: undefined,
    identityFiles: [...fromConfig, ...target.identityFiles],
    authHint: `The jump host ${text} (${source}) is tried with ${fromConfig.length > 0 ? `IdentityFile for Host ${alias} in ${context.sshConfig?.file}, then ` : ''}the target's credentials. ${target.authHint}`,
  };
  const nested = entry?.proxyJump;
  return nested === undefined ? endpoint : { ...endpoint, jump: resolveJump(nested, endpoint, context, `ProxyJump for Host ${alias}`, chain) };
}

function configEntryFor(alias: string, isNamedExplicitly: boolean, context: EndpointContext): SshConfigEntry | undefined {
  if (context.sshConfig === undefined) return undefined;
  const entry = context.sshConfig.lookup(alias);
  if (isNamedExplicitly && !entry.isAliasMatched) {
    throw new SshError('SSH_CONFIG', `sshConfigHost "${alias}" matches no Host section in ${context.sshConfig.file}`, { data: { alias, file: context.sshConfig.file } });
  }
  return isNamedExplicitly || entry.isAliasMatched ? entry : undefined;
}

function configIdentities(entry: SshConfigEntry, context: EndpointContext, tokens: { host: string; port: number; user: string; alias: string }, where: string): IdentityFile[] {
  if (entry.identityFiles.length === 0) return [];
  const homeDir = requireHome(context, entry, where);
  const file = context.sshConfig?.file ?? '';
  return entry.identityFiles.map((path) => ({ path: expandSshPath(path, { homeDir, ...tokens }, file), isOptional: true }));
}

function requireHome(context: EndpointContext, entry: SshConfigEntry, where: string): string {
  if (context.homeDir !== undefined) return context.homeDir;
  if (entry.identityFiles.some((path) => path.startsWith('~') || path.includes('%d'))) {
    throw new SshError('SSH_CONFIG', `SSH to ${where}: IdentityFile in the ssh config uses ~ or %d but no home folder was given to the transport`, { data: { where } });
  }
  return '';
}
