-- Word statistics over generated prose: frequencies, bigrams, longest words.
local vocab = { "walmart", "runs", "modules", "with", "guarded", "memory", "and", "the", "attestation",
  "thread", "checks", "every", "page", "it", "snapshots", "for", "signs", "of", "corruption" }
local words = {}
local s = 7
for i = 1, 60000 do s = (s * 69069 + 1) % 4294967296; words[i] = vocab[s % #vocab + 1] end
local freq, bigrams = {}, {}
for i, w in ipairs(words) do
  freq[w] = (freq[w] or 0) + 1
  if i > 1 then local b = words[i - 1] .. " " .. w; bigrams[b] = (bigrams[b] or 0) + 1 end
end
local top, best = nil, 0
for b, c in pairs(bigrams) do if c > best or (c == best and b < top) then top, best = b, c end end
local sorted = {}
for w, c in pairs(freq) do sorted[#sorted + 1] = { w = w, c = c } end
table.sort(sorted, function(a, b) return a.c > b.c or (a.c == b.c and a.w < b.w) end)
print(sorted[1].w, sorted[1].c, top, best)
