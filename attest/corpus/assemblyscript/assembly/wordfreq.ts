// Word frequencies of stdin: the 20 most frequent lowercased words, in a
// Map of strings (UTF-16, one small object each).
import { readAll, isWordChar } from "./io";

let text = readAll();
let counts = new Map<string, i32>();
let start = -1;
for (let i = 0; i <= text.length; i++) {
  let c = i < text.length ? text.charCodeAt(i) : 32;
  if (isWordChar(c)) {
    if (start < 0) start = i;
  } else if (start >= 0) {
    let w = text.substring(start, i).toLowerCase();
    counts.set(w, counts.has(w) ? counts.get(w) + 1 : 1);
    start = -1;
  }
}
let keys = counts.keys();
keys.sort((a: string, b: string): i32 => {
  let d = counts.get(b) - counts.get(a);
  if (d != 0) return d;
  return a < b ? -1 : a > b ? 1 : 0;
});
let out = "";
for (let i = 0; i < min(20, keys.length); i++) out += counts.get(keys[i]).toString() + " " + keys[i] + "\n";
process.stdout.write(out);
