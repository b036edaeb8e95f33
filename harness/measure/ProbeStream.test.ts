import { expect } from 'chai';
import { createSocket } from 'node:dgram';
import { controllerNowMs } from '../host/measureClockOffset.js';
import { ProbeStream } from './ProbeStream.js';

/** A local echo that can be paused, to make a known outage. */
async function startEcho(): Promise<{ port: number; pause: (on: boolean) => void; close: () => Promise<void> }> {
  const socket = createSocket('udp4');
  let isPaused = false;
  socket.on('message', (msg, rinfo) => {
    if (!isPaused) socket.send(msg, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  return {
    port: socket.address().port,
    pause: (on) => { isPaused = on; },
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

describe('ProbeStream', () => {
  it('measures a known outage at 200 Hz and counts the lost probes', async () => {
    const echo = await startEcho();
    const probe = new ProbeStream({ address: '127.0.0.1', port: echo.port }, 200);
    try {
      await probe.start();
      const fromMs = controllerNowMs();
      await probe.waitForReply(2000);
      await new Promise((r) => setTimeout(r, 200));
      echo.pause(true);
      const pausedAt = controllerNowMs();
      await new Promise((r) => setTimeout(r, 300));
      echo.pause(false);
      const resumedAt = controllerNowMs();
      await new Promise((r) => setTimeout(r, 200));
      const report = probe.outage(fromMs, controllerNowMs());
      const pausedMs = resumedAt - pausedAt;
      // The gap covers the pause and is at most a couple of probe periods longer.
      expect(report.guestOutageMs).to.be.at.least(pausedMs - 5);
      expect(report.guestOutageMs).to.be.below(pausedMs + 60);
      expect(report.lost).to.be.within(Math.floor(pausedMs / 5) - 5, Math.ceil(pausedMs / 5) + 5);
      expect(report.sent).to.be.greaterThan(100);
    } finally {
      await probe.stop();
      await echo.close();
    }
  });

  it('reports the whole window as the outage when nothing answers', async () => {
    const probe = new ProbeStream({ address: '127.0.0.1', port: 9 }, 100);
    await probe.start();
    const fromMs = controllerNowMs();
    await new Promise((r) => setTimeout(r, 100));
    const toMs = controllerNowMs();
    await probe.stop();
    const report = probe.outage(fromMs, toMs);
    expect(report.received).to.equal(0);
    expect(report.guestOutageMs).to.be.closeTo(toMs - fromMs, 0.01);
    expect(() => new ProbeStream({ address: '127.0.0.1', port: 9 }, 5000)).to.throw(/1-1000 Hz/);
  });
});
