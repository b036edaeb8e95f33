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
      await probe.waitForReply(2000);
      // Up to the last answered probe: anything sent later may still be in flight, not lost.
      const lastReply = probe.allReplies[probe.allReplies.length - 1]!;
      const report = probe.outage(fromMs, lastReply.sentAtMs);
      const pausedMs = resumedAt - pausedAt;
      // The gap covers the pause and ends at the first reply after it. How much longer it is
      // depends on timers on a loaded machine, so it is not bounded here.
      expect(report.guestOutageMs).to.be.at.least(pausedMs - 5);
      expect(report.gapEndMs).to.equal(probe.allReplies.find((r) => r.receivedAtMs >= resumedAt)!.receivedAtMs);
      // The lost probes are exactly one run of consecutive sequence numbers: those the pause ate.
      const answered = new Set(probe.allReplies.filter((r) => r.seq <= lastReply.seq).map((r) => r.seq));
      const missing = Array.from({ length: lastReply.seq + 1 }, (_, seq) => seq).filter((seq) => !answered.has(seq));
      expect(missing.length, `missing sequence numbers ${missing.join(',')}`).to.equal(report.lost).and.to.be.greaterThan(0);
      expect(missing[missing.length - 1]! - missing[0]!, `missing sequence numbers ${missing.join(',')}`).to.equal(missing.length - 1);
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
