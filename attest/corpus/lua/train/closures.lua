-- Closures, upvalues and higher-order functions over lists.
local function map(f, t) local r = {} for i = 1, #t do r[i] = f(t[i]) end return r end
local function filter(p, t) local r = {} for i = 1, #t do if p(t[i]) then r[#r + 1] = t[i] end end return r end
local function fold(f, acc, t) for i = 1, #t do acc = f(acc, t[i]) end return acc end
local function counter() local c = 0 return function() c = c + 1 return c end end
local xs = {}
for i = 1, 50000 do xs[i] = i end
local total = 0
for round = 1, 8 do
  local next_id = counter()
  local ys = map(function(x) return x * round + next_id() end, xs)
  ys = filter(function(y) return y % 3 ~= 0 end, ys)
  total = total + fold(function(a, b) return (a + b) % 1000003 end, 0, ys)
end
print(total)
