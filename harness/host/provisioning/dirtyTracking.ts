import { posix } from 'node:path';
import type { CommandRunner } from '../../runner.js';
import { sh } from '../../shell.js';
import { checkSysfsRoot, DEFAULT_SYSFS_ROOT, pciDevicePath, runRead } from './pciSysfs.js';

/**
 * Whether the host IOMMU can track dirty pages for IOMMUFD (what VFIO devices without their own
 * DMA logging need to migrate). Intel: the kernel's ssads_supported() = scalable mode supported
 * (ECAP.SMTS) and enabled, second-stage A/D bits (ECAP.SLADS), page-walk coherency (ECAP.SMPWC).
 * AMD: EFR.HDSup. End to end, QEMU's iommufd_backend_alloc_hwpt trace shows whether the HWPT
 * was allocated with IOMMU_HWPT_ALLOC_DIRTY_TRACKING.
 */
export const INTEL_ECAP_BIT = { smts: 43n, slads: 45n, smpwc: 48n } as const;
export const AMD_EFR_HDSUP_BIT = 52n;
/** IOMMU_HWPT_ALLOC_DIRTY_TRACKING in include/uapi/linux/iommufd.h. */
export const HWPT_ALLOC_DIRTY_TRACKING = 1 << 1;

function parseHex(text: string): bigint | null {
  const hex = text.trim().replace(/^0x/i, '');
  return /^[0-9a-f]+$/i.test(hex) ? BigInt(`0x${hex}`) : null;
}

function hasBit(value: bigint, bit: bigint): boolean {
  return ((value >> bit) & 1n) === 1n;
}

/** Missing ECAP features for second-stage dirty tracking (empty: capable); null if not hex. */
export function intelEcapMissing(ecapHex: string): string[] | null {
  const ecap = parseHex(ecapHex);
  if (ecap === null) return null;
  return (Object.entries(INTEL_ECAP_BIT) as [string, bigint][]).filter(([, bit]) => !hasBit(ecap, bit)).map(([name]) => name.toUpperCase());
}

/**
 * HDSup from the amd-iommu/features attribute. Its format changed across kernels: "EFR", then
 * "EFR2:EFR", then "EFR:EFR2" (global EFR). With two words and no dmesg line to settle it, the
 * answer is only trusted when both readings agree.
 */
export function amdHdSupport(featuresText: string, dmesgEfrHex: string | null = null): boolean | null {
  if (dmesgEfrHex !== null) {
    const efr = parseHex(dmesgEfrHex);
    if (efr !== null) return hasBit(efr, AMD_EFR_HDSUP_BIT);
  }
  const words = featuresText.trim().split(':').map(parseHex);
  if (words.some((w) => w === null) || words.length === 0 || words.length > 2) return null;
  const readings = words.map((w) => hasBit(w!, AMD_EFR_HDSUP_BIT));
  return readings.every((r) => r === readings[0]) ? readings[0]! : null;
}

/** intel_iommu=...,sm_on / sm_off on the command line, else the kernel's build default. */
export function intelScalableMode(cmdline: string, isDefaultOn: boolean | null): 'on' | 'off' | 'unknown' {
  const options = /(?:^|\s)intel_iommu=(\S+)/.exec(cmdline)?.[1]?.split(',') ?? [];
  if (options.includes('sm_on')) return 'on';
  if (options.includes('sm_off') || options.includes('off')) return 'off';
  return isDefaultOn === null ? 'unknown' : isDefaultOn ? 'on' : 'off';
}

export interface IommuUnitFacts {
  readonly unit: string;
  readonly intelEcap?: string;
  readonly amdFeatures?: string;
}

export interface IommuDirtyTracking {
  readonly isSupported: boolean;
  readonly vendor: 'intel' | 'amd' | 'none';
  /** The units judged (the device's own unit when a device was named). */
  readonly units: readonly string[];
  readonly reason: string;
}

