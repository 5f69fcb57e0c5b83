-- An event queue: a binary heap of timed events with cancellation.
local heap = {}
local function push(e)
  heap[#heap + 1] = e
  local i = #heap
  while i > 1 do
    local p = i // 2
    if heap[p].t <= heap[i].t then break end
    heap[p], heap[i] = heap[i], heap[p]
    i = p
  end
end
local function pop()
  local top = heap[1]
  heap[1] = heap[#heap]
  heap[#heap] = nil
  local i = 1
  while true do
    local l, r, m = 2 * i, 2 * i + 1, i
    if l <= #heap and heap[l].t < heap[m].t then m = l end
    if r <= #heap and heap[r].t < heap[m].t then m = r end
    if m == i then break end
    heap[m], heap[i] = heap[i], heap[m]
    i = m
  end
  return top
end
local fired, cancelled = 0, 0
for i = 1, 60000 do push({ t = (i * 7919) % 100003, name = "ev" .. i, cancel = i % 9 == 0 }) end
while #heap > 0 do
  local e = pop()
  if e.cancel then cancelled = cancelled + 1 else fired = fired + 1 end
  if fired % 1000 == 0 and #heap < 50000 then push({ t = e.t + 17, name = e.name .. "+", cancel = false }) end
end
print(fired, cancelled)
