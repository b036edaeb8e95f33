import type { Duplex } from 'node:stream';
import type { HostSpec } from '../config/types.js';
import type { CommandResult, CommandRunner, RunOptions } from '../runner.js';
import { SshConfigFile } from './SshConfigFile.js';
import { SshConnection } from './SshConnection.js';
import { endpointWhere, resolveEndpoint, type DefaultedField, type SshEndpoint } from './SshEndpoint.js';
import { SshError, SshStateError, sshWhere } from './SshError.js';
import { SshProcess } from './SshProcess.js';
import type { AcceptedHostKeys } from './checkHostKey.js';
import { disconnectedError, openExecChannel, openStreamLocalChannel } from './openChannel.js';
import { markedCommand, newRunId } from './remoteKill.js';
import { runCommand } from './runCommand.js';
import { getFile, putFile } from './sftpTransfer.js';

export interface SshTransportOptions {
  /** TCP connect + SSH handshake + authentication, per hop. Default 10 s. */
  readonly connectTimeoutMs?: number;
  /** run() timeout when the call gives none. Default 60 s. */
  readonly commandTimeoutMs?: number;
  /** SSH-level keepalive; the connection counts as dropped after keepaliveCountMax misses. Default 5 s, 0 = off. */
  readonly keepaliveIntervalMs?: number;
  readonly keepaliveCountMax?: number;
  /** After a run() timeout, how long to wait for the host to confirm the killed command ended. Default 2 s. */
  readonly killGraceMs?: number;
  /** Passphrase of the identity file. Never logged and never put into an error. */
  readonly passphrase?: string;
  /** The ssh-agent socket, for hosts with `agent: true` (config/ reads SSH_AUTH_SOCK). */
  readonly agentSocket?: string;
  /** Another lab host by name, for `jump: <name>`. */
  readonly resolveHost?: (name: string) => HostSpec | undefined;
  /** An ssh_config file to honour (the caller resolves ~/.ssh/config); read at open(). */
  readonly sshConfigFile?: string;
  /** Home folder for `~` and %d in that file. */
  readonly homeDir?: string;
  /** HostSpec fields the loader defaulted, which the ssh config may therefore override. */
  readonly defaultedFields?: readonly DefaultedField[];
}

export interface SshRunOptions extends RunOptions {
  /** Safe to repeat: after a dropped connection, reconnect once and run it again. */
  readonly idempotent?: boolean;
}

export type SshTransportState = 'new' | 'opening' | 'open' | 'disconnected' | 'reconnecting' | 'closing' | 'closed';

/**
 * The SSH path to one lab host (design.md §3, §4): commands, streams, unix-socket forwards and
 * files over one ssh2 connection, with host-key verification, keepalive and one reconnect for
 * calls that are safe to repeat. Lifecycle: new → open() → open ⇄ disconnected → close() → closed.
 */
export class SshTransport implements CommandRunner {
  private currentState: SshTransportState = 'new';
  private endpoint: SshEndpoint | undefined;
  private connection: SshConnection | undefined;
  private pending: Promise<SshConnection> | undefined;
  private readonly acceptedHostKeys: AcceptedHostKeys = new Map();
  private readonly disconnectListeners = new Set<(error: SshError) => void>();
  private readonly processes = new Set<SshProcess>();
  private readonly options: Omit<SshTransportOptions, 'passphrase'>;
  /** A #private field: util.inspect, JSON.stringify and test failure diffs of a transport never show it. */
  readonly #passphrase: string | undefined;

  constructor(
    readonly spec: HostSpec,
    options: SshTransportOptions = {},
  ) {
    const { passphrase, ...rest } = options;
    this.options = rest;
    this.#passphrase = passphrase;
  }

  /** "user@host:port" as connected (after ssh config), or as configured before open(). */
  get where(): string {
    return this.endpoint === undefined ? sshWhere(this.spec.user, this.spec.address, this.spec.port) : endpointWhere(this.endpoint);
  }

