// Tokenizes stdin as source code (identifiers, numbers, strings,
// punctuation), each token's text its own string, and prints counts per
// kind and the longest identifiers.
import { readAll } from "./io";

class Token {
  constructor(public kind: i32, public text: string) {}
}

function alpha(c: i32): bool { return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c == 95; }
function digit(c: i32): bool { return c >= 48 && c <= 57; }

let input = readAll();
let tokens = new Array<Token>();
let i = 0;
while (i < input.length) {
  let c = input.charCodeAt(i);
  let j = i + 1;
  let kind = 3;
  if (c == 32 || c == 10 || c == 9 || c == 13) { i++; continue; }
  if (alpha(c)) {
    kind = 0;
    while (j < input.length && (alpha(input.charCodeAt(j)) || digit(input.charCodeAt(j)))) j++;
  } else if (digit(c)) {
    kind = 1;
    while (j < input.length && (alpha(input.charCodeAt(j)) || digit(input.charCodeAt(j)) || input.charCodeAt(j) == 46)) j++;
  } else if (c == 34) {
    kind = 2;
    while (j < input.length && input.charCodeAt(j) != 34 && input.charCodeAt(j) != 10) j++;
    if (j < input.length) j++;
  }
  tokens.push(new Token(kind, input.substring(i, j)));
  i = j;
}
let counts = [0, 0, 0, 0];
let longest = new Array<string>();
for (let k = 0; k < tokens.length; k++) {
  counts[tokens[k].kind]++;
  if (tokens[k].kind == 0 && tokens[k].text.length > 12) longest.push(tokens[k].text);
}
longest.sort((a: string, b: string): i32 => a.length != b.length ? b.length - a.length : (a < b ? -1 : a > b ? 1 : 0));
let out = "ident " + counts[0].toString() + " number " + counts[1].toString() + " string " + counts[2].toString() + " punct " + counts[3].toString() + "\n";
for (let k = 0; k < min(10, longest.length); k++) out += longest[k] + "\n";
process.stdout.write(out);
