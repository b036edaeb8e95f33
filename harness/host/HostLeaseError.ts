import { InfrastructureError, type ErrorData } from '../errors.js';
import { describeLease, type LeaseRecord } from './HostLeaseRecord.js';

/** A lease could not be read, taken, renewed or released: a lab failure (ERROR). */
export class HostLeaseError extends InfrastructureError {
  constructor(code: 'LEASE_COMMAND_FAILED' | 'LEASE_LOST', message: string, options: { cause?: unknown; data?: ErrorData } = {}) {
    super(code, message, options);
  }
}

/** Another run holds the host: names who, which run, since when and until when. */
export class HostLeaseHeldError extends InfrastructureError {
  constructor(
    readonly host: string,
    readonly where: string,
    readonly holder: LeaseRecord,
    hostNowS: number,
    waitedMs: number,
  ) {
    const waited = waitedMs > 0 ? ` (waited ${waitedMs} ms)` : '';
    super(
      'LEASE_HELD',
      `${host} (${where}) is leased by ${describeLease(holder, hostNowS)}${waited}. ` +
        `Wait for it with --wait, or, if that run is gone, let the lease expire or break it with \`hil host lease --break --host ${host}\`.`,
      { data: { host, where, holder, hostNowS, waitedMs } },
    );
  }
}
