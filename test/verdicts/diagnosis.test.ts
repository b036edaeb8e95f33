import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HarnessError, InfrastructureError } from '../../harness/errors.js';
import { failureOutcome } from '../../harness/mocha/HilReporter.js';
import type { VmNic } from '../../harness/qemu/VmSpec.js';
import { DiagnosedFailure } from '../../harness/session/diagnosis/DiagnosedFailure.js';
import { devicesUnderTest, withoutDevicesUnderTest } from '../../harness/session/diagnosis/devicesUnderTest.js';
import type { ControlRun } from '../../harness/report/Diagnosis.js';
import { diagnoseFailure } from '../../harness/session/diagnosis/diagnoseFailure.js';
import { diagnoseGuestFailure } from '../../harness/session/diagnosis/diagnoseGuestFailure.js';
import { inLabSetup } from '../../harness/session/diagnosis/inLabSetup.js';
import type { LaunchOptions } from '../../harness/session/LaunchOptions.js';
import type { LabVm } from '../../harness/session/LabVm.js';
import { TestScope } from '../../harness/session/TestScope.js';

const MDEV = 'mdev hil0 (0b3c4d5e-0000-4000-8000-000000000001)';
const booted: ControlRun = { vm: 'hil-r1-src_control', host: 'a', hasBooted: true, detail: 'its shell answered', artifacts: [] };
const failedToo: ControlRun = { ...booted, hasBooted: false, detail: '[GUEST_RESET_BEFORE_SHELL] reset 2 time(s)' };

