import type { CommandRunner } from '../runner.js';
import { GuestActionError } from './GuestActionError.js';

/** One PCI function as the guest kernel sees it. */
export interface GuestPciFunction {
  /** "0000:00:03.0" */
  readonly bdf: string;
  /** "8086" */
  readonly vendorId: string;
  /** "10d3" */
  readonly deviceId: string;
  readonly driver: string | null;
  /** Null when the guest has no IOMMU (or it is off): the function then has no group. */
  readonly iommuGroup: number | null;
}

/** PCI vendor:device of the devices the labs hand to a guest, to find them there. */
export const GUEST_PCI_IDS = {
  e1000e: { vendorId: '8086', deviceId: '10d3' },
  igb: { vendorId: '8086', deviceId: '10c9' },
  /** QEMU's mtty sample mdev (samples/vfio-mdev/mtty.c). */
  mtty: { vendorId: '4348', deviceId: '3253' },
} as const;

const BDF = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-1][0-9a-f]\.[0-7]$/;

/** One line per function: bdf vendor device driver-or-dash group-or-dash (busybox sh, one line). */
const LIST_COMMAND = 'for d in /sys/bus/pci/devices/*; do v=$(cat $d/vendor); p=$(cat $d/device); r=-; g=-; [ -e $d/driver ] && r=$(basename $(readlink $d/driver)); [ -e $d/iommu_group ] && g=$(basename $(readlink $d/iommu_group)); echo "pcifn ${d##*/} $v $p $r $g"; done';

export function parseGuestPciListing(text: string): GuestPciFunction[] {
  const functions: GuestPciFunction[] = [];
  for (const line of text.split('\n')) {
    const match = /^pcifn (\S+) 0x([0-9a-f]{4}) 0x([0-9a-f]{4}) (\S+) (\S+)\s*$/i.exec(line.trim());
    if (match === null || !BDF.test(match[1]!)) continue;
    functions.push({
      bdf: match[1]!, vendorId: match[2]!.toLowerCase(), deviceId: match[3]!.toLowerCase(),
      driver: match[4] === '-' ? null : match[4]!,
      iommuGroup: match[5] === '-' ? null : Number(match[5]),
    });
  }
  return functions;
}

export async function listGuestPciFunctions(guest: CommandRunner, timeoutMs = 30_000): Promise<GuestPciFunction[]> {
  const result = await guest.run(LIST_COMMAND, { timeoutMs });
  if (result.exitCode !== 0) throw new GuestActionError('GUEST_PCI_LIST', `Listing PCI functions over ${guest.where} exited ${result.exitCode}: ${result.stdout.trim().slice(-300)}`);
  return parseGuestPciListing(result.stdout);
}

/** The one guest function with these ids; an error names what the guest has instead. */
export async function findGuestPciFunction(guest: CommandRunner, ids: { readonly vendorId: string; readonly deviceId: string }, what: string): Promise<GuestPciFunction> {
  const all = await listGuestPciFunctions(guest);
  const found = all.filter((f) => f.vendorId === ids.vendorId && f.deviceId === ids.deviceId);
  if (found.length !== 1) {
    const seen = all.map((f) => `${f.bdf} ${f.vendorId}:${f.deviceId}`).join(', ');
    throw new GuestActionError('GUEST_PCI_NOT_FOUND', `Expected one ${what} (${ids.vendorId}:${ids.deviceId}) in the guest over ${guest.where}, found ${found.length}; the guest has: ${seen}`);
  }
  return found[0]!;
}
