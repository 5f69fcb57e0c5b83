// Tokenizes stdin as source code (identifiers, numbers, strings,
// punctuation), keeps each token's text in its own allocation on the
// general-purpose allocator, and prints counts per kind and the longest
// identifiers.
const std = @import("std");

const Kind = enum { ident, number, string, punct };
const Token = struct { kind: Kind, text: []u8 };

pub fn main() !void {
    var gpa = std.heap.GeneralPurposeAllocator(.{}){};
    defer _ = gpa.deinit();
    const alloc = gpa.allocator();
    const input = try std.io.getStdIn().reader().readAllAlloc(alloc, 1 << 26);
    defer alloc.free(input);
    var tokens = std.ArrayList(Token).init(alloc);
    defer {
        for (tokens.items) |t| alloc.free(t.text);
        tokens.deinit();
    }
    var i: usize = 0;
    while (i < input.len) {
        const c = input[i];
        var j = i + 1;
        var kind: Kind = .punct;
        if (std.ascii.isWhitespace(c)) {
            i += 1;
            continue;
        } else if (std.ascii.isAlphabetic(c) or c == '_') {
            kind = .ident;
            while (j < input.len and (std.ascii.isAlphanumeric(input[j]) or input[j] == '_')) j += 1;
        } else if (std.ascii.isDigit(c)) {
            kind = .number;
            while (j < input.len and (std.ascii.isAlphanumeric(input[j]) or input[j] == '.')) j += 1;
        } else if (c == '"') {
            kind = .string;
            while (j < input.len and input[j] != '"' and input[j] != '\n') j += 1;
            if (j < input.len) j += 1;
        }
        try tokens.append(.{ .kind = kind, .text = try alloc.dupe(u8, input[i..j]) });
        i = j;
    }
    var counts = [_]usize{0} ** 4;
    for (tokens.items) |t| counts[@intFromEnum(t.kind)] += 1;
    const out = std.io.getStdOut().writer();
    try out.print("ident {d} number {d} string {d} punct {d}\n", .{ counts[0], counts[1], counts[2], counts[3] });
    var longest = std.ArrayList([]const u8).init(alloc);
    defer longest.deinit();
    for (tokens.items) |t| if (t.kind == .ident and t.text.len > 12) try longest.append(t.text);
    std.mem.sort([]const u8, longest.items, {}, struct {
        fn lt(_: void, a: []const u8, b: []const u8) bool {
            return a.len > b.len or (a.len == b.len and std.mem.lessThan(u8, a, b));
        }
    }.lt);
    for (longest.items[0..@min(10, longest.items.len)]) |t| try out.print("{s}\n", .{t});
}
