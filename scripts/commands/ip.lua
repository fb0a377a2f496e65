-- !ip 203.0.113.7 198.51.100.5: the verdict on each IP address given, with its reasons.
local findings = require("lib.findings")

-- The types intel.extract gives addresses.
local ADDRESSES = { ipv4 = true, ipv6 = true }

return command {
  name = "ip",
  usage = "!ip ADDRESS...",
  help = "the reputation of IPv4 or IPv6 addresses",
  run = function(msg, args)
    -- One answer, a line an address (up to findings.MAX_LOOKUPS, then a note of the others).
    if findings.answer_each(msg, args.text, ADDRESSES) == 0 then
      msg:reply("Usage: !ip ADDRESS..., as in !ip 203.0.113.7 (defanged addresses are fine)")
    end
  end,
}
