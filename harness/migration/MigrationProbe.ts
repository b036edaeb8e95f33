import type { OutageReport } from './MigrationRecord.js';

/**
 * What a migration asks of the probe that runs beside it (measure/ProbeStream): the first reply
 * once the guest runs on the destination closes the outage window, and the outage inside the
 * migration's window goes into the record. Declared here so the migration does not import the
 * layer that measures it.
 */
export interface MigrationProbe {
  waitForReply(timeoutMs: number): Promise<unknown>;
  outage(fromMs: number, toMs: number): OutageReport;
}
