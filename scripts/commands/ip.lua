-- !ip 203.0.113.7: the verdict on an IP address, with its reasons.
local findings = require("lib.findings")

return command {
  name = "ip",
  usage = "!ip ADDRESS",
  help = "the reputation of an IPv4 or IPv6 address",
  run = function(msg, args)
    for _, each in ipairs(intel.extract(args.text)) do
      if each.type == "ipv4" or each.type == "ipv6" then return findings.answer(msg, each.value, each.type) end
    end
    msg:reply("Usage: !ip ADDRESS, as in !ip 203.0.113.7 (defanged addresses are fine)")
  end,
}
