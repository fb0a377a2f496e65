-- !hash 44d88612fea8a8f36de82e1278abb02f: the verdict on each file hash given (MD5, SHA-1 or SHA-256).
local findings = require("lib.findings")

local HASHES = { md5 = true, sha1 = true, sha256 = true }

return command {
  name = "hash",
  usage = "!hash HASH...",
  help = "the reputation of files by their hashes",
  run = function(msg, args)
    -- One answer, a line a hash (up to findings.MAX_LOOKUPS, then a note of the others).
    if findings.answer_each(msg, args.text, HASHES) == 0 then
      msg:reply("Usage: !hash HASH..., with MD5, SHA-1 or SHA-256 hashes in hexadecimal")
    end
  end,
}
