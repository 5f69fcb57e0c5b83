-- Primes by sieve, then prime gaps collected in a histogram.
local N = 400000
local composite = {}
for i = 2, math.floor(math.sqrt(N)) do
  if not composite[i] then for j = i * i, N, i do composite[j] = true end end
end
local primes = {}
for i = 2, N do if not composite[i] then primes[#primes + 1] = i end end
local gaps = {}
for i = 2, #primes do local g = primes[i] - primes[i - 1]; gaps[g] = (gaps[g] or 0) + 1 end
local keys = {}
for g in pairs(gaps) do keys[#keys + 1] = g end
table.sort(keys)
print(#primes, keys[#keys], gaps[2], gaps[6])