export function judgeIommuDirtyTracking(input: {
  readonly units: readonly IommuUnitFacts[];
  readonly cmdline: string;
  readonly isScalableModeDefaultOn: boolean | null;
  readonly dmesgAmdEfr?: string | null;
}): IommuDirtyTracking {
  const names = input.units.map((u) => u.unit);
  const intel = input.units.filter((u) => u.intelEcap !== undefined);
  const amd = input.units.filter((u) => u.amdFeatures !== undefined);
  if (intel.length > 0) {
    const missing = intel.map((u) => ({ unit: u.unit, missing: intelEcapMissing(u.intelEcap!) }));
    const lacking = missing.filter((m) => m.missing === null || m.missing.length > 0);
    const mode = intelScalableMode(input.cmdline, input.isScalableModeDefaultOn);
    if (lacking.length > 0) {
      const why = lacking.map((m) => `${m.unit} ${m.missing === null ? 'has an unreadable ECAP' : `lacks ECAP ${m.missing.join('+')}`}`).join(', ');
      return { isSupported: false, vendor: 'intel', units: names, reason: `Intel VT-d without second-stage dirty tracking: ${why}` };
    }
    if (mode !== 'on') {
      return { isSupported: false, vendor: 'intel', units: names, reason: `Intel VT-d supports dirty tracking (SMTS+SLADS+SMPWC) but scalable mode is ${mode === 'off' ? 'off' : 'not known to be on'}: boot with intel_iommu=on,sm_on` };
    }
    return { isSupported: true, vendor: 'intel', units: names, reason: `Intel VT-d ${names.join(', ')}: ECAP SMTS+SLADS+SMPWC, scalable mode on` };
  }
  if (amd.length > 0) {
    const verdicts = amd.map((u) => amdHdSupport(u.amdFeatures!, input.dmesgAmdEfr ?? null));
    if (verdicts.some((v) => v === null)) {
      return { isSupported: false, vendor: 'amd', units: names, reason: 'AMD IOMMU: cannot tell HDSup from amd-iommu/features (EFR:EFR2 order differs between kernels) and no "Using global IVHD EFR" line in dmesg' };
    }
    return verdicts.every((v) => v)
      ? { isSupported: true, vendor: 'amd', units: names, reason: `AMD IOMMU ${names.join(', ')}: EFR.HDSup set (unless the kernel disabled host translation)` }
      : { isSupported: false, vendor: 'amd', units: names, reason: 'AMD IOMMU without EFR.HDSup (host dirty-bit support)' };
  }
  return { isSupported: false, vendor: 'none', units: names, reason: names.length === 0 ? 'no IOMMU unit in /sys/class/iommu' : `IOMMU unit(s) ${names.join(', ')} are neither Intel VT-d nor AMD-Vi` };
}

/** Reads the host's IOMMU registers (only the unit behind `address`, when given) and judges them. */
export async function detectIommuDirtyTracking(runner: CommandRunner, options: { readonly address?: string; readonly sysfsRoot?: string } = {}): Promise<IommuDirtyTracking> {
  const root = checkSysfsRoot(options.sysfsRoot ?? DEFAULT_SYSFS_ROOT);
  const onlyUnit = options.address === undefined ? '' : sh`l=$(readlink ${posix.join(pciDevicePath(root, options.address), 'iommu')}) && only=\${l##*/}`;
  const script = [
    sh`classes=${posix.join(root, 'class/iommu')}`,
    'only=',
    onlyUnit,
    'for u in "$classes"/*; do [ -e "$u" ] || continue; n=${u##*/}; if [ -n "$only" ] && [ "$n" != "$only" ]; then continue; fi; echo "unit $n";',
    '  if [ -r "$u/intel-iommu/ecap" ]; then echo "ecap $n $(cat "$u/intel-iommu/ecap")"; fi;',
    '  if [ -r "$u/amd-iommu/features" ]; then echo "amdfeatures $n $(cat "$u/amd-iommu/features")"; fi; done',
    'echo "cmdline $(cat /proc/cmdline)"',
    'c=/boot/config-$(uname -r); if [ -r "$c" ]; then if grep -q "^CONFIG_INTEL_IOMMU_SCALABLE_MODE_DEFAULT_ON=y" "$c"; then echo "smdefault on"; else echo "smdefault off"; fi; fi',
    'e=$(dmesg 2>/dev/null | sed -n "s/.*Using global IVHD EFR:\\(0x[0-9a-fA-F]*\\).*/\\1/p" | head -n 1); if [ -n "$e" ]; then echo "dmesgefr $e"; fi',
    'true',
  ].join('\n');
  const stdout = (await runRead(runner, script, 'read the IOMMU capability registers')).stdout;
  const units = [...stdout.matchAll(/^unit (\S+)$/gm)].map((m) => m[1]!);
  const per = (key: string): Map<string, string> => new Map([...stdout.matchAll(new RegExp(`^${key} (\\S+) (\\S+)$`, 'gm'))].map((m) => [m[1]!, m[2]!]));
  const [ecaps, amd] = [per('ecap'), per('amdfeatures')];
  const smDefault = /^smdefault (on|off)$/m.exec(stdout)?.[1];
  return judgeIommuDirtyTracking({
    units: units.map((unit) => ({ unit, ...(ecaps.has(unit) ? { intelEcap: ecaps.get(unit)! } : {}), ...(amd.has(unit) ? { amdFeatures: amd.get(unit)! } : {}) })),
    cmdline: /^cmdline (.*)$/m.exec(stdout)?.[1] ?? '',
    isScalableModeDefaultOn: smDefault === undefined ? null : smDefault === 'on',
    dmesgAmdEfr: /^dmesgefr (\S+)$/m.exec(stdout)?.[1] ?? null,
  });
}

