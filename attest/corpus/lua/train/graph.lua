-- A random graph as adjacency lists; breadth-first distances and degrees.
local n = 20000
local adj = {}
for i = 1, n do adj[i] = {} end
local seed = 42
local function rand(m) seed = (seed * 1103515245 + 12345) % 2147483648; return seed % m + 1 end
for _ = 1, 60000 do
  local a, b = rand(n), rand(n)
  adj[a][#adj[a] + 1] = b
  adj[b][#adj[b] + 1] = a
end
local dist = { [1] = 0 }
local queue, head = { 1 }, 1
while head <= #queue do
  local v = queue[head]; head = head + 1
  for _, w in ipairs(adj[v]) do
    if not dist[w] then dist[w] = dist[v] + 1; queue[#queue + 1] = w end
  end
end
local far, maxdeg = 0, 0
for v, d in pairs(dist) do if d > far then far = d end; if #adj[v] > maxdeg then maxdeg = #adj[v] end end
print(#queue, far, maxdeg)
