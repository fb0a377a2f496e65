-- !hash 44d88612fea8a8f36de82e1278abb02f: the verdict on a file hash (MD5, SHA-1 or SHA-256).
local findings = require("lib.findings")

local HASHES = { md5 = true, sha1 = true, sha256 = true }

return command {
  name = "hash",
  usage = "!hash MD5|SHA1|SHA256",
  help = "the reputation of a file by its hash",
  run = function(msg, args)
    for _, each in ipairs(intel.extract(args.text)) do
      if HASHES[each.type] then return findings.answer(msg, each.value, each.type) end
    end
    msg:reply("Usage: !hash HASH, with an MD5, SHA-1 or SHA-256 in hexadecimal")
  end,
}
