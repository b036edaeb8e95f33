/**
 * Times the virtual lab: `lab up` from nothing (cold: no state, so the guest image is built),
 * `lab down`, `lab up` with the image cached, a second `up` on a lab that is up, and a guest's
 * boot to its first UDP echo. Prints figures only.
 *
 *   node dist/bench/labUp.js [lab.yaml]
 *
 * It purges the lab's state folder first (keys and image cache included) and leaves the lab down.
 */
import { join, resolve } from 'node:path';
import { loadLab } from '../harness/config/loadLab.js';
import { LocalRunner } from '../harness/LocalRunner.js';
import { SmokeVm } from '../harness/virtual-lab/SmokeVm.js';
import { VirtualLab } from '../harness/virtual-lab/VirtualLab.js';
import { waitForUdpEcho } from '../harness/virtual-lab/waitForUdpEcho.js';

async function timed<T>(action: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const startedAt = performance.now();
  const value = await action();
  return { value, ms: performance.now() - startedAt };
}

async function main(): Promise<void> {
  const labFile = resolve(process.argv[2] ?? 'lab.yaml');
  const config = loadLab(labFile);
  const lab = new VirtualLab(config, new LocalRunner(), (line) => console.error(`  | ${line}`));
  const guest = config.guests['default'];
  const host = lab.layout.hosts[0];
  const nic = host === undefined ? undefined : config.hosts[host.hostName]?.nics.find((n) => n.kind === 'emulated');
  if (guest?.kernel === undefined || guest.initrd === undefined || host === undefined || nic?.kind !== 'emulated') {
    throw new Error(`${labFile} needs guests.default with kernel/initrd and a host with an emulated NIC`);
  }
  const rows: [string, number][] = [];

  console.error(`purging ${config.stateDir} and taking the lab down`);
  await lab.down({ purge: true });

  const cold = await timed(() => lab.up());
  rows.push(['lab up from nothing (packages present, guest image built)', cold.ms]);
  rows.push(['  of which guest image build', cold.value.guestImages[0]?.durationMs ?? NaN]);
  rows.push(['lab down (lab idle)', (await timed(() => lab.down())).ms]);
  const warm = await timed(() => lab.up());
  rows.push(['lab up, image cached', warm.ms]);
  rows.push(['lab up again, already up', (await timed(() => lab.up())).ms]);

  const vm = SmokeVm.start({
    qemuBinary: config.qemu[config.hosts[host.hostName]!.qemu]?.binary ?? '/usr/bin/qemu-system-x86_64',
    namespace: host.namespace,
    tap: nic.tap,
    mac: nic.mac,
    kernel: guest.kernel,
    initrd: guest.initrd,
    append: guest.append ?? '',
    memoryMiB: guest.memoryMiB,
    cpus: guest.cpus,
    logFile: join(config.stateDir, 'bench', 'qemu.log'),
    serialFile: join(config.stateDir, 'bench', 'serial.log'),
  });
  const echo = await waitForUdpEcho({ address: guest.address, port: guest.echoPort }, { timeoutMs: config.defaults.timeouts.bootMs, intervalMs: 50 });
  rows.push(['guest boot (QEMU start, TCG) to first UDP echo', echo.elapsedMs]);
  rows.push(['  echo round trip once up', echo.roundTripMs]);
  rows.push(['lab down (one QEMU running)', (await timed(() => lab.down())).ms]);
  if (vm.isRunning) throw new Error(`lab down left QEMU pid ${vm.pid} running`);

  const width = Math.max(...rows.map(([name]) => name.length));
  console.log(`virtual lab timings (${config.virtualLab?.guestKernelFlavour ?? '?'} guest kernel, ${labFile})`);
  for (const [name, ms] of rows) console.log(`${name.padEnd(width)}  ${ms.toFixed(0).padStart(7)} ms`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
