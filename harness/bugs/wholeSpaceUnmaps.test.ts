import { expect } from 'chai';
import type { TraceLine } from '../qemu/parseTraceLog.js';
import { wholeSpaceUnmaps, wholeSpaceUnmapsBegunIn } from './wholeSpaceUnmaps.js';

const at = (atMs: number, event: string, args: string): TraceLine => ({ threadId: null, atMs, event, args });
const notify = (atMs: number, start: string) => at(atMs, 'vfio_iommu_map_notify', `iommu UNMAP @ ${start} - 0xffffffff`);
const whole = (atMs: number, start: string) => at(atMs, 'vtd_as_unmap_whole', `Device 00:01.0 start ${start} size 0x1000`);

describe('wholeSpaceUnmaps', () => {
  it('places each unmap at its first notification, the last one at its start address before its record', () => {
    const trace = [notify(10, '0x0'), whole(11, '0x0'), notify(20, '0xfef00000'), notify(25, '0x100000000'), notify(30, '0xfef00000'), notify(40, '0x200000000'), whole(90, '0xfef00000')];
    expect(wholeSpaceUnmaps(trace).map((u) => u.begunAtMs)).to.deep.equal([10, 30]);
  });

  it('falls back to the record\'s own time with no notification at its start, or one stamped after it', () => {
    expect(wholeSpaceUnmaps([whole(50, '0x0')])[0]!.begunAtMs).to.equal(50);
    expect(wholeSpaceUnmaps([notify(70, '0x0'), whole(50, '0x0')])[0]!.begunAtMs).to.equal(50);
  });

  it('an unmap begun inside the window counts though its record is after it; one begun before does not', () => {
    const trace = [notify(5, '0x0'), whole(15, '0x0'), notify(20, '0xfef00000'), whole(120, '0xfef00000')];
    expect(wholeSpaceUnmapsBegunIn(trace, { fromMs: 10, toMs: 100 }).map((u) => u.record.atMs)).to.deep.equal([120]);
  });
});
