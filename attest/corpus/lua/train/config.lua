-- Writes and re-reads an INI-style configuration with many sections.
local lines = {}
for s = 1, 400 do
  lines[#lines + 1] = ("[section_%03d]"):format(s)
  for k = 1, 12 do
    local v = (s * k) % 3 == 0 and ("true") or (s * k) % 3 == 1 and tostring(s * k * 17) or ("path/to/file_" .. s .. "_" .. k .. ".dat")
    lines[#lines + 1] = ("key_%02d = %s"):format(k, v)
  end
  lines[#lines + 1] = "; end of section " .. s
end
local text = table.concat(lines, "\n")
local config, section = {}, nil
for line in text:gmatch("[^\n]+") do
  local name = line:match("^%[(.-)%]$")
  if name then section = {}; config[name] = section
  else
    local k, v = line:match("^([%w_]+)%s*=%s*(.-)$")
    if k then section[k] = v end
  end
end
local count, paths = 0, 0
for _, sec in pairs(config) do for _, v in pairs(sec) do count = count + 1; if v:find("/") then paths = paths + 1 end end end
print(#text, count, paths)
