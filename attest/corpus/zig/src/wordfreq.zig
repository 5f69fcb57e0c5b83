// Word frequencies of stdin (the 20 most frequent, lowercased), on the
// general-purpose allocator: its small size classes pack words of one
// length side by side.
const std = @import("std");

pub fn main() !void {
    var gpa = std.heap.GeneralPurposeAllocator(.{}){};
    defer _ = gpa.deinit();
    const alloc = gpa.allocator();
    const stdin = std.io.getStdIn().reader();
    const input = try stdin.readAllAlloc(alloc, 1 << 26);
    defer alloc.free(input);
    var counts = std.StringHashMap(u32).init(alloc);
    defer {
        var it = counts.keyIterator();
        while (it.next()) |k| alloc.free(k.*);
        counts.deinit();
    }
    var words = std.mem.tokenizeAny(u8, input, " \t\r\n.,;:!?()[]{}\"'`*#-_/<>=|");
    while (words.next()) |w| {
        const lower = try std.ascii.allocLowerString(alloc, w);
        const gop = try counts.getOrPut(lower);
        if (gop.found_existing) {
            alloc.free(lower);
            gop.value_ptr.* += 1;
        } else gop.value_ptr.* = 1;
    }
    const Entry = struct { word: []const u8, n: u32 };
    var list = std.ArrayList(Entry).init(alloc);
    defer list.deinit();
    var it = counts.iterator();
    while (it.next()) |e| try list.append(.{ .word = e.key_ptr.*, .n = e.value_ptr.* });
    std.mem.sort(Entry, list.items, {}, struct {
        fn lt(_: void, a: Entry, b: Entry) bool {
            return a.n > b.n or (a.n == b.n and std.mem.lessThan(u8, a.word, b.word));
        }
    }.lt);
    const out = std.io.getStdOut().writer();
    for (list.items[0..@min(20, list.items.len)]) |e| try out.print("{d} {s}\n", .{ e.n, e.word });
}
