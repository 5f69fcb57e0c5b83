// Shared by the corpus programs: all of stdin as a string.
export function readAll(): string {
  let chunks = new Array<ArrayBuffer>();
  let total = 0;
  while (true) {
    let buf = new ArrayBuffer(65536);
    let n = process.stdin.read(buf);
    if (n <= 0) break;
    chunks.push(buf.slice(0, n));
    total += n;
  }
  let all = new Uint8Array(total);
  let at = 0;
  for (let i = 0; i < chunks.length; i++) {
    all.set(Uint8Array.wrap(chunks[i]), at);
    at += chunks[i].byteLength;
  }
  return String.UTF8.decode(all.buffer);
}

export function isWordChar(c: i32): bool {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57);
}
