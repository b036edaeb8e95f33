import { expect } from 'chai';
import { appendFileSync, cpSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalRunner, runChecked } from '../LocalRunner.js';
import { sh } from '../shell.js';
import { GuestImageBuilder } from './GuestImageBuilder.js';
import { projectRoot } from '../projectRoot.js';

describe('GuestImageBuilder (root: apt-get download, mknod)', function () {
  const runner = new LocalRunner();
  const dir = mkdtempSync(join(tmpdir(), 'hil-guest-test-'));
  const sourceDir = join(dir, 'guest-src');
  cpSync(join(projectRoot(), 'guest'), sourceDir, { recursive: true });
  const builder = new GuestImageBuilder(
    { flavour: 'cloud', kernelPath: join(dir, 'out', 'vmlinuz'), initrdPath: join(dir, 'out', 'initrd.img'), workDir: join(dir, 'work'), sourceDir },
    runner,
    () => undefined,
  );
  const initrdFile = async (path: string): Promise<string> =>
    (await runChecked(runner, sh`zcat ${join(dir, 'out', 'initrd.img')} | cpio -i --quiet --to-stdout ${path}`)).stdout;

  before(function () {
    if (process.getuid?.() !== 0) this.skip();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('builds a kernel and an initramfs with busybox, the echo, the modules and /init', async () => {
    const result = await builder.ensure();
    expect(result.isRebuilt).to.equal(true);
    expect(result.manifest.inputs.kernelPackage).to.match(/^linux-image-.*-cloud-amd64$/);
    expect(result.manifest.modulesLoaded.some((m) => m.endsWith('/virtio_net.ko'))).to.equal(true);
    const listing = (await runChecked(runner, sh`zcat ${join(dir, 'out', 'initrd.img')} | cpio -t --quiet`)).stdout.split('\n');
    expect(listing).to.include.members(['init', 'bin/busybox', 'bin/udp-echo', 'bin/vfio-loop', 'bin/sh', 'dev/console', 'lib/modules/load-order']);
    const loadOrder = (await initrdFile('lib/modules/load-order')).trim().split('\n');
    expect(loadOrder.findIndex((m) => m.endsWith('/failover.ko'))).to.be.below(loadOrder.findIndex((m) => m.endsWith('/virtio_net.ko')));
    expect(statSync(join(dir, 'out', 'vmlinuz')).size).to.be.greaterThan(1_000_000);
  });

  it('skips the build when nothing changed', async () => {
    const before = statSync(join(dir, 'out', 'initrd.img')).mtimeMs;
    const result = await builder.ensure();
    expect(result.isRebuilt).to.equal(false);
    expect(statSync(join(dir, 'out', 'initrd.img')).mtimeMs).to.equal(before);
  });

  it('rebuilds when the init script changes, and the new init is in the image', async () => {
    const oldHash = builder.current()!.hash;
    appendFileSync(join(sourceDir, 'init.sh'), '# changed by the rebuild test\n');
    const result = await builder.ensure();
    expect(result.isRebuilt).to.equal(true);
    expect(result.manifest.hash).to.not.equal(oldHash);
    expect(await initrdFile('init')).to.include('# changed by the rebuild test');
  });
});
