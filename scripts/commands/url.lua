-- !url hxxp://evil[.]example/login: the verdict on each URL given (defanged or not).
local findings = require("lib.findings")

return command {
  name = "url",
  usage = "!url URL...",
  help = "the reputation of URLs (defanged URLs are fine)",
  run = function(msg, args)
    -- Chat clients wrap links (<http://x|x> on Slack): the extractor reads them, and refangs.
    -- One answer, a line a URL (up to findings.MAX_LOOKUPS, then a note of the others).
    if findings.answer_each(msg, args.text, { url = true }) == 0 then
      msg:reply("Usage: !url URL..., as in !url hxxps://login-example[.]com/reset")
    end
  end,
}
