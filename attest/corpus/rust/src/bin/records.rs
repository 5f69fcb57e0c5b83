//! Lines of standard input as records: fields, an index by first field,
//! a sliding window of recent lines, and a report rendered into strings.
use std::collections::{BTreeMap, VecDeque};
use std::io::BufRead;

struct Record {
    key: String,
    fields: Vec<String>,
    weight: f64,
    line: usize,
}

fn main() {
    let stdin = std::io::stdin();
    let mut records = Vec::new();
    let mut index: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut window: VecDeque<String> = VecDeque::new();
    let mut repeats = 0usize;
    for (n, line) in stdin.lock().lines().enumerate() {
        let line = line.expect("stdin");
        if window.iter().any(|l| *l == line) {
            repeats += 1;
        }
        window.push_back(line.clone());
        if window.len() > 16 {
            window.pop_front();
        }
        let mut parts = line.split_whitespace().map(str::to_string);
        let Some(key) = parts.next() else { continue };
        let fields: Vec<String> = parts.collect();
        let weight = fields.iter().map(|f| f.len() as f64).sum::<f64>() / (1 + fields.len()) as f64;
        index.entry(key.clone()).or_default().push(records.len());
        records.push(Record { key, fields, weight, line: n + 1 });
    }
    let mut report = Vec::new();
    for (key, at) in index.iter().filter(|(_, v)| v.len() > 2) {
        let mean = at.iter().map(|&i| records[i].weight).sum::<f64>() / at.len() as f64;
        let widest = at.iter().map(|&i| records[i].fields.len()).max().unwrap_or(0);
        let lines: Vec<String> = at.iter().take(4).map(|&i| records[i].line.to_string()).collect();
        report.push(format!("{key:<24} x{:<5} mean {mean:>7.3} widest {widest:>3} lines {}", at.len(), lines.join(",")));
    }
    report.sort();
    for r in report.iter().take(40) {
        println!("{r}");
    }
    let joined: String = records.iter().rev().take(8).map(|r| format!("{}:{}", r.key, r.fields.join("|"))).collect::<Vec<_>>().join(" / ");
    println!("{} records, {} keys, {repeats} repeats; last: {joined}", records.len(), index.len());
}