/** One `iommufd_backend_alloc_hwpt` trace event of QEMU. */
export interface HwptAllocation {
  readonly devId: number;
  readonly ptId: number;
  readonly flags: number;
  readonly outHwpt: number;
  /** The ioctl's return: 0 on success. */
  readonly ret: number;
  readonly isDirtyTrackingRequested: boolean;
}

/**
 * Parses QEMU's `-trace iommufd_backend_alloc_hwpt` lines ("... iommufd_backend_alloc_hwpt
 * iommufd=5 dev_id=1 pt_id=2 flags=0x2 hwpt_type=0 len=0 data_ptr=0x0 out_hwpt=3 (0)"), whatever
 * prefix the trace backend put before the event name.
 */
export function parseHwptAllocTrace(log: string): HwptAllocation[] {
  const allocations: HwptAllocation[] = [];
  for (const line of log.split('\n')) {
    const at = line.indexOf('iommufd_backend_alloc_hwpt');
    if (at < 0) continue;
    const text = line.slice(at);
    const field = (key: string): string | undefined => new RegExp(`\\b${key}=(\\S+)`).exec(text)?.[1];
    const [devId, ptId, flags, outHwpt] = [field('dev_id'), field('pt_id'), field('flags'), field('out_hwpt')];
    const ret = /\((-?\d+)\)\s*$/.exec(text)?.[1];
    if (devId === undefined || ptId === undefined || flags === undefined || outHwpt === undefined || ret === undefined) continue;
    const flagsValue = Number.parseInt(flags, flags.startsWith('0x') ? 16 : 10);
    allocations.push({
      devId: Number(devId), ptId: Number(ptId), flags: flagsValue, outHwpt: Number(outHwpt), ret: Number(ret),
      isDirtyTrackingRequested: (flagsValue & HWPT_ALLOC_DIRTY_TRACKING) !== 0,
    });
  }
  return allocations;
}

/** What a QEMU trace says about IOMMU dirty tracking for its devices. */
export function hwptDirtyTracking(allocations: readonly HwptAllocation[]): { verdict: 'enabled' | 'refused' | 'not-requested' | 'no-allocation'; reason: string } {
  if (allocations.length === 0) return { verdict: 'no-allocation', reason: 'no iommufd_backend_alloc_hwpt event: not the IOMMUFD backend, or the trace event was not enabled' };
  const ok = allocations.filter((a) => a.isDirtyTrackingRequested && a.ret === 0);
  if (ok.length > 0) return { verdict: 'enabled', reason: `HWPT ${ok.map((a) => a.outHwpt).join(', ')} allocated with IOMMU_HWPT_ALLOC_DIRTY_TRACKING` };
  const refused = allocations.filter((a) => a.isDirtyTrackingRequested);
  if (refused.length > 0) return { verdict: 'refused', reason: `dirty-tracking HWPT allocation failed (${refused.map((a) => a.ret).join(', ')}); QEMU falls back to a HWPT without it` };
  return { verdict: 'not-requested', reason: `HWPT(s) allocated with flags ${allocations.map((a) => `0x${a.flags.toString(16)}`).join(', ')}: no dirty tracking` };
}
