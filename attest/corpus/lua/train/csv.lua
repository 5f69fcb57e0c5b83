-- Parses generated CSV into rows, groups and sums columns.
local rows = {}
for i = 1, 8000 do
  rows[i] = table.concat({ i, "city" .. (i % 23), ("%.2f"):format(i * 1.37 % 500), i % 2 == 0 and "yes" or "no" }, ",")
end
local csv = table.concat(rows, "\n")
local sums, counts = {}, {}
for line in csv:gmatch("[^\n]+") do
  local f = {}
  for field in line:gmatch("[^,]+") do f[#f + 1] = field end
  local city = f[2]
  sums[city] = (sums[city] or 0) + tonumber(f[3])
  counts[city] = (counts[city] or 0) + (f[4] == "yes" and 1 or 0)
end
local cities = {}
for c in pairs(sums) do cities[#cities + 1] = c end
table.sort(cities)
print(#cities, cities[1], math.floor(sums[cities[1]]), counts[cities[#cities]])
