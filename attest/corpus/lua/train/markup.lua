-- Builds an XML-like document from nested tables, then scans its tags.
local function node(tag, attrs, children)
  local parts = { "<" .. tag }
  local keys = {}
  for k in pairs(attrs) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do parts[#parts + 1] = (' %s="%s"'):format(k, attrs[k]) end
  parts[#parts + 1] = ">"
  for _, c in ipairs(children) do parts[#parts + 1] = c end
  parts[#parts + 1] = "</" .. tag .. ">"
  return table.concat(parts)
end
local rows = {}
for i = 1, 2500 do
  rows[i] = node("row", { id = i, class = i % 2 == 0 and "even" or "odd" }, {
    node("cell", { col = "name" }, { "entry " .. i }),
    node("cell", { col = "value" }, { tostring(i * 31 % 1009) }),
  })
end
local doc = node("table", { rows = #rows }, rows)
local tags, cells = 0, 0
for tag in doc:gmatch("<(%a+)") do tags = tags + 1; if tag == "cell" then cells = cells + 1 end end
print(#doc, tags, cells)
