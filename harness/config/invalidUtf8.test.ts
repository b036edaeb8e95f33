import { expect } from 'chai';
import { firstInvalidUtf8Offset } from './invalidUtf8.js';

describe('firstInvalidUtf8Offset', () => {
  it('accepts ASCII, multi-byte characters and an empty buffer', () => {
    expect(firstInvalidUtf8Offset(Buffer.from(''))).to.equal(undefined);
    expect(firstInvalidUtf8Offset(Buffer.from('name: café → 🙂\n'))).to.equal(undefined);
  });

  it('agrees with a fatal TextDecoder on every one- and two-byte sequence', () => {
    const decoder = new TextDecoder('utf-8', { fatal: true });
    const isValid = (bytes: Uint8Array): boolean => {
      try {
        decoder.decode(bytes);
        return true;
      } catch (error) {
        // A TypeError is the decoder's only way to say "not UTF-8".
        if (error instanceof TypeError) return false;
        throw error;
      }
    };
    for (let a = 0; a < 256; a++) {
      for (let b = 0; b < 256; b++) {
        const bytes = Uint8Array.of(a, b);
        expect(firstInvalidUtf8Offset(bytes) === undefined, `bytes ${a.toString(16)} ${b.toString(16)}`).to.equal(isValid(bytes));
      }
    }
  });

  it('points at the lead byte of a broken sequence, and rejects overlongs and surrogates', () => {
    expect(firstInvalidUtf8Offset(Buffer.from([0x61, 0xe9, 0x0a]))).to.equal(1);
    expect(firstInvalidUtf8Offset(Buffer.from([0x61, 0xc0, 0xaf]))).to.equal(1);
    expect(firstInvalidUtf8Offset(Buffer.from([0xed, 0xa0, 0x80]))).to.equal(0);
    expect(firstInvalidUtf8Offset(Buffer.from([0xf4, 0x90, 0x80, 0x80]))).to.equal(0);
    expect(firstInvalidUtf8Offset(Buffer.from([0x61, 0x62, 0xe2, 0x82]))).to.equal(2);
  });
});
