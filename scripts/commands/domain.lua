-- !domain evil.example: the verdict on each domain name given.
local findings = require("lib.findings")

return command {
  name = "domain",
  usage = "!domain NAME...",
  help = "the reputation of domain names",
  run = function(msg, args)
    -- One answer, a line a name (up to findings.MAX_LOOKUPS, then a note of the others).
    if findings.answer_each(msg, args.text, { domain = true }) == 0 then
      msg:reply("Usage: !domain NAME..., as in !domain login-example.com (a name under a public suffix)")
    end
  end,
}
