// Splits stdin into records (one per line, fields by whitespace), keeps
// them in an arena, sorts them by field count then first field, and
// prints a summary: the arena's bump allocation puts lines and slices of
// fields back to back.
const std = @import("std");

const Record = struct {
    line: []const u8,
    fields: [][]const u8,
    number: usize,
};

pub fn main() !void {
    var arena = std.heap.ArenaAllocator.init(std.heap.page_allocator);
    defer arena.deinit();
    const alloc = arena.allocator();
    const input = try std.io.getStdIn().reader().readAllAlloc(alloc, 1 << 26);
    var records = std.ArrayList(Record).init(alloc);
    var lines = std.mem.splitScalar(u8, input, '\n');
    var number: usize = 0;
    while (lines.next()) |line| {
        number += 1;
        var fields = std.ArrayList([]const u8).init(alloc);
        var it = std.mem.tokenizeAny(u8, line, " \t");
        while (it.next()) |f| try fields.append(try alloc.dupe(u8, f));
        if (fields.items.len == 0) continue;
        try records.append(.{ .line = try alloc.dupe(u8, line), .fields = try fields.toOwnedSlice(), .number = number });
    }
    std.mem.sort(Record, records.items, {}, struct {
        fn lt(_: void, a: Record, b: Record) bool {
            if (a.fields.len != b.fields.len) return a.fields.len > b.fields.len;
            return std.mem.lessThan(u8, a.fields[0], b.fields[0]);
        }
    }.lt);
    const out = std.io.getStdOut().writer();
    var total: usize = 0;
    for (records.items) |r| total += r.fields.len;
    try out.print("{d} records, {d} fields\n", .{ records.items.len, total });
    for (records.items[0..@min(15, records.items.len)]) |r|
        try out.print("{d}: {d} fields, first {s}\n", .{ r.number, r.fields.len, r.fields[0] });
}
