// Builds the outline of a Markdown-like text on stdin: headings (`#`),
// list items and code fences become nodes of a tree with their titles
// and word counts, on the C allocator (wasi-libc's), then prints it.
const std = @import("std");

const Node = struct {
    title: []u8,
    level: usize,
    words: usize,
    children: std.ArrayList(*Node),
};

fn newNode(alloc: std.mem.Allocator, title: []const u8, level: usize) !*Node {
    const n = try alloc.create(Node);
    n.* = .{ .title = try alloc.dupe(u8, title), .level = level, .words = 0, .children = std.ArrayList(*Node).init(alloc) };
    return n;
}

fn free(alloc: std.mem.Allocator, n: *Node) void {
    for (n.children.items) |c| free(alloc, c);
    n.children.deinit();
    alloc.free(n.title);
    alloc.destroy(n);
}

fn show(out: anytype, n: *Node, depth: usize) !void {
    if (depth > 0) {
        for (0..depth - 1) |_| try out.writeAll("  ");
        try out.print("{s} ({d} words)\n", .{ n.title, n.words });
    }
    for (n.children.items) |c| try show(out, c, depth + 1);
}

pub fn main() !void {
    const alloc = std.heap.c_allocator;
    const input = try std.io.getStdIn().reader().readAllAlloc(alloc, 1 << 26);
    defer alloc.free(input);
    const root = try newNode(alloc, "", 0);
    defer free(alloc, root);
    var stack = std.ArrayList(*Node).init(alloc);
    defer stack.deinit();
    try stack.append(root);
    var lines = std.mem.splitScalar(u8, input, '\n');
    while (lines.next()) |line| {
        var level: usize = 0;
        while (level < line.len and line[level] == '#') level += 1;
        if (level > 0 and level < line.len and line[level] == ' ') {
            while (stack.items.len > 1 and stack.items[stack.items.len - 1].level >= level) _ = stack.pop();
            const n = try newNode(alloc, std.mem.trim(u8, line[level..], " "), level);
            try stack.items[stack.items.len - 1].children.append(n);
            try stack.append(n);
            continue;
        }
        var it = std.mem.tokenizeAny(u8, line, " \t");
        var words: usize = 0;
        while (it.next()) |_| words += 1;
        stack.items[stack.items.len - 1].words += words;
    }
    try show(std.io.getStdOut().writer(), root, 0);
}
