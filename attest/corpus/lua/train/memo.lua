-- Memoised recursion with string keys, and a linked list built and reversed.
local memo = {}
local function paths(r, c)
  if r == 0 or c == 0 then return 1 end
  local key = r .. "," .. c
  local v = memo[key]
  if v then return v end
  v = (paths(r - 1, c) + paths(r, c - 1)) % 1000000007
  memo[key] = v
  return v
end
local list
for i = 1, 50000 do list = { value = i, label = "node" .. i, next = list } end
local rev
while list do local nxt = list.next; list.next = rev; rev = list; list = nxt end
local sum = 0
local node = rev
while node do sum = sum + node.value; node = node.next end
print(paths(150, 150), sum, rev.label)
