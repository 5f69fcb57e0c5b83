-- Lua (5.4, vendored in the lupa sdist on PyPI): function calls, tables,
-- strings, closures, sorting.
local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
local t = {}
for i = 1, 200000 do t[i] = (i * 7919) % 100003 end
table.sort(t)
local parts = {}
for i = 1, 50000 do parts[#parts + 1] = string.format("%d:%s", i, string.rep("x", i % 7)) end
local s = table.concat(parts, ",")
local count = 0
for w in s:gmatch("%d+:x+") do count = count + 1 end
local acc = 0
local function make(k) return function(x) return x * k + 1 end end
for i = 1, 300000 do acc = (acc + make(i % 13)(i)) % 1000003 end
print(fib(27), t[1], t[#t], #s, count, acc)
