//! An outline of standard input by indentation and brackets: a tree of
//! boxed nodes, cloned, pruned and printed back.
use std::io::Read;

#[derive(Clone, Debug)]
enum Node {
    Line { text: String, depth: usize },
    Block { head: String, children: Vec<Node> },
}

fn parse(lines: &[(usize, String)], at: &mut usize, depth: usize) -> Vec<Node> {
    let mut out = Vec::new();
    while *at < lines.len() {
        let (d, ref text) = lines[*at];
        if d < depth {
            break;
        }
        *at += 1;
        if *at < lines.len() && lines[*at].0 > d {
            let children = parse(lines, at, lines[*at].0);
            out.push(Node::Block { head: text.clone(), children });
        } else {
            out.push(Node::Line { text: text.clone(), depth: d });
        }
    }
    out
}

fn size(n: &Node) -> usize {
    match n {
        Node::Line { .. } => 1,
        Node::Block { children, .. } => 1 + children.iter().map(size).sum::<usize>(),
    }
}

fn prune(n: &Node, keep: usize) -> Option<Box<Node>> {
    match n {
        Node::Line { text, depth } => (text.len() % keep != 0).then(|| Box::new(Node::Line { text: text.to_uppercase(), depth: *depth })),
        Node::Block { head, children } => {
            let children: Vec<Node> = children.iter().filter_map(|c| prune(c, keep)).map(|b| *b).collect();
            Some(Box::new(Node::Block { head: head.trim().to_string(), children }))
        }
    }
}

fn show(n: &Node, indent: usize, out: &mut String, budget: &mut usize) {
    if *budget == 0 {
        return;
    }
    *budget -= 1;
    match n {
        Node::Line { text, .. } => out.push_str(&format!("{:indent$}- {}\n", "", text.trim())),
        Node::Block { head, children } => {
            out.push_str(&format!("{:indent$}+ {} ({})\n", "", head.trim(), children.len()));
            for c in children {
                show(c, indent + 2, out, budget);
            }
        }
    }
}

fn main() {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).expect("stdin");
    let lines: Vec<(usize, String)> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| (l.len() - l.trim_start().len(), l.to_string()))
        .collect();
    let mut at = 0;
    let tree = parse(&lines, &mut at, 0);
    let copy = tree.clone();
    let pruned: Vec<Box<Node>> = copy.iter().filter_map(|n| prune(n, 3)).collect();
    let mut out = String::new();
    let mut budget = 60;
    for n in &pruned {
        show(n, 0, &mut out, &mut budget);
    }
    print!("{out}");
    println!("{} top nodes, {} in all, {} after pruning", tree.len(), tree.iter().map(size).sum::<usize>(), pruned.iter().map(|b| size(b)).sum::<usize>());
}
