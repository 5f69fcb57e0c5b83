//! Held out: an inverted index of standard input's lines (word to line
//! numbers, as sorted, deduplicated vectors) and queries over it.
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::BufRead;

fn main() {
    let mut index: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    let mut lines: Vec<String> = Vec::new();
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("stdin");
        let n = lines.len() as u32;
        let mut seen = HashSet::new();
        for w in line.split(|c: char| !c.is_alphanumeric()).filter(|w| w.len() > 2) {
            let w = w.to_ascii_lowercase();
            if seen.insert(w.clone()) {
                index.entry(w).or_default().push(n);
            }
        }
        lines.push(line);
    }
    let common: Vec<(&String, &Vec<u32>)> = {
        let mut v: Vec<_> = index.iter().collect();
        v.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
        v.into_iter().take(12).collect()
    };
    for pair in common.windows(2) {
        let a: BTreeSet<u32> = pair[0].1.iter().copied().collect();
        let both: Vec<u32> = pair[1].1.iter().copied().filter(|n| a.contains(n)).collect();
        let sample = both.first().map(|&n| lines[n as usize].trim().chars().take(50).collect::<String>()).unwrap_or_default();
        println!("{:<16} & {:<16} {:>5} lines, e.g. {sample:?}", pair[0].0, pair[1].0, both.len());
    }
    let prefixes: BTreeMap<String, usize> = index.keys().fold(BTreeMap::new(), |mut m, w| {
        *m.entry(w.chars().take(3).collect()).or_insert(0) += 1;
        m
    });
    let busiest = prefixes.iter().max_by_key(|p| p.1).map(|p| p.0.clone()).unwrap_or_default();
    println!("{} lines, {} words, {} prefixes (busiest {busiest:?})", lines.len(), index.len(), prefixes.len());
}
