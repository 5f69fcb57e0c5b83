// Splits stdin into records (one per line, fields by whitespace) held as
// objects with arrays of strings, sorts them by field count then first
// field, and prints a summary.
import { readAll } from "./io";

class Record {
  constructor(public number: i32, public fields: string[]) {}
}

let lines = readAll().split("\n");
let records = new Array<Record>();
for (let i = 0; i < lines.length; i++) {
  let parts = lines[i].replaceAll("\t", " ").split(" ");
  let fields = new Array<string>();
  for (let j = 0; j < parts.length; j++) if (parts[j].length > 0) fields.push(parts[j]);
  if (fields.length > 0) records.push(new Record(i + 1, fields));
}
records.sort((a: Record, b: Record): i32 => {
  if (a.fields.length != b.fields.length) return b.fields.length - a.fields.length;
  return a.fields[0] < b.fields[0] ? -1 : a.fields[0] > b.fields[0] ? 1 : 0;
});
let total = 0;
for (let i = 0; i < records.length; i++) total += records[i].fields.length;
let out = records.length.toString() + " records, " + total.toString() + " fields\n";
for (let i = 0; i < min(15, records.length); i++) {
  let r = records[i];
  out += r.number.toString() + ": " + r.fields.length.toString() + " fields, first " + r.fields[0] + "\n";
}
process.stdout.write(out);
