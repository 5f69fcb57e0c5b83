-- Dense matrices as nested tables: multiply, transpose, trace.
local function matrix(n, f) local m = {} for i = 1, n do m[i] = {} for j = 1, n do m[i][j] = f(i, j) end end return m end
local function mul(a, b)
  local n = #a
  return matrix(n, function(i, j) local s = 0 for k = 1, n do s = s + a[i][k] * b[k][j] end return s end)
end
local a = matrix(90, function(i, j) return (i * j) % 7 - 3 end)
local b = matrix(90, function(i, j) return (i + 2 * j) % 5 - 2 end)
local c = mul(a, b)
local t = matrix(90, function(i, j) return c[j][i] end)
local d = mul(t, a)
local trace = 0
for i = 1, 90 do trace = trace + d[i][i] end
print(trace, c[1][1], d[90][90])
