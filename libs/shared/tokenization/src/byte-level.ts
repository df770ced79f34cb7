/**
 * GPT-2's `bytes_to_unicode`, inverted: the printable stand-in character of each byte (as
 * byte-level BPE vocabularies spell their tokens) -> the byte.
 */
export const BYTE_OF: ReadonlyMap<string, number> = (() => {
  const printable = (b: number) =>
    (b >= 0x21 && b <= 0x7e) ||
    (b >= 0xa1 && b <= 0xac) ||
    (b >= 0xae && b <= 0xff);
  const map = new Map<string, number>();
  let n = 0;
  for (let b = 0; b < 256; b++)
    map.set(String.fromCodePoint(printable(b) ? b : 256 + n++), b);
  return map;
})();
