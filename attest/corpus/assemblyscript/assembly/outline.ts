// The outline of a Markdown-like text on stdin: headings (`#`) become a
// tree of nodes with their titles and word counts, printed indented.
import { readAll, isWordChar } from "./io";

class Node {
  children: Node[] = [];
  words: i32 = 0;
  constructor(public title: string, public level: i32) {}
}

function show(n: Node, depth: i32, out: string[]): void {
  if (depth > 0) out.push("  ".repeat(depth - 1) + n.title + " (" + n.words.toString() + " words)");
  for (let i = 0; i < n.children.length; i++) show(n.children[i], depth + 1, out);
}

let lines = readAll().split("\n");
let root = new Node("", 0);
let stack: Node[] = [root];
for (let i = 0; i < lines.length; i++) {
  let line = lines[i];
  let level = 0;
  while (level < line.length && line.charCodeAt(level) == 35) level++;
  if (level > 0 && level < line.length && line.charCodeAt(level) == 32) {
    while (stack.length > 1 && stack[stack.length - 1].level >= level) stack.pop();
    let n = new Node(line.substring(level).trim(), level);
    stack[stack.length - 1].children.push(n);
    stack.push(n);
    continue;
  }
  let inWord = false;
  for (let j = 0; j < line.length; j++) {
    let w = isWordChar(line.charCodeAt(j));
    if (w && !inWord) stack[stack.length - 1].words++;
    inWord = w;
  }
}
let out: string[] = [];
show(root, 0, out);
process.stdout.write(out.join("\n") + "\n");
