import { readFile } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { AnyAuthMethod, Client, ConnectConfig, ParsedKey, ServerHostKeyAlgorithm } from 'ssh2';
import { redact } from '../redact.js';
import { SshError } from './SshError.js';
import { endpointWhere, type SshEndpoint } from './SshEndpoint.js';
import { checkHostKey, type AcceptedHostKeys } from './checkHostKey.js';
import { hostKeyAlgorithmsPreferring, hostKeyFromBlob, parsePinnedHostKey } from './hostKey.js';
import { KnownHosts } from './KnownHosts.js';

export interface ConnectSettings {
  readonly connectTimeoutMs: number;
  /** 0 turns keepalive off. */
  readonly keepaliveIntervalMs: number;
  readonly keepaliveCountMax: number;
  /** For passphrase-protected identity files. Never logged, never put in an error. */
  readonly passphrase?: string;
  readonly acceptedHostKeys: AcceptedHostKeys;
}

/**
 * One authenticated ssh2 connection, plus the connections to the jump hosts it tunnels through
 * (closed with it). `onClose` fires once, whether we closed it or it dropped.
 */
export class SshConnection {
  private isClosed = false;
  private isClosing = false;
  private readonly closeListeners: ((error: Error | undefined) => void)[] = [];
  private lastError: Error | undefined;

  private constructor(
    readonly client: Client,
    private readonly hops: readonly SshConnection[],
  ) {
    client.on('error', (error: Error) => {
      this.lastError = error;
    });
    client.on('close', () => this.markClosed());
    // A hop going away takes the tunnel, and so this connection, with it.
    for (const hop of hops) hop.onClose(() => client.end());
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  /** True once close() was called: the end was ours, not a drop. */
  get wasClosedByUs(): boolean {
    return this.isClosing;
  }

  /** Calls `listener` once the connection is gone (at once if it already is); returns an unsubscribe. */
  onClose(listener: (error: Error | undefined) => void): () => void {
    if (this.isClosed) {
      listener(this.lastError);
      return () => undefined;
    }
    this.closeListeners.push(listener);
    return () => {
      const index = this.closeListeners.indexOf(listener);
      if (index >= 0) this.closeListeners.splice(index, 1);
    };
  }

  /**
   * Ends the connection and resolves once its socket is closed. A peer that has died never
   * answers the disconnect, so after `graceMs` the socket is destroyed rather than left to hang
   * (it would keep the process alive).
   */
  close(graceMs = 2000): Promise<void> {
    this.isClosing = true;
    const closed = new Promise<void>((resolve) => this.onClose(() => resolve()));
    if (!this.isClosed) {
      this.client.end();
      const timer = setTimeout(() => this.client.destroy(), graceMs);
      timer.unref();
      void closed.then(() => clearTimeout(timer));
    }
    for (const hop of [...this.hops].reverse()) void hop.close(graceMs);
    return closed;
  }

  private markClosed(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const hop of this.hops) hop.close();
    for (const listener of this.closeListeners.splice(0)) listener(this.lastError);
  }

  /** Connects through the endpoint's jump hosts (each checked like the target) to the endpoint. */
  static async open(endpoint: SshEndpoint, settings: ConnectSettings): Promise<SshConnection> {
    const where = endpointWhere(endpoint);
    const hops: SshConnection[] = [];
    let sock: Duplex | undefined;
    if (endpoint.jump !== undefined) {
      const hop = await SshConnection.open(endpoint.jump, settings);
      hops.push(hop);
      try {
        sock = await forwardTo(hop, endpoint, where, settings.connectTimeoutMs);
      } catch (error) {
        hop.close();
        throw error;
      }
    }
    // Listening from before the handshake: an 'error' with no listener would crash the process.
    const connection = new SshConnection(new ssh2.Client(), hops);
    try {
      await handshake(connection.client, endpoint, settings, sock);
      return connection;
    } catch (error) {
      for (const hop of hops) hop.close();
      throw error;
    }
  }
}

function forwardTo(hop: SshConnection, endpoint: SshEndpoint, where: string, timeoutMs: number): Promise<Duplex> {
  const via = endpointWhere(endpoint.jump!);
  const data = { where, via, phase: 'connect' };
  return new Promise((resolve, reject) => {
    let isTimedOut = false;
    // The jump's sshd connects with its own (long) TCP timeout; ours is the connect timeout.
    const timer = setTimeout(() => {
      isTimedOut = true;
      reject(new SshError('SSH_CONNECT', `SSH connect to ${where} through jump host ${via} timed out: the jump host did not reach ${endpoint.host}:${endpoint.port} within ${timeoutMs} ms`, { data }));
    }, timeoutMs);
    hop.client.forwardOut('127.0.0.1', 0, endpoint.host, endpoint.port, (error, stream) => {
      clearTimeout(timer);
      if (isTimedOut) {
        stream?.destroy();
      } else if (error !== undefined && error !== null) {
        reject(new SshError('SSH_CONNECT', `SSH connect to ${where} through jump host ${via} failed: the jump host could not open a connection to ${endpoint.host}:${endpoint.port} (${error.message})`, { cause: error, data }));
      } else {
        resolve(stream);
      }
    });
  });
}

