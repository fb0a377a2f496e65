-- What the bot writes into a channel, defanged so that no chat client makes it a live link:
-- the indicators it names in its answers, and the titles, owners and reasons it echoes from
-- incidents and alerts (an alert's title is often the phishing URL itself). Pasted back,
-- defanged text is read as the indicators it names.
local defang = {}

-- The kinds that chat clients turn into links; hashes, CVEs and IPv6 addresses stay as written.
local LINKED = { url = true, domain = true, ipv4 = true, email = true }

--- One indicator: hxxp://evil-login[.]com/reset, evil-login[.]com, 203.0.113[.]45,
--- alice@evil-login[.]com (the scheme, and the last dot of the host).
function defang.indicator(value)
  local scheme, rest = value:match("^(%a[%w+.-]*://)(.*)$")
  local host, path = (rest or value):match("^([^/?#]*)(.*)$")
  host = host:gsub("%.([^.]*)$", "[.]%1")
  if scheme then scheme = scheme:gsub("^http", "hxxp"):gsub("^ftp", "fxp") end
  return (scheme or "") .. host .. path
end

--- `text` with each URL, domain, IPv4 and e-mail address in it defanged, the rest as written:
--- "Phish from http://evil.example/login" gives "Phish from hxxp://evil[.]example/login".
function defang.text(text)
  local parts, rest = {}, text
  while true do
    -- intel.extract gives each indicator once: the first is where the next one starts, and
    -- the text after it is read again for the others, a repeated one included.
    local found = intel.extract(rest)[1]
    if found == nil then break end
    parts[#parts + 1] = rest:sub(1, found.first - 1)
    parts[#parts + 1] = LINKED[found.type] and defang.indicator(found.value) or rest:sub(found.first, found.last)
    rest = rest:sub(found.last + 1)
  end
  parts[#parts + 1] = rest
  return table.concat(parts)
end

return defang
