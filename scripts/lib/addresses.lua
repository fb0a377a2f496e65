-- Whether an address is ours to reach from inside: private (RFC 1918, IPv6 unique local),
-- loopback or link-local. Such an address is a host of ours, never "the other side" of an alert,
-- and no feed knows it.
--
--   local addresses = require("lib.addresses")
--   addresses.internal("10.20.4.31")    --> true

local addresses = {}

--- True for a private, loopback or link-local IPv4 or IPv6 address; false for any other text.
function addresses.internal(ip)
  if type(ip) ~= "string" then return false end
  local a, b = ip:match("^(%d+)%.(%d+)%.%d+%.%d+$")
  a, b = tonumber(a), tonumber(b)
  if a then
    return a == 10 or a == 127 or (a == 172 and b >= 16 and b <= 31) or (a == 192 and b == 168)
      or (a == 169 and b == 254)
  end
  local lower = ip:lower()
  if not lower:find(":", 1, true) then return false end
  return lower == "::1" or lower:match("^f[cd]%x*:") ~= nil or lower:match("^fe[89ab]%x*:") ~= nil
end

return addresses
