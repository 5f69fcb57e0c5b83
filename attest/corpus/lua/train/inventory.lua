-- An inventory of named records: orders come in, stock moves, reports.
local items = {}
for i = 1, 4000 do
  items["sku" .. i] = { name = "item-" .. i, stock = i % 50, price = (i % 97) + 0.99, history = {} }
end
local orders = 0
for day = 1, 30 do
  for i = 1, 4000, 7 do
    local it = items["sku" .. ((i * day) % 4000 + 1)]
    local want = (i + day) % 5 + 1
    if it.stock >= want then
      it.stock = it.stock - want
      it.history[#it.history + 1] = { day = day, qty = want }
      orders = orders + 1
    else
      it.stock = it.stock + 20
    end
  end
end
local value = 0
for _, it in pairs(items) do value = value + it.stock * it.price end
print(orders, math.floor(value))
