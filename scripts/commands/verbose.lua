-- verbose on #ch1, private1 | verbose off #ch1: answer every finding in those channels, or only
-- the malicious ones.
local channels = require("lib.channels")

return command {
  name = "verbose",
  usage = "verbose on|off #channel1, #channel2",
  help = "answer every finding in the channels (on), or only the malicious ones (off)",
  run = function(msg, args)
    local mode = args[1]
    local names = channels.names(args.text:gsub("^%s*%S+", "", 1))
    if (mode ~= "on" and mode ~= "off") or #names == 0 then
      return msg:reply("Usage: verbose on #channel1, #channel2 (or verbose off #channel1)")
    end
    local done = {}
    for _, name in ipairs(names) do done[#done + 1] = "#" .. chat.verbose(msg.network, name, mode == "on").name end
    msg:reply(("Verbose %s in %s."):format(mode, table.concat(done, ", ")))
  end,
}