  get state(): SshTransportState {
    return this.currentState;
  }

  get isOpen(): boolean {
    return this.currentState === 'open';
  }

  /** Connects and authenticates; from `new`, or from `disconnected` to reconnect explicitly. */
  async open(): Promise<void> {
    if (this.currentState !== 'new' && this.currentState !== 'disconnected') {
      throw new SshStateError('open', this.currentState, this.where, 'open() is for a new or disconnected transport');
    }
    const previous = this.currentState;
    this.currentState = 'opening';
    try {
      await this.connect();
    } catch (error) {
      if (this.currentState === 'opening') this.currentState = previous;
      throw error;
    }
  }

  /**
   * Ends the connection and every channel on it. Spawned commands still running get SIGTERM
   * first: without a pty, sshd would leave them running after the channel closes. Safe to call
   * in any state, and twice.
   */
  async close(): Promise<void> {
    if (this.currentState === 'closed' || this.currentState === 'closing') return;
    const pending = this.pending;
    this.currentState = 'closing';
    if (pending !== undefined) await pending.then(closeConnection, noConnection);
    await Promise.all([...this.processes].filter((process) => process.isRunning).map((process) => process.kill('TERM')));
    this.processes.clear();
    const connection = this.connection;
    this.connection = undefined;
    await connection?.close();
    this.currentState = 'closed';
  }

  /**
   * Learn that the connection dropped (not when close() ends it), e.g. to fail QMP clients
   * whose sockets were forwarded over it. Returns an unsubscribe.
   */
  onDisconnect(listener: (error: SshError) => void): () => void {
    this.disconnectListeners.add(listener);
    return () => this.disconnectListeners.delete(listener);
  }

  run(command: string, options: SshRunOptions = {}): Promise<CommandResult> {
    const timeoutMs = options.timeoutMs ?? this.options.commandTimeoutMs ?? 60_000;
    return this.withConnection('run', options.idempotent === true, (connection) =>
      runCommand(connection, this.where, command, { timeoutMs, killGraceMs: this.options.killGraceMs ?? 2_000, stdin: options.stdin }),
    );
  }

  /** Starts a long-running command and hands back its streams; see SshProcess. */
  spawn(command: string, options: { readonly idempotent?: boolean } = {}): Promise<SshProcess> {
    return this.withConnection('spawn', options.idempotent === true, async (connection) => {
      const runId = newRunId();
      const exec = await openExecChannel(connection, this.where, markedCommand(command, runId));
      const process = new SshProcess(exec, connection, this.where, command, runId);
      this.processes.add(process);
      process.exit.then(() => this.processes.delete(process), () => this.processes.delete(process));
      return process;
    });
  }

  /**
   * A stream to a unix socket on the host (a QMP socket). Opening is safe to repeat, so it
   * reconnects after a drop. If the connection drops later the stream just ends; onDisconnect
   * says why.
   */
  openUnixSocket(remotePath: string): Promise<Duplex> {
    return this.withConnection('openUnixSocket', true, (connection) => openStreamLocalChannel(connection, this.where, remotePath));
  }

  /** Copies a local file or a buffer to the host; `mode` is applied exactly (not through umask). */
  put(source: string | Buffer, remotePath: string, options: { readonly mode?: number } = {}): Promise<void> {
    return this.withConnection('put', true, (connection) => putFile(connection, this.where, source, remotePath, options.mode));
  }

  get(remotePath: string, localPath: string): Promise<void> {
    return this.withConnection('get', true, (connection) => getFile(connection, this.where, remotePath, localPath));
  }

  private async withConnection<T>(call: string, isIdempotent: boolean, operation: (connection: SshConnection) => Promise<T>): Promise<T> {
    const connection = await this.connectionFor(call, isIdempotent);
    try {
      return await operation(connection);
    } catch (error) {
      const isDrop = error instanceof SshError && error.code === 'SSH_DISCONNECTED';
      if (!isDrop || !isIdempotent || this.currentState === 'closing' || this.currentState === 'closed') throw error;
      return operation(await this.reconnect(call));
    }
  }

