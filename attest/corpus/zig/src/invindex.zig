// An inverted index of stdin: every lowercased word maps to the list of
// lines it occurs on, on the general-purpose allocator over wasi-libc's
// allocator; prints the words found on the most lines.
const std = @import("std");

pub fn main() !void {
    var gpa = std.heap.GeneralPurposeAllocator(.{}){ .backing_allocator = std.heap.c_allocator };
    defer _ = gpa.deinit();
    const alloc = gpa.allocator();
    const input = try std.io.getStdIn().reader().readAllAlloc(alloc, 1 << 26);
    defer alloc.free(input);
    var index = std.StringHashMap(std.ArrayList(u32)).init(alloc);
    defer {
        var it = index.iterator();
        while (it.next()) |e| {
            alloc.free(e.key_ptr.*);
            e.value_ptr.deinit();
        }
        index.deinit();
    }
    var lines = std.mem.splitScalar(u8, input, '\n');
    var number: u32 = 0;
    while (lines.next()) |line| {
        number += 1;
        var words = std.mem.tokenizeAny(u8, line, " \t\r.,;:!?()[]{}\"'`*#-_/<>=|");
        while (words.next()) |w| {
            const lower = try std.ascii.allocLowerString(alloc, w);
            const gop = try index.getOrPut(lower);
            if (gop.found_existing) {
                alloc.free(lower);
            } else gop.value_ptr.* = std.ArrayList(u32).init(alloc);
            const list = gop.value_ptr;
            if (list.items.len == 0 or list.items[list.items.len - 1] != number) try list.append(number);
        }
    }
    const Entry = struct { word: []const u8, lines: usize };
    var all = std.ArrayList(Entry).init(alloc);
    defer all.deinit();
    var it = index.iterator();
    while (it.next()) |e| try all.append(.{ .word = e.key_ptr.*, .lines = e.value_ptr.items.len });
    std.mem.sort(Entry, all.items, {}, struct {
        fn lt(_: void, a: Entry, b: Entry) bool {
            return a.lines > b.lines or (a.lines == b.lines and std.mem.lessThan(u8, a.word, b.word));
        }
    }.lt);
    const out = std.io.getStdOut().writer();
    try out.print("{d} words\n", .{all.items.len});
    for (all.items[0..@min(15, all.items.len)]) |e| try out.print("{d} {s}\n", .{ e.lines, e.word });
}
