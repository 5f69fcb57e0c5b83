-- A formatted text report: padded columns, numbers, totals, a histogram.
local out = {}
local totals = {}
for i = 1, 6000 do
  local region = ({ "north", "south", "east", "west", "central" })[i % 5 + 1]
  local amount = (i * 7919 % 10007) / 100
  totals[region] = (totals[region] or 0) + amount
  out[#out + 1] = ("%-8s %6d %12.2f %s"):format(region, i, amount, ("#"):rep(math.floor(amount / 10)))
end
local names = {}
for r in pairs(totals) do names[#names + 1] = r end
table.sort(names)
for _, r in ipairs(names) do out[#out + 1] = ("TOTAL %-8s %14.2f"):format(r, totals[r]) end
local report = table.concat(out, "\n")
print(#report, #out, names[1])
