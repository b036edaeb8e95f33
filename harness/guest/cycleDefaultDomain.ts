import type { CommandResult, CommandRunner } from '../runner.js';
import { sh } from '../shell.js';
import type { DomainSwitchOutcome } from './DomainSwitchOutcome.js';
import { GuestActionError } from './GuestActionError.js';

/**
 * The sysfs way into the blocking domain (brief §5.4b): unbind the function, write the other
 * default-domain type to /sys/kernel/iommu_groups/<g>/type and back, rebind. VT-d cannot switch
 * DMA↔identity atomically, so each write passes through the blocking domain
 * (intel_iommu_attach_device → device_block_translation). The kernel accepts the write only for
 * a group of one unbound device. The function keeps its driver_override, so the rebind gives it
 * back to the same driver (vfio-pci after bindGuestVfioPci).
 */
export function defaultDomainCycleCommand(bdf: string, cycles: number): string {
  if (!Number.isInteger(cycles) || cycles < 1) throw new GuestActionError('GUEST_DOMAIN_CYCLE', `cycles must be a positive integer, got ${cycles}`);
  const dir = `/sys/bus/pci/devices/${bdf}`;
  return [
    sh`d=${dir}; b=${bdf}; n=${cycles}`,
    'g=$(basename $(readlink $d/iommu_group)); t=/sys/kernel/iommu_groups/$g/type; orig=$(cat $t)',
    'case $orig in identity) other=DMA ;; *) other=identity ;; esac',
    // x: a failed step of this cycle, in the words parseDomainCycleOutput reads. The whole line
    // must stay short enough for the guest shell (MAX_CONSOLE_LINE_CHARS) when armed.
    'x() { echo "domain-cycle: cycle $i: $1 failed"; ok=0; }',
    'f=0; ok_n=0; i=0; s=$(cut -d" " -f1 /proc/uptime)',
    'while [ $i -lt $n ]; do i=$((i+1)); ok=1; '
      + '[ -e $d/driver ] && { echo $b > $d/driver/unbind || x unbind; }; '
      + 'echo $other > $t || x "write $other"; '
      + 'echo $orig > $t || x "write $orig"; '
      + 'echo $b > /sys/bus/pci/drivers_probe; [ -e $d/driver ] || x rebind; '
      + 'if [ $ok -eq 1 ]; then ok_n=$((ok_n+1)); else f=$((f+1)); fi; done',
    'e=$(cut -d" " -f1 /proc/uptime)',
    'echo "domain-cycle: done cycles=$i succeeded=$ok_n failed=$f uptime_start=$s uptime_end=$e types=$orig,$other final=$(cat $t)"',
  ].join('; ');
}

export function parseDomainCycleOutput(bdf: string, text: string): DomainSwitchOutcome | null {
  const done = /domain-cycle: done cycles=(\d+) succeeded=(\d+) failed=(\d+) uptime_start=([\d.]+) uptime_end=([\d.]+)/.exec(text);
  if (done === null) return null;
  const errors = text.split('\n').map((l) => l.trim()).filter((l) => /^domain-cycle: cycle \d+: /.test(l) || /write error/.test(l));
  const elapsedMs = Math.round((Number(done[5]) - Number(done[4])) * 1000);
  return { way: 'sysfs-default-domain', bdf, cycles: Number(done[1]), succeededCycles: Number(done[2]), failedCycles: Number(done[3]), elapsedMs, errors, dmaWindow: null };
}

export async function cycleDefaultDomain(guest: CommandRunner, bdf: string, options: { readonly cycles: number; readonly timeoutMs?: number }): Promise<DomainSwitchOutcome> {
  const result = await guest.run(domainCycleLine(bdf, options.cycles), { timeoutMs: options.timeoutMs ?? 60_000 });
  return domainCycleOutcome(bdf, result, guest.where);
}

/** The command line cycleDefaultDomain types, for a caller that arms it ahead (GuestConsole.arm). */
export function domainCycleLine(bdf: string, cycles: number): string {
  return `( ${defaultDomainCycleCommand(bdf, cycles)} ) 2>&1`;
}

/** The outcome of a finished default-domain cycle; one that did not finish is an error. */
export function domainCycleOutcome(bdf: string, result: CommandResult, where: string): DomainSwitchOutcome {
  const outcome = parseDomainCycleOutput(bdf, result.stdout);
  if (outcome === null) {
    throw new GuestActionError('GUEST_DOMAIN_CYCLE', `The default-domain cycle on ${bdf} over ${where} did not finish (exit ${result.exitCode}): ${result.stdout.trim().slice(-400)}`, { data: { bdf } });
  }
  return outcome;
}
