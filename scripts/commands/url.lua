-- !url hxxp://evil[.]example/login: the verdict on each URL given (defanged or not).
local findings = require("lib.findings")

-- What a URL's host may be: asked about when only a host is given (!url evil[.]example).
local HOSTS = { domain = true, ipv4 = true, ipv6 = true }

return command {
  name = "url",
  usage = "!url URL...",
  help = "the reputation of URLs (defanged URLs are fine; a host alone is checked as the host)",
  run = function(msg, args)
    -- Chat clients wrap links (<http://x|x> on Slack): the extractor reads them, and refangs.
    -- One answer, a line a URL (up to findings.MAX_LOOKUPS, then a note of the others). People
    -- paste what they have: a host without its scheme and path is checked as the host.
    if findings.answer_each(msg, args.text, { url = true }) == 0
      and findings.answer_each(msg, args.text, HOSTS) == 0 then
      msg:reply("Usage: !url URL..., as in !url hxxps://login-example[.]com/reset")
    end
  end,
}
