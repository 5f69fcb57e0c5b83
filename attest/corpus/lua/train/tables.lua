-- Tables as records and arrays: build, update, filter, sort.
local people = {}
for i = 1, 20000 do
  people[i] = { id = i, name = "p" .. (i * 37 % 1000), age = i % 90, tags = { i % 3, i % 5 } }
end
local adults = {}
for _, p in ipairs(people) do if p.age >= 18 then adults[#adults + 1] = p end end
table.sort(adults, function(a, b) if a.age ~= b.age then return a.age < b.age end return a.id < b.id end)
local byname = {}
for _, p in ipairs(adults) do byname[p.name] = (byname[p.name] or 0) + 1 end
local n = 0
for _ in pairs(byname) do n = n + 1 end
for i = 1, #people, 3 do people[i] = nil end
collectgarbage()
print(#adults, n, adults[1].id, adults[#adults].id)
