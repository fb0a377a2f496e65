-- What mappers read a tool's JSON with. Tools write null (json.null), "" or nothing at all for
-- what they do not know, and repeat a value across an alert's evidence:
--
--   local values = require("lib.values")
--   local text, object = values.text, values.object
--   local host = text(object(alert.device).hostname)    -- nil, not json.null or ""

local values = {}

--- `value` when it is text with something in it, else nil.
function values.text(value)
  return type(value) == "string" and value ~= "" and value or nil
end

--- `value` when it is a JSON object or array, else an empty table.
function values.object(value)
  return type(value) == "table" and value or {}
end

--- True when the list `list` (nil: none) holds `value`.
function values.has(list, value)
  for _, each in ipairs(values.object(list)) do
    if each == value then return true end
  end
  return false
end

--- `value` added to the list `list` once, when it is text with something in it.
function values.add(list, value)
  value = values.text(value)
  if value and not values.has(list, value) then list[#list + 1] = value end
end

--- True when the text `value` holds one of `words` (lower case), whatever its case.
function values.mentions(value, words)
  value = (values.text(value) or ""):lower()
  for _, word in ipairs(words) do
    if value:find(word, 1, true) then return true end
  end
  return false
end

--- The host name in `url` ("https://cdn.example.net/a" -> "cdn.example.net"), or nil.
function values.host_of(url)
  return type(url) == "string" and url:match("^%a[%w+.-]*://([^/:?#]+)") or nil
end

return values
