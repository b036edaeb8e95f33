import { keyedIt } from '../../../harness/mocha/testId.js';
import { putTripleFaultRom, trippingDeviceArgs } from './tripleFaultRom.js';

/**
 * Run by test/verdicts/diagnosis.lab.test.ts, which judges the outcomes from outside: both tests
 * are meant to fail, the first as the product's FAIL, the second as the lab's ERROR.
 */
describe('verdicts/boot-diagnosis: a guest whose device under test breaks its boot', function () {
  keyedIt('control-boots', 'the same guest without the device boots: the failure is the product\'s', async function () {
    const lab = this.lab;
    const rom = await putTripleFaultRom(lab, this.scope, lab.pair.source);
    const vm = await lab.launchVm(this.scope, { host: lab.pair.source, role: 'src', deviceUnderTestArgs: trippingDeviceArgs(rom) });
    await vm.waitForShell(lab.lab.defaults.timeouts.bootMs);
  });

  keyedIt('control-fails-too', 'the same guest without the device fails to boot too: the failure is the lab\'s', async function () {
    const lab = this.lab;
    const rom = await putTripleFaultRom(lab, this.scope, lab.pair.source);
    // A guest image the lab broke: no init in the initramfs and no root device, so its kernel
    // panics (and with panic=-1 resets) whatever devices it has.
    const append = `${lab.lab.guests['default']!.append ?? ''} rdinit=/hil-no-such-init root=/dev/hil-no-such-root panic=-1`;
    const vm = await lab.launchVm(this.scope, { host: lab.pair.source, role: 'src', append, deviceUnderTestArgs: trippingDeviceArgs(rom) });
    await vm.waitForShell(lab.lab.defaults.timeouts.bootMs);
  });
});
