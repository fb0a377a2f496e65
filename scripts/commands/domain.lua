-- !domain evil.example: the verdict on a domain name.
local findings = require("lib.findings")

return command {
  name = "domain",
  usage = "!domain NAME",
  help = "the reputation of a domain name",
  run = function(msg, args)
    for _, each in ipairs(intel.extract(args.text)) do
      if each.type == "domain" then return findings.answer(msg, each.value, "domain") end
    end
    msg:reply("Usage: !domain NAME, as in !domain login-example.com (a name under a public suffix)")
  end,
}
