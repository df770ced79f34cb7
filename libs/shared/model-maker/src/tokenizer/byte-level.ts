/** GPT-2's `bytes_to_unicode`: each byte maps to a printable character, so BPE never sees raw bytes. */
export function bytesToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const order = [...printable];
  const chars = printable.map((b) => String.fromCodePoint(b));
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!printable.includes(b)) {
      order.push(b);
      chars.push(String.fromCodePoint(256 + n++));
    }
  }
  // Index by byte value; GPT-2's vocab lists bytes in `order`, which byteTokensInGpt2Order returns.
  const byByte: string[] = new Array(256);
  order.forEach((b, i) => (byByte[b] = chars[i]));
  return byByte;
}

/** The 256 byte tokens in the order GPT-2's vocab gives them ids (`!` is 0). */
export function byteTokensInGpt2Order(): string[] {
  const byByte = bytesToUnicode();
  const printable = (b: number): boolean =>
    (b >= 0x21 && b <= 0x7e) ||
    (b >= 0xa1 && b <= 0xac) ||
    (b >= 0xae && b <= 0xff);
  const order: number[] = [];
  for (let b = 0; b < 256; b++) if (printable(b)) order.push(b);
  for (let b = 0; b < 256; b++) if (!printable(b)) order.push(b);
  return order.map((b) => byByte[b]);
}

/** GPT-2's pre-tokenizer split (the ByteLevel pre-tokenizer with `use_regex: true`). */
export const GPT2_SPLIT =
  /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
