/**
 * The one contract for running a command somewhere: a host over SSH, the guest over its console,
 * or the controller itself. A guest or host action takes a CommandRunner and does not care which.
 */
export interface CommandResult {
  readonly exitCode: number | null;
  /** Set when the command died from a signal (e.g. "KILL"). */
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
}

export interface RunOptions {
  readonly timeoutMs?: number;
  readonly stdin?: string | Buffer;
}

export interface CommandRunner {
  /** Where commands run, for messages: "root@10.231.1.11:22", "guest console of vm-src". */
  readonly where: string;
  run(command: string, options?: RunOptions): Promise<CommandResult>;
}
