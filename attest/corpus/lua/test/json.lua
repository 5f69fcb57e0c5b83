-- A JSON encoder and a small decoder round trip over nested data.
local function encode(v)
  local t = type(v)
  if t == "number" then return tostring(v)
  elseif t == "string" then return '"' .. v:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
  elseif t == "boolean" then return tostring(v)
  elseif t == "table" then
    if #v > 0 then
      local parts = {}
      for i = 1, #v do parts[i] = encode(v[i]) end
      return "[" .. table.concat(parts, ",") .. "]"
    end
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys)
    local parts = {}
    for i, k in ipairs(keys) do parts[i] = encode(k) .. ":" .. encode(v[k]) end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  return "null"
end
local docs = {}
for i = 1, 3000 do
  docs[i] = { id = i, name = "item" .. i, ok = i % 2 == 0, dims = { i % 7, i % 11, i % 13 }, meta = { owner = "u" .. i % 50 } }
end
local s = encode(docs)
local count = 0
for _ in s:gmatch('"id":%d+') do count = count + 1 end
print(#s, count)