async function handshake(client: Client, endpoint: SshEndpoint, settings: ConnectSettings, sock: Duplex | undefined): Promise<void> {
  const where = endpointWhere(endpoint);
  const via = endpoint.jump === undefined ? '' : ` (through jump host ${endpointWhere(endpoint.jump)})`;
  const authMethods = await authMethodsFor(endpoint, settings);
  const knownTypes = await knownKeyTypes(endpoint);
  let hostKeyError: SshError | undefined;

  const config: ConnectConfig = {
    host: endpoint.host,
    port: endpoint.port,
    username: endpoint.user,
    readyTimeout: settings.connectTimeoutMs,
    keepaliveInterval: settings.keepaliveIntervalMs,
    keepaliveCountMax: settings.keepaliveCountMax,
    authHandler: authMethods,
    algorithms: { serverHostKey: hostKeyAlgorithmsPreferring(knownTypes) as ServerHostKeyAlgorithm[] },
    hostVerifier: (blob: Buffer, verify: (isValid: boolean) => void) => {
      const key = hostKeyFromBlob(blob);
      if (key === undefined) {
        hostKeyError = new SshError('SSH_CONNECT', `SSH host key check for ${where} failed: the host sent a malformed host key`, { data: { where, phase: 'host key check' } });
        verify(false);
        return;
      }
      checkHostKey(endpoint, key, settings.acceptedHostKeys).then(
        () => verify(true),
        (error: unknown) => {
          hostKeyError = error instanceof SshError ? error : new SshError('SSH_CONNECT', `SSH host key check for ${where} failed: ${(error as Error).message}`, { cause: error, data: { where, phase: 'host key check' } });
          verify(false);
        },
      );
    },
    ...(sock === undefined ? {} : { sock }),
  };

  return new Promise((resolve, reject) => {
    const onError = (error: Error & { level?: string }) => {
      client.removeListener('ready', onReady);
      client.end();
      reject(hostKeyError ?? connectError(error, endpoint, settings, authMethods, where, via));
    };
    const onReady = () => {
      client.removeListener('error', onError);
      resolve();
    };
    client.once('error', onError);
    client.once('ready', onReady);
    try {
      client.connect(config);
    } catch (error) {
      client.removeListener('error', onError);
      reject(new SshError('SSH_CONNECT', `SSH connect to ${where}${via} could not start: ${(error as Error).message}`, { cause: error, data: { where, phase: 'connect' } }));
    }
  });
}

function connectError(error: Error & { level?: string }, endpoint: SshEndpoint, settings: ConnectSettings, methods: readonly AnyAuthMethod[], where: string, via: string): SshError {
  const data = { where, phase: 'connect', level: error.level };
  if (error.level === 'client-authentication') {
    const tried = [...new Set(methods.map((method) => (method.type === 'agent' ? 'publickey via ssh-agent' : method.type)))].join(', ') || 'nothing';
    return new SshError('SSH_AUTH', `SSH authentication to ${where}${via} failed (tried ${tried}). ${endpoint.authHint}`, { cause: error, data: { ...data, phase: 'authentication', tried, identityFiles: endpoint.identityFiles.map((file) => file.path) } });
  }
  if (error.level === 'client-timeout') {
    return new SshError('SSH_CONNECT', `SSH connect to ${where}${via} timed out after ${settings.connectTimeoutMs} ms without completing the SSH handshake. Check that the host is up and ${endpoint.host}:${endpoint.port} is sshd.`, { cause: error, data });
  }
  const code = (error as NodeJS.ErrnoException).code;
  const reason = code === 'ECONNREFUSED' ? 'connection refused: is sshd listening on that port?' : error.message;
  return new SshError('SSH_CONNECT', `SSH connect to ${where}${via} failed: ${reason}`, { cause: error, data: { ...data, errno: code } });
}

async function authMethodsFor(endpoint: SshEndpoint, settings: ConnectSettings): Promise<AnyAuthMethod[]> {
  const where = endpointWhere(endpoint);
  const methods: AnyAuthMethod[] = [];
  const missing: string[] = [];
  for (const { path: file, isOptional } of endpoint.identityFiles) {
    let text: Buffer;
    try {
      text = await readFile(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && isOptional) {
        missing.push(file);
        continue;
      }
      throw new SshError('SSH_AUTH', `SSH authentication to ${where} cannot start: identity file ${file} is not readable (${(error as Error).message}). ${endpoint.authHint}`, { cause: error, data: { where, phase: 'authentication', file } });
    }
    const parsed = ssh2.utils.parseKey(text, settings.passphrase);
    if (parsed instanceof Error) {
      // The library's words, which saw the passphrase: redacted in case a version ever echoes it.
      const why = settings.passphrase === undefined && /encrypt|passphrase/i.test(parsed.message) ? 'it is passphrase-protected and no passphrase was given' : redact(parsed.message, [settings.passphrase]);
      throw new SshError('SSH_AUTH', `SSH authentication to ${where} cannot start: identity file ${file} could not be loaded: ${why}. ${endpoint.authHint}`, { data: { where, phase: 'authentication', file } });
    }
    const key: ParsedKey | undefined = Array.isArray(parsed) ? parsed[0] : parsed;
    if (key !== undefined) methods.push({ type: 'publickey', username: endpoint.user, key });
  }
  if (endpoint.agentSocket !== undefined) methods.push({ type: 'agent', username: endpoint.user, agent: endpoint.agentSocket });
  if (methods.length === 0) {
    const detail = missing.length > 0 ? `none of the identity files exists (${missing.join(', ')})` : 'no identity file and no agent is configured';
    throw new SshError('SSH_AUTH', `SSH authentication to ${where} cannot start: ${detail}. ${endpoint.authHint}`, { data: { where, phase: 'authentication', missing } });
  }
  return methods;
}

async function knownKeyTypes(endpoint: SshEndpoint): Promise<string[]> {
  if (endpoint.hostKey !== undefined) {
    const pin = parsePinnedHostKey(endpoint.hostKey);
    return pin?.kind === 'key' ? [pin.key.type] : [];
  }
  if (endpoint.knownHosts === undefined) return [];
  return (await KnownHosts.read(endpoint.knownHosts)).knownKeyTypes(endpoint.host, endpoint.port);
}
