//! Word and bigram frequencies of standard input.
use std::collections::HashMap;
use std::io::Read;

fn main() {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).expect("stdin");
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .collect();
    let mut freq: HashMap<&str, u32> = HashMap::new();
    let mut pairs: HashMap<(&str, &str), u32> = HashMap::new();
    for (i, w) in words.iter().enumerate() {
        *freq.entry(w).or_default() += 1;
        if let Some(next) = words.get(i + 1) {
            *pairs.entry((w, next)).or_default() += 1;
        }
    }
    let mut top: Vec<(&str, u32)> = freq.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    for (w, n) in top.iter().take(30) {
        println!("{n:>6} {w}");
    }
    let mut top2: Vec<_> = pairs.into_iter().filter(|p| p.1 > 1).collect();
    top2.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    for ((a, b), n) in top2.iter().take(20) {
        println!("{n:>6} {a} {b}");
    }
    let longest = top.iter().map(|t| t.0).max_by_key(|w| w.len()).unwrap_or("");
    println!("{} words, {} distinct, longest {longest:?}", words.len(), top.len());
}