  private async connectionFor(call: string, isIdempotent: boolean): Promise<SshConnection> {
    switch (this.currentState) {
      case 'open':
        if (this.connection?.isOpen === true) return this.connection;
        // Dropped, and its close event is still on the way: report the drop now.
        if (this.connection !== undefined) this.handleDrop(this.connection, undefined);
        return this.connectionFor(call, isIdempotent);
      case 'disconnected':
      case 'reconnecting':
        if (!isIdempotent) throw disconnectedError(this.where, `before ${call}(); it is not marked idempotent, so it is not retried`);
        return this.reconnect(call);
      default:
        throw new SshStateError(call, this.currentState, this.where, this.currentState === 'new' ? 'call open() first' : 'the transport cannot be used any more');
    }
  }

  private async reconnect(call: string): Promise<SshConnection> {
    if (this.currentState === 'reconnecting' && this.pending !== undefined) return this.pending;
    // Another call may have reconnected already while this one was failing.
    if (this.currentState === 'open' && this.connection?.isOpen === true) return this.connection;
    this.currentState = 'reconnecting';
    try {
      return await this.connect();
    } catch (error) {
      if (this.currentState === 'reconnecting') this.currentState = 'disconnected';
      if (!(error instanceof SshError)) throw error;
      throw new SshError(error.code, `Reconnecting for ${call}() after the connection dropped: ${error.message}`, { cause: error, data: error.data });
    }
  }

  private connect(): Promise<SshConnection> {
    const pending = this.connectOnce();
    this.pending = pending;
    return pending.finally(() => {
      if (this.pending === pending) this.pending = undefined;
    });
  }

  private async connectOnce(): Promise<SshConnection> {
    if (this.endpoint === undefined) this.endpoint = await this.resolve();
    const connection = await SshConnection.open(this.endpoint, {
      connectTimeoutMs: this.options.connectTimeoutMs ?? 10_000,
      keepaliveIntervalMs: this.options.keepaliveIntervalMs ?? 5_000,
      keepaliveCountMax: this.options.keepaliveCountMax ?? 3,
      passphrase: this.#passphrase,
      acceptedHostKeys: this.acceptedHostKeys,
    });
    if (this.currentState === 'closing' || this.currentState === 'closed') {
      void connection.close();
      throw new SshStateError('open', this.currentState, this.where, 'close() was called while connecting');
    }
    this.connection = connection;
    this.currentState = 'open';
    connection.onClose((cause) => this.handleDrop(connection, cause));
    return connection;
  }

  /** lab.yaml + ssh config + jump hosts; errors name the host as configured and the phase. */
  private async resolve(): Promise<SshEndpoint> {
    try {
      const sshConfig = this.options.sshConfigFile === undefined ? undefined : await SshConfigFile.read(this.options.sshConfigFile);
      return resolveEndpoint(this.spec, {
        sshConfig,
        homeDir: this.options.homeDir,
        resolveHost: this.options.resolveHost,
        agentSocket: this.options.agentSocket,
        defaultedFields: this.options.defaultedFields,
      });
    } catch (error) {
      if (!(error instanceof SshError) || error.message.includes(this.where)) throw error;
      throw new SshError(error.code, `SSH configuration of ${this.where} (hosts.${this.spec.name}): ${error.message}`, { cause: error, data: { ...error.data, where: this.where, phase: 'configuration' } });
    }
  }

  private handleDrop(connection: SshConnection, cause: Error | undefined): void {
    if (this.connection !== connection || this.currentState !== 'open') return;
    this.connection = undefined;
    this.currentState = 'disconnected';
    const error = disconnectedError(this.where, '', cause);
    for (const listener of [...this.disconnectListeners]) listener(error);
  }
}

function closeConnection(connection: SshConnection): Promise<void> {
  return connection.close();
}

function noConnection(_error: unknown): void {
  // The open that close() waited for failed: there is nothing to close, and open() reported why.
}