describe('diagnosis: lab ERROR vs product FAIL by phase and control (design.md §7)', function () {
  describe('diagnoseFailure, per phase', function () {
    it('lab-setup is ERROR whatever the devices', function () {
      expect(diagnoseFailure({ phase: 'lab-setup', devicesUnderTest: [MDEV], control: null }).outcome).to.equal('ERROR');
    });

    it('under-test is FAIL', function () {
      expect(diagnoseFailure({ phase: 'under-test', devicesUnderTest: [], control: null }).outcome).to.equal('FAIL');
    });

    for (const phase of ['guest-boot', 'device-preparation'] as const) {
      it(`${phase} with a device under test: FAIL when the control boots, ERROR when it fails too or could not run`, function () {
        const fail = diagnoseFailure({ phase, devicesUnderTest: [MDEV], control: booted });
        expect(fail.outcome).to.equal('FAIL');
        expect(fail.why).to.contain(MDEV).and.to.contain('booted on a');
        expect(diagnoseFailure({ phase, devicesUnderTest: [MDEV], control: failedToo }).outcome).to.equal('ERROR');
        const noControl = diagnoseFailure({ phase, devicesUnderTest: [MDEV], control: null, controlError: '[QEMU_INSTALLATION_FAULT] no firmware' });
        expect(noControl.outcome).to.equal('ERROR');
        expect(noControl.why).to.contain('no firmware');
      });

      it(`${phase} with no device under test is the lab's ERROR (no control is needed)`, function () {
        expect(diagnoseFailure({ phase, devicesUnderTest: [], control: null }).outcome).to.equal('ERROR');
      });
    }
  });

  describe('the outcome follows the diagnosis, not the error class underneath', function () {
    const diagnosis = (control: ControlRun) => diagnoseFailure({ phase: 'guest-boot', devicesUnderTest: [MDEV], control });
    it('a guest reset (once a lab error by class) whose control boots is FAIL; whose control fails is ERROR', function () {
      const reset = new InfrastructureError('GUEST_RESET_BEFORE_SHELL', 'the guest reset itself');
      expect(failureOutcome(new DiagnosedFailure(diagnosis(booted), 'hil-r1-src on a', reset))).to.equal('FAIL');
      expect(failureOutcome(new DiagnosedFailure(diagnosis(failedToo), 'hil-r1-src on a', reset))).to.equal('ERROR');
    });

    it('a probe that never got an answer (once a FAIL by class) without a device under test is ERROR', function () {
      const silent = new HarnessError('PROBE_NO_REPLY', 'No echo reply');
      const d = diagnoseFailure({ phase: 'guest-boot', devicesUnderTest: [], control: null });
      expect(failureOutcome(new DiagnosedFailure(d, 'hil-r1-vm0 on a', silent))).to.equal('ERROR');
    });
  });

  describe('inLabSetup: a step that sets the lab up', function () {
    let runDir: string;
    beforeEach(() => { runDir = mkdtempSync(join(tmpdir(), 'hil-diag-')); });
    afterEach(() => rmSync(runDir, { recursive: true, force: true }));

    it('a command that exited non-zero while preparing a host (once a FAIL by class) is ERROR, with the diagnosis recorded', async function () {
      const scope = new TestScope('t', runDir, 'artifacts/t');
      const mkdirFailed = new HarnessError('COMMAND_FAILED', 'Command on root@10.231.0.11:22 exited 1: mkdir -p -m 0700 /srv/hil/vm');
      expect(failureOutcome(mkdirFailed)).to.equal('FAIL');
      const error = await inLabSetup(scope, 'preparing host-a for hil-r1-src', () => Promise.reject(mkdirFailed)).then(() => null, (e: unknown) => e);
      expect(failureOutcome(error)).to.equal('ERROR');
      expect((error as HarnessError).code).to.equal('LAB_SETUP_FAILED');
      expect((error as Error).cause).to.equal(mkdirFailed);
      expect(scope.diagnoses.map((d) => [d.phase, d.outcome, d.control])).to.deep.equal([['lab-setup', 'ERROR', null]]);
    });

    it('passes the value through and leaves an error that is already the lab\'s as it is', async function () {
      const scope = new TestScope('t', runDir, 'artifacts/t');
      expect(await inLabSetup(scope, 'copying', () => Promise.resolve(42))).to.equal(42);
      const lost = new InfrastructureError('SSH_DISCONNECTED', 'lost');
      expect(await inLabSetup(scope, 'copying', () => Promise.reject(lost)).then(() => null, (e: unknown) => e)).to.equal(lost);
      expect(scope.diagnoses).to.deep.equal([]);
    });
  });

  describe('devices under test and the control launch', function () {
    const mdev: VmNic = { kind: 'mdev', id: 'hil0', uuid: '0b3c4d5e-0000-4000-8000-000000000001' };
    const tap: VmNic = { kind: 'emulated', id: 'nic0', model: 'virtio-net-pci', tap: 'hild-tap0', mac: '52:54:00:00:00:01' };
    it('names VFIO devices, mdevs, the vIOMMU and added devices; not the lab\'s emulated NICs', function () {
      expect(devicesUnderTest({ nics: [tap], viommu: undefined })).to.deep.equal([]);
      expect(devicesUnderTest({ nics: [tap, mdev], viommu: { model: 'intel-iommu' } }, ['-device', 'pci-testdev,romfile=/x.rom'])).to.deep.equal([MDEV, 'vIOMMU intel-iommu', 'device pci-testdev']);
    });

    it('the control keeps the guest and its emulated NICs and drops the rest', function () {
      const launch: LaunchOptions = { host: 'a', role: 'src', nics: [tap, mdev], hasViommu: true, viommu: { model: 'intel-iommu' }, deviceUnderTestArgs: ['-device', 'edu'], append: 'console=ttyS0' };
      expect(withoutDevicesUnderTest(launch)).to.deep.equal({ host: 'a', role: 'src', nics: [tap], hasViommu: false, append: 'console=ttyS0' });
    });
  });

  describe('diagnoseGuestFailure (a VM double; the real control boot is in diagnosis.lab.test)', function () {
    let runDir: string;
    beforeEach(() => { runDir = mkdtempSync(join(tmpdir(), 'hil-diag-')); });
    afterEach(() => rmSync(runDir, { recursive: true, force: true }));

    function vmDouble(role: string, nics: readonly VmNic[], events: string[], boot?: { hasBooted: boolean; detail: string }): LabVm {
      return {
        role, name: `hil-r1-${role}`, host: { name: 'a' }, process: { spec: { nics, viommu: undefined } },
        stop: async () => { events.push(`stop ${role}`); },
        tryBoot: async () => { events.push(`boot ${role}`); return boot!; },
      } as unknown as LabVm;
    }

    for (const [hasBooted, outcome] of [[true, 'FAIL'], [false, 'ERROR']] as const) {
      it(`stops the failed VM, boots the control on the same host without the device, and records ${outcome} when the control ${hasBooted ? 'boots' : 'fails too'}`, async function () {
        const scope = new TestScope('t', runDir, 'artifacts/t');
        const events: string[] = [];
        const mdev: VmNic = { kind: 'mdev', id: 'hil0', uuid: '0b3c4d5e-0000-4000-8000-000000000001' };
        const launched: LaunchOptions[] = [];
        const error = await diagnoseGuestFailure({
          scope, launch: { host: 'a', role: 'src', nics: [mdev] }, bootTimeoutMs: 1000,
          launchVm: async (_scope, options) => { launched.push(options); return vmDouble(options.role, options.nics ?? [], events, { hasBooted, detail: hasBooted ? 'its shell answered' : 'reset' }); },
        }, vmDouble('src', [mdev], events), 'guest-boot', new HarnessError('GUEST_RESET_BEFORE_SHELL', 'reset'));
        expect(events).to.deep.equal(['stop src', 'boot src_control', 'stop src_control']);
        expect(launched).to.deep.equal([{ host: 'a', role: 'src_control', nics: [], hasViommu: false, isIncoming: false }]);
        expect(failureOutcome(error)).to.equal(outcome);
        expect(scope.diagnoses).to.have.length(1);
        expect(scope.diagnoses[0]).to.deep.include({ outcome, phase: 'guest-boot', devicesUnderTest: [MDEV], artifacts: ['artifacts/t/src.console.log', 'artifacts/t/src.serial.log'] });
        expect(scope.diagnoses[0]!.control).to.deep.include({ hasBooted, artifacts: ['artifacts/t/src_control.console.log', 'artifacts/t/src_control.serial.log'] });
      });
    }

    it('leaves a lab error (SSH lost) as it is, with no control and no diagnosis', async function () {
      const scope = new TestScope('t', runDir, 'artifacts/t');
      const lost = new InfrastructureError('SSH_DISCONNECTED', 'lost');
      const error = await diagnoseGuestFailure({ scope, launch: { host: 'a', role: 'src' }, bootTimeoutMs: 1000, launchVm: () => { throw new Error('no control expected'); } }, vmDouble('src', [], []), 'guest-boot', lost);
      expect(error).to.equal(lost);
      expect(scope.diagnoses).to.deep.equal([]);
    });
  });
});
