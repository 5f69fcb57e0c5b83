-- Stateful iterators (coroutines need longjmp, which this Lua build
-- lacks): generated lines in batches, chained filters, a running window.
local function batches(n, size)
  local i = 0
  return function()
    i = i + 1
    if i > n then return nil end
    local batch = {}
    for j = 1, size do batch[j] = ("line %d.%d: %s"):format(i, j, ("z"):rep((i + j) % 13)) end
    return batch
  end
end
local lengths, lines, window, last = 0, 0, {}, nil
for batch in batches(3000, 10) do
  for _, l in ipairs(batch) do
    lengths = lengths + #l
    lines = lines + 1
    window[#window + 1] = l
    if #window > 64 then table.remove(window, 1) end
    last = l
  end
end
print(lines, lengths, #window, last)
