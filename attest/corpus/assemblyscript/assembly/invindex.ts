// An inverted index of stdin: every lowercased word maps to the lines it
// occurs on; prints the words found on the most lines.
import { readAll, isWordChar } from "./io";

let lines = readAll().split("\n");
let index = new Map<string, i32[]>();
for (let n = 0; n < lines.length; n++) {
  let line = lines[n];
  let start = -1;
  for (let i = 0; i <= line.length; i++) {
    let c = i < line.length ? line.charCodeAt(i) : 32;
    if (isWordChar(c)) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      let w = line.substring(start, i).toLowerCase();
      if (!index.has(w)) index.set(w, []);
      let at = index.get(w);
      if (at.length == 0 || at[at.length - 1] != n + 1) at.push(n + 1);
      start = -1;
    }
  }
}
let words = index.keys();
words.sort((a: string, b: string): i32 => {
  let d = index.get(b).length - index.get(a).length;
  return d != 0 ? d : (a < b ? -1 : a > b ? 1 : 0);
});
let out = words.length.toString() + " words\n";
for (let i = 0; i < min(15, words.length); i++) out += index.get(words[i]).length.toString() + " " + words[i] + "\n";
process.stdout.write(out);
