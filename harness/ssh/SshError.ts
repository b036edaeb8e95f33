import { HarnessError, InfrastructureError, type ErrorData } from '../errors.js';

/**
 * One code per phase of an SSH conversation, so reports and retries can key on where it broke.
 * SSH_HOSTKEY_REVOKED is for a key that known_hosts marks @revoked (never accepted); SSH_FORWARD
 * for a stream-local forward the server would not open; SSH_CONFIG for settings that cannot work.
 */
export type SshErrorCode =
  | 'SSH_CONNECT'
  | 'SSH_HOSTKEY_UNKNOWN'
  | 'SSH_HOSTKEY_CHANGED'
  | 'SSH_HOSTKEY_REVOKED'
  | 'SSH_AUTH'
  | 'SSH_EXEC'
  | 'SSH_FORWARD'
  | 'SSH_TIMEOUT'
  | 'SSH_DISCONNECTED'
  | 'SSH_SFTP'
  | 'SSH_CONFIG';

/** A failure of the SSH path to a lab host: a lab error (ERROR), never a product verdict. */
export class SshError extends InfrastructureError {
  declare readonly code: SshErrorCode;

  constructor(code: SshErrorCode, message: string, options: { cause?: unknown; data?: ErrorData } = {}) {
    super(code, message, options);
  }
}

/**
 * A call made in a lifecycle state that does not allow it (run before open, open twice). This is
 * a bug in the caller, not a lab failure, so it is not an InfrastructureError.
 */
export class SshStateError extends HarnessError {
  constructor(call: string, state: string, where: string, hint: string) {
    super('SSH_STATE', `SshTransport.${call}() called while the transport to ${where} is ${state}; ${hint}`, {
      data: { call, state, where },
    });
  }
}

/** "user@host:port", the way every SSH message names its endpoint. */
export function sshWhere(user: string, host: string, port: number): string {
  return `${user}@${host}:${port}`;
}
