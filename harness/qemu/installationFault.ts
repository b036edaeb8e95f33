/**
 * QEMU's words for a start failure that is the installation's or the lab's, never the product's:
 * a firmware or option ROM it cannot find (a QEMU source build installed without its data folder
 * prints "could not load PC BIOS 'bios-256k.bin'"), a guest kernel or initrd that was not copied,
 * a binary that is not there, a lab tap another VM holds, a host without KVM. A realize error of a device under test is none
 * of these: it stays a start failure a suite may judge.
 */
const INSTALLATION_FAULTS: readonly { readonly pattern: RegExp; readonly what: string }[] = [
  { pattern: /could not load PC BIOS '[^']*'/, what: 'its firmware is missing (is the QEMU installation complete, with its data folder?)' },
  { pattern: /Could not open option rom '[^']*'/, what: 'an option ROM file is missing' },
  { pattern: /failed to find romfile "[^"]*"/, what: 'a device ROM file is missing' },
  { pattern: /could not load kernel '[^']*'/, what: 'the guest kernel is not on the host' },
  { pattern: /could not load initial ram disk '[^']*'/, what: 'the guest initrd is not on the host' },
  { pattern: /exec: [^\n]*: not found/, what: 'the QEMU binary is not on the host' },
  { pattern: /could not configure \/dev\/net\/tun/, what: "the lab's tap interface cannot be opened (missing, or held by another VM)" },
  { pattern: /Could not access KVM kernel module|failed to initialize kvm/, what: 'KVM is not usable on the host' },
];

/** What is wrong with the installation, with QEMU's own line, or null when the log shows no installation fault. */
export function installationFault(logTail: string): { readonly what: string; readonly line: string } | null {
  for (const fault of INSTALLATION_FAULTS) {
    const match = fault.pattern.exec(logTail);
    if (match === null) continue;
    const lineStart = logTail.lastIndexOf('\n', match.index) + 1;
    const lineEnd = logTail.indexOf('\n', match.index);
    return { what: fault.what, line: logTail.slice(lineStart, lineEnd === -1 ? undefined : lineEnd).trim() };
  }
  return null;
}
