-- String building, pattern matching and substitution.
local words = { "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta" }
local lines = {}
for i = 1, 6000 do
  local w = words[i % #words + 1]
  lines[#lines + 1] = string.format("%05d %s=%d;%s", i, w, i * i % 9973, w:upper())
end
local text = table.concat(lines, "\n")
local sum = 0
for k, v in text:gmatch("(%a+)=(%d+)") do sum = sum + #k + tonumber(v) end
local swapped = text:gsub("(%a+)=(%d+)", "%2:%1")
local rev = {}
for i = 1, 2000 do rev[i] = lines[i]:reverse() end
print(#text, sum, #swapped, rev[1])
