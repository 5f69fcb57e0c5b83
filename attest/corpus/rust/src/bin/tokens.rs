//! Held out: a tokenizer of standard input (identifiers, numbers, string
//! literals, punctuation) with interned symbols and per-kind statistics.
use std::collections::HashMap;
use std::io::Read;
use std::rc::Rc;

#[derive(Debug)]
enum Token {
    Ident(Rc<str>),
    Number(f64),
    Str(String),
    Punct(char),
}

fn main() {
    let mut src = String::new();
    std::io::stdin().read_to_string(&mut src).expect("stdin");
    let mut interned: HashMap<String, Rc<str>> = HashMap::new();
    let mut tokens = Vec::new();
    let chars: Vec<char> = src.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let sym = interned.entry(word.clone()).or_insert_with(|| Rc::from(word.as_str())).clone();
            tokens.push(Token::Ident(sym));
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_hexdigit() || chars[i] == '.' || chars[i] == 'x') {
                i += 1;
            }
            let s: String = chars[start..i].iter().collect();
            tokens.push(Token::Number(s.parse().unwrap_or(s.len() as f64)));
        } else if c == '"' {
            let mut s = String::new();
            i += 1;
            while i < chars.len() && chars[i] != '"' && chars[i] != '\n' {
                if chars[i] == '\\' {
                    i += 1;
                }
                if i < chars.len() {
                    s.push(chars[i]);
                }
                i += 1;
            }
            i += 1;
            tokens.push(Token::Str(s));
        } else {
            tokens.push(Token::Punct(c));
            i += 1;
        }
    }
    let (mut idents, mut ident_bytes, mut numbers, mut strs, mut puncts, mut sum) = (0, 0, 0, 0, HashMap::new(), 0.0);
    for t in &tokens {
        match t {
            Token::Ident(s) => {
                idents += 1;
                ident_bytes += s.len();
            }
            Token::Number(n) => {
                numbers += 1;
                sum += n;
            }
            Token::Str(_) => strs += 1,
            Token::Punct(p) => *puncts.entry(*p).or_insert(0u32) += 1,
        }
    }
    let mut shared: Vec<(&Rc<str>, usize)> = interned.values().map(|s| (s, Rc::strong_count(s) - 1)).collect();
    shared.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    for (s, n) in shared.iter().take(25) {
        println!("{n:>6} {s}");
    }
    let mut p: Vec<_> = puncts.into_iter().collect();
    p.sort();
    let longest = tokens.iter().filter_map(|t| if let Token::Str(s) = t { Some(s) } else { None }).max_by_key(|s| s.len());
    println!("{} tokens: {idents} identifiers ({} distinct, {ident_bytes} bytes), {numbers} numbers (sum {sum:.1}), {strs} strings, punct {:?}", tokens.len(), interned.len(), p);
    println!("longest string {:?}", longest.map(|s| s.chars().take(60).collect::<String>()));
}
