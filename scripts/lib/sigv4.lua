-- AWS Signature Version 4: the headers that sign a request to an AWS API, as the IAM User Guide
-- describes it ("Create a signed AWS API request"):
--
--   canonical request  METHOD \n PATH \n QUERY \n HEADERS (name:value, one a line) \n
--                      SIGNED HEADERS (names; joined) \n SHA-256 of the body, in hex
--   string to sign     AWS4-HMAC-SHA256 \n 20150830T123600Z \n 20150830/REGION/SERVICE/aws4_request \n
--                      SHA-256 of the canonical request, in hex
--   signing key        HMAC("AWS4" .. secret, date) -> region -> service -> "aws4_request"
--   Authorization      AWS4-HMAC-SHA256 Credential=KEY_ID/SCOPE, SignedHeaders=..., Signature=HEX
--
-- The host computes the hashes and the HMAC chain (http.sha256, http.hmac_sha256 with a list), so
-- the secret key and the keys derived from it never reach the script. Shared by the integrations
-- that call AWS (integrations/aws.lua); lib/sigv4_test.lua checks it against AWS's published test
-- vector.

local sigv4 = {}

--- The query string in canonical order: its name=value pairs, already encoded, sorted.
local function canonical_query(query)
  if query == "" then return "" end
  local pairs_ = {}
  for pair in query:gmatch("[^&]+") do
    pairs_[#pairs_ + 1] = pair:find("=", 1, true) and pair or pair .. "="
  end
  table.sort(pairs_)
  return table.concat(pairs_, "&")
end

--- The headers to send with a request signed for `request.service` in `request.region`:
---
---   sigv4.sign{ method = "POST", url = "https://iam.amazonaws.com/", body = form,
---               headers = { ["content-type"] = "application/x-www-form-urlencoded; charset=utf-8" },
---               region = "us-east-1", service = "iam", time = os.time(),
---               access_key_id = config.access_key_id, secret_access_key = config.secret_access_key,
---               session_token = config.session_token }
---
--- `headers` (names in any case) are signed along with host and x-amz-date, and
--- x-amz-security-token when there is a session token (temporary credentials); the result has
--- them all, and authorization. `time` is seconds since the epoch (UTC), or "20150830T123600Z".
--- The URL's path and query are signed as given: encode them first (lib/url.lua's url.escape).
function sigv4.sign(request)
  local scheme_less = request.url:match("^https?://(.*)$")
  if not scheme_less then error("sigv4.sign: the url must be http:// or https://, got " .. tostring(request.url), 2) end
  local host, path, query = scheme_less:match("^([^/?]+)([^?]*)%??(.*)$")
  local stamp = type(request.time) == "string" and request.time or os.date("!%Y%m%dT%H%M%SZ", request.time)

  local headers = { host = host, ["x-amz-date"] = stamp, ["x-amz-security-token"] = request.session_token }
  for name, value in pairs(request.headers or {}) do headers[name:lower()] = value end
  local names = {}
  for name in pairs(headers) do names[#names + 1] = name end
  table.sort(names)
  local lines = {}
  for i, name in ipairs(names) do
    -- Values trimmed, their runs of spaces one space.
    lines[i] = name .. ":" .. (headers[name]:gsub("^%s+", ""):gsub("%s+$", ""):gsub("%s+", " "))
  end
  local signed = table.concat(names, ";")

  local canonical = table.concat({
    request.method:upper(),
    path == "" and "/" or path,
    canonical_query(query),
    table.concat(lines, "\n") .. "\n",
    signed,
    http.sha256(request.body or ""),
  }, "\n")
  local scope = ("%s/%s/%s/aws4_request"):format(stamp:sub(1, 8), request.region, request.service)
  local to_sign = table.concat({ "AWS4-HMAC-SHA256", stamp, scope, http.sha256(canonical) }, "\n")
  local signature = http.hmac_sha256("AWS4" .. request.secret_access_key,
    { stamp:sub(1, 8), request.region, request.service, "aws4_request", to_sign })

  headers.authorization = ("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s")
    :format(request.access_key_id, scope, signed, signature)
  return headers
end

return sigv4
