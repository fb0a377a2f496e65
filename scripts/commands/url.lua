-- !url hxxp://evil[.]example/login: the verdict on a URL (defanged or not), and on its host.
local findings = require("lib.findings")

return command {
  name = "url",
  usage = "!url URL",
  help = "the reputation of a URL (defanged URLs are fine)",
  run = function(msg, args)
    -- Chat clients wrap links (<http://x|x> on Slack): the extractor reads them, and refangs.
    local found = intel.extract(args.text)
    for _, each in ipairs(found) do
      if each.type == "url" then return findings.answer(msg, each.value, "url") end
    end
    msg:reply("Usage: !url URL, as in !url hxxps://login-example[.]com/reset")
  end,
}
