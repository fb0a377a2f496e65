-- Text made fit for a URL, as RFC 3986 and AWS Signature Version 4 want it: every byte but a
-- letter, a digit or one of - . _ ~ (the "unreserved" characters) written %XX, in upper case.
-- For a query's value, a form's field or a path segment:
--
--   local url = require("lib.url")
--   local query = "$filter=" .. url.escape("lastUpdateDateTime gt " .. cursor)
--   local path = "/users/" .. url.escape(user, "@")   -- an address's @ kept as it is

local url = {}

--- `text` (or a number) percent-encoded; the characters of `keep` are kept as they are too.
function url.escape(text, keep)
  return (tostring(text):gsub("[^%w%-%._~" .. (keep or "") .. "]",
                              function(c) return ("%%%02X"):format(c:byte()) end))
end

return url
