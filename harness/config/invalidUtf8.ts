/**
 * Offset of the first byte that does not start a well-formed UTF-8 sequence, or undefined when the
 * whole buffer is UTF-8. Node's utf8 decoding replaces such bytes with U+FFFD without a word, and
 * a lab file saved as Latin-1 would then fail later with a mangled value far from its cause.
 */
export function firstInvalidUtf8Offset(bytes: Uint8Array): number | undefined {
  let offset = 0;
  while (offset < bytes.length) {
    const length = sequenceLength(bytes, offset);
    if (length === 0) return offset;
    offset += length;
  }
  return undefined;
}

/** Length of the well-formed sequence at `offset` (RFC 3629: no overlongs, no surrogates), 0 if none. */
function sequenceLength(bytes: Uint8Array, offset: number): number {
  const lead = bytes[offset]!;
  if (lead < 0x80) return 1;
  // The allowed range of the second byte narrows for E0, ED, F0 and F4 (Unicode table 3-7).
  let length: number;
  let secondMin = 0x80;
  let secondMax = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) length = 2;
  else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead === 0xe0) secondMin = 0xa0;
    if (lead === 0xed) secondMax = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead === 0xf0) secondMin = 0x90;
    if (lead === 0xf4) secondMax = 0x8f;
  } else return 0;
  if (offset + length > bytes.length) return 0;
  for (let i = 1; i < length; i++) {
    const byte = bytes[offset + i]!;
    const [min, max] = i === 1 ? [secondMin, secondMax] : [0x80, 0xbf];
    if (byte < min || byte > max) return 0;
  }
  return length;
}
