-- Metatables as classes: a small bank simulation with inheritance.
local Account = {}
Account.__index = Account
function Account.new(owner, balance) return setmetatable({ owner = owner, balance = balance, log = {} }, Account) end
function Account:deposit(v) self.balance = self.balance + v; self.log[#self.log + 1] = "d" .. v end
function Account:withdraw(v)
  if v > self.balance then self.log[#self.log + 1] = "refused"; return false end
  self.balance = self.balance - v; self.log[#self.log + 1] = "w" .. v; return true
end
local Savings = setmetatable({}, { __index = Account })
Savings.__index = Savings
function Savings.new(owner, balance, rate)
  local a = Account.new(owner, balance); a.rate = rate; return setmetatable(a, Savings)
end
function Savings:accrue() self:deposit(math.floor(self.balance * self.rate)) end
local accounts = {}
for i = 1, 3000 do
  accounts[i] = i % 4 == 0 and Savings.new("s" .. i, 1000, 0.01) or Account.new("a" .. i, 500)
end
local refused = 0
for step = 1, 40 do
  for i, a in ipairs(accounts) do
    a:deposit((i * step) % 97)
    if not a:withdraw((i + step * 13) % 211) then refused = refused + 1 end
    if a.accrue and step % 10 == 0 then a:accrue() end
  end
end
local total = 0
for _, a in ipairs(accounts) do total = total + a.balance end
print(total, refused, #accounts[1].log)
