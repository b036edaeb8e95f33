import { readEnvironment } from '../config/environment.js';
import type { LabConfig } from '../config/types.js';
import { formatPreflight } from '../host/formatPreflight.js';
import { HostConnections } from '../host/HostConnections.js';
import { preflightLab } from '../host/preflightLab.js';
import type { CliIo } from './cliSupport.js';
import { ExitCode } from './ExitCode.js';

/** Preflight of every host of a lab, printed as the table; the exit code says whether it is ready. */
export async function printPreflight(config: LabConfig, io: CliIo): Promise<void> {
  const connections = new HostConnections(config, readEnvironment());
  try {
    const report = await preflightLab(config, connections);
    io.out(formatPreflight(report));
    io.setExitCode(report.isReady ? ExitCode.ok : ExitCode.labFailure);
  } finally {
    await connections.closeAll();
  }
}
