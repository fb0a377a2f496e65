---@meta
-- LuaLS annotations for the modules Automator gives every script, so that editors complete
-- and check them. Nothing here runs: the host provides the real functions.

---JSON text to Lua values and back, for webhook payloads, alerts and API bodies.
---@class json
json = {}

---JSON's `null`. It is a value (true in a condition): compare with it, `x == json.null`.
---@type lightuserdata
json.null = nil

---Decodes strict RFC 8259 JSON. Objects become tables with string keys, arrays sequences,
---`null` becomes `json.null`; integer literals that fit 64 bits become integers, other
---numbers floats. Errors say the line, column and byte of the fault.
---@param text string
---@return any
function json.decode(text) end

---Encodes a value as JSON: compact, or with `options.indent` spaces per level (0 to 16).
---Object keys are sorted. A table is an array when marked by `json.array` or when its keys
---are exactly 1..n; an empty unmarked table is `{}`; any other table must have string keys.
---@param value any
---@param options? { indent?: integer }
---@return string
function json.encode(value, options) end

---Marks `t` as an array, so that it encodes as `[]` even when empty. Returns `t`.
---@generic T: table
---@param t T
---@return T
function json.array(t) end

---Messages for the operator, through the host's logger (standard error on the command line).
---@class log
log = {}

---@alias log.fields table<string, string|number|boolean>

---@param message any
---@param fields? log.fields entries become the record's metadata
function log.debug(message, fields) end

---@param message any
---@param fields? log.fields
function log.info(message, fields) end

---@param message any
---@param fields? log.fields
function log.warn(message, fields) end

---@param message any
---@param fields? log.fields
function log.error(message, fields) end

---The clock, from the host. In a durable run (`automator serve`) every reading is recorded,
---and a run resumed after a restart reads the same times again; `os.time()` and `os.date()`
---read the same clock.
---@class time
time = {}

---Seconds since the Unix epoch, with fractions.
---@return number
function time.now() end

---Suspends the run for `seconds` (0 to a year); other runs go on meanwhile. Fails inside a
---metamethod or a function the host calls (such as a `table.sort` comparison). A durable run
---resumed after a restart sleeps only what was left.
---@param seconds number
function time.sleep(seconds) end

---HTTP and HTTPS to the hosts the operator allows (`--allow-http HOST[:PORT]`), and no others.
---Each call suspends the run while it waits; in a durable run the response is recorded, and a
---run resumed after a restart gets it back without sending the request again.
---@class http
http = {}

---@class http.options
---@field url? string http:// or https://
---@field method? string GET (the default), POST, PUT, DELETE...
---@field headers? table<string, string>
---@field body? string
---@field timeout? number seconds; 30 by default

---@class http.response
---@field status integer any status is a response, 404 and 500 included
---@field headers table<string, string> names in lower case
---@field body string

---Sends a request. A host that is not allowed, a failure to connect or a timeout raises an
---error at the call. Redirects are not followed: a 3xx is a response like any other.
---@param options http.options
---@return http.response
function http.request(options) end

---@param url string
---@param options? http.options
---@return http.response
function http.get(url, options) end

---@param url string
---@param body string
---@param options? http.options
---@return http.response
function http.post(url, body, options) end
