import { vmFiles } from '../../harness/qemu/vmFiles.js';
import type { VmSpec } from '../../harness/qemu/VmSpec.js';

/** Test support: a small paused pc VM (no guest) with its sockets in `workDir`. */
export function testVmSpec(workDir: string, name: string, overrides: Partial<VmSpec> = {}): VmSpec {
  const files = vmFiles(workDir, name);
  return { name, machine: 'pc', memoryMiB: 64, cpus: 1, qmpSocket: files.qmpSocket, serialSocket: files.serialSocket, nics: [], startsPaused: true, ...overrides };
}
