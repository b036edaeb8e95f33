import type { LabSession } from '../../../harness/session/LabSession.js';
import type { TestScope } from '../../../harness/session/TestScope.js';
import { runChecked } from '../../../harness/LocalRunner.js';
import { sh } from '../../../harness/shell.js';

/** pci-testdev's ids (QEMU: PCI_VENDOR_ID_REDHAT, PCI_DEVICE_ID_REDHAT_TEST): SeaBIOS runs a ROM only when its PCIR ids match the device. */
const VENDOR_ID = 0x1b36;
const DEVICE_ID = 0x0005;

/**
 * A 512-byte PCI option ROM whose init code makes the CPU triple-fault: SeaBIOS runs every PCI
 * device's ROM during POST, before the kernel, so a guest with a device carrying it resets at every
 * boot (QMP RESET, guest: true) and the same guest without the device boots. The code: cli; lidt
 * cs:[0x10] (a zero-limit IDT at 0x10); int3. With the IDT limit 0 the interrupt raises #GP, whose
 * delivery raises #GP again, a double fault, then a triple fault: a reset.
 */
export function tripleFaultRom(): Buffer {
  const rom = Buffer.alloc(512);
  rom.set([0x55, 0xaa, 0x01], 0); // signature, size in 512-byte blocks
  rom.set([0xfa, 0x2e, 0x0f, 0x01, 0x1e, 0x10, 0x00, 0xcc, 0xeb, 0xfe], 3); // cli; lidt cs:[0x0010]; int3; jmp $
  rom.writeUInt16LE(0x20, 0x18); // offset of the PCI data structure
  rom.write('PCIR', 0x20, 'latin1');
  rom.writeUInt16LE(VENDOR_ID, 0x24);
  rom.writeUInt16LE(DEVICE_ID, 0x26);
  rom.writeUInt16LE(0x18, 0x2a); // PCIR length
  rom.set([0x00, 0x00, 0x05], 0x2d); // class code: memory controller
  rom.writeUInt16LE(1, 0x30); // image length in 512-byte blocks
  rom[0x34] = 0x00; // code type: x86
  rom[0x35] = 0x80; // last image
  let sum = 0;
  for (let i = 0; i < 511; i++) sum += rom[i]!;
  rom[511] = (256 - (sum % 256)) % 256; // the bytes of a ROM sum to 0 mod 256
  return rom;
}

/** Puts the ROM in the host's workDir (removed by the test's teardown) and returns its path there. */
export async function putTripleFaultRom(lab: LabSession, scope: TestScope, hostName: string): Promise<string> {
  const host = lab.host(hostName);
  const path = `${host.workDir}/trip-${scope.artifactsSubdir.replace(/[^A-Za-z0-9]+/g, '-').slice(-40)}.rom`;
  const runner = lab.hostRunner(hostName);
  await runChecked(runner, sh`mkdir -p -m 0700 ${host.workDir} && echo ${tripleFaultRom().toString('base64')} | base64 -d > ${path}`);
  scope.teardown.push(`remove ${path} on ${hostName}`, async () => { await runChecked(runner, sh`rm -f ${path}`); });
  return path;
}

/** The QEMU arguments of the device under test: a pci-testdev carrying the ROM. */
export function trippingDeviceArgs(romPath: string): string[] {
  return ['-device', `pci-testdev,romfile=${romPath}`];
}
