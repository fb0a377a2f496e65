-- CrowdStrike Falcon: fetch its alerts as incidents, find the host that has an address,
-- network-contain a host, lift the containment, and close an alert (reopen it).
-- https://falcon.crowdstrike.com/documentation (OAuth2 API; Hosts; Alerts), as FalconPy's Hosts and
-- Alerts service collections call it:
--   POST /oauth2/token (form: client_id, client_secret)              -> 201 { access_token }
--   GET  /devices/combined/devices/v1?filter=local_ip:'ADDRESS'       -> 200 { resources = { DEVICE... } }
--   POST /devices/entities/devices-actions/v2?action_name=contain     { ids = { DEVICE_ID } }
--        (or lift_containment)                                         -> 202 { resources, errors }
--   GET  /alerts/queries/alerts/v2?filter=FQL&sort=updated_timestamp|asc&limit=N
--        -> 200 { meta = { pagination = { offset, limit, total } }, resources = { COMPOSITE_ID... } }
--   POST /alerts/entities/alerts/v2  { composite_ids = { ... } }     -> 200 { resources = { ALERT... } }
--   PATCH /alerts/entities/alerts/v3 { composite_ids = { ... }, action_parameters = { { name, value }... } }
--        -> 200 { meta, errors = {} }                       (FalconPy's update_alerts_v3)
-- Set FALCON_CLIENT_ID and FALCON_CLIENT_SECRET (an API client with the Hosts: read and write
-- scopes, Alerts: read for the fetch, Alerts: write for close_alert), and
-- integrations.crowdstrike.base_url for another cloud (https://api.eu-1.crowdstrike.com...).
-- Errors are { errors = { { code, message } } }. Falcon answers too many requests with a 429 that
-- says when to ask again in X-RateLimit-RetryAfter (epoch seconds), not Retry-After: `http` waits
-- until then (a minute at most) and asks again, and a 429 that outlasts its tries fails the fetch,
-- which keeps its cursor and is tried again after its pause.
--
-- The fetch: every minute, the alerts updated since the last one seen go through
-- scripts/mappers/crowdstrike.lua, as an alert posted to POST /api/v1/ingest/crowdstrike would, and
-- become incidents (an update joins the incident its alert opened). It runs once the configuration
-- says so, `integrations.crowdstrike.fetch: true`: a team that set Falcon up for containment, and
-- gets its alerts another way, does not start opening incidents from them with a new version of
-- this file. `automator fetch run crowdstrike --dry-run` shows what a fetch would open, storing
-- nothing.
--
-- close_alert sets the alert closed with a comment and a tag that says how it was resolved here
-- (`automator/false_positive`...), which the Falcon console filters by: the Alerts API has no
-- field for a resolution. scripts/lib/writeback.lua runs it when the incident made of the alert
-- closes. Falcon takes no idempotency key: the alert is read first, and one closed already (in
-- the console, or by this action before a crash) is left as it is, without a second comment.

local escape = require("lib.url").escape

--- Raises Falcon's error for a response that is not `expected`: its message, the API client's
--- `scope` that a 403 wants, and for a 429 when Falcon takes requests again.
local function check(response, what, expected, scope)
  if response.status == expected then return end
  local ok, answer = pcall(json.decode, response.body)
  local first = ok and type(answer) == "table" and type(answer.errors) == "table" and answer.errors[1]
  local problem = first and tostring(first.message) or response.body:sub(1, 200)
  local again = response.status == 429 and tonumber(response.headers["x-ratelimit-retryafter"])
  if again then problem = problem .. os.date("! (Falcon takes requests again at %H:%M:%S UTC)", math.floor(again)) end
  if response.status == 403 and scope then problem = ("%s (give the API client the %s scope)"):format(problem, scope) end
  error(("CrowdStrike Falcon, %s: %d %s"):format(what, response.status, problem), 0)
end

--- The Authorization header of a new OAuth2 token.
local function authorization(config)
  local login = http.post(config.base_url .. "/oauth2/token",
                          ("client_id=%s&client_secret=%s"):format(config.client_id, config.client_secret),
                          { headers = { ["content-type"] = "application/x-www-form-urlencoded" } })
  check(login, "token", 201)
  return "Bearer " .. json.decode(login.body).access_token
end

local function device_action(params, context, action)
  local config = context.config
  local response = http.post(config.base_url .. "/devices/entities/devices-actions/v2?action_name=" .. action,
                             json.encode({ ids = { params.device_id } }),
                             { headers = { authorization = authorization(config),
                                           ["content-type"] = "application/json" } })
  check(response, action, 202, "Hosts: write")
  return { device_id = params.device_id, action = action }
end

--- The one device whose sensor reports `params.ip` as its local address. Two or more is an error
--- that lists them: containing the wrong one cuts off a host that did nothing.
local function find_host(params, context)
  local config = context.config
  local filter = escape(("local_ip:'%s'"):format(params.ip))
  local response = http.get(("%s/devices/combined/devices/v1?filter=%s&sort=last_seen.desc&limit=10")
                              :format(config.base_url, filter),
                            { headers = { authorization = authorization(config) } })
  check(response, "devices", 200, "Hosts: read")
  local found = json.decode(response.body).resources
  found = type(found) == "table" and found or {}
  if #found == 0 then
    error(("CrowdStrike Falcon: no device reports the address %s: no sensor there, or it has another address now")
      :format(params.ip), 0)
  end
  local function named(device)
    return ("%s (%s, last seen %s)"):format(device.hostname, device.device_id, device.last_seen)
  end
  if #found > 1 then
    local names = {}
    for i, device in ipairs(found) do names[i] = named(device) end
    error(("CrowdStrike Falcon: %d devices report the address %s: %s; contain the right one by its device id")
      :format(#found, params.ip, table.concat(names, ", ")), 0)
  end
  local device = found[1]
  return { device_id = device.device_id, hostname = device.hostname, last_seen = device.last_seen,
           platform = device.platform_name, status = device.status }
end

--- The body of Falcon's answer `response` (checked by `check`) when it has `resources`.
local function resources(response, what)
  local ok, answer = pcall(json.decode, response.body)
  if not ok or type(answer) ~= "table" or type(answer.resources) ~= "table" then
    error(("CrowdStrike Falcon, %s: the answer has no resources: %s"):format(what, response.body:sub(1, 200)), 0)
  end
  return answer
end

--- One page of the alerts updated after `cursor` (the first time, those of the last `first_window`),
--- oldest update first, as FQL sorts them, with the cursor after them.
---
--- The cursor is the last alert's updated_timestamp, asked for with "after" (`>`): an alert
--- updated later comes again, and joins its incident. Each page asks afresh from the cursor, never
--- by offset, which an alert updated between two pages would shift. A full page's last instant may
--- go on past it, so its alerts wait for the next page, asked for at once (`more`), from the
--- instant before.
local function fetch_alerts(context, cursor)
  local config = context.config
  local since = cursor or os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() - tonumber(config.first_window))
  local page_size = tonumber(config.page_size)
  local bearer = authorization(config)
  local query = http.get(("%s/alerts/queries/alerts/v2?filter=%s&sort=%s&limit=%d"):format(config.base_url,
    escape(("updated_timestamp:>'%s'"):format(since)), escape("updated_timestamp|asc"), page_size),
    { headers = { authorization = bearer } })
  check(query, "alerts query", 200, "Alerts: read")
  local found = resources(query, "alerts query")
  local ids = found.resources
  if #ids == 0 then return { alerts = {}, cursor = since } end

  local details = http.post(config.base_url .. "/alerts/entities/alerts/v2", json.encode({ composite_ids = ids }),
                            { headers = { authorization = bearer, ["content-type"] = "application/json" } })
  check(details, "alerts", 200, "Alerts: read")
  -- In the query's order, which is sorted; the entities come in any. One gone meanwhile is left out.
  local by_id = {}
  for _, alert in ipairs(resources(details, "alerts").resources) do by_id[alert.composite_id] = alert end
  local alerts = {}
  for _, id in ipairs(ids) do alerts[#alerts + 1] = by_id[id] end
  if #alerts == 0 then return { alerts = {}, cursor = since } end

  local pagination = type(found.meta) == "table" and type(found.meta.pagination) == "table" and found.meta.pagination
  local more = (pagination and tonumber(pagination.total) or #ids) > #ids
  if more then
    local last = alerts[#alerts].updated_timestamp
    while #alerts > 0 and alerts[#alerts].updated_timestamp == last do alerts[#alerts] = nil end
    if #alerts == 0 then
      error(("more than %d alerts were updated at %s: raise integrations.crowdstrike.page_size, which loses none of them")
        :format(page_size, last), 0)
    end
  end
  return { alerts = alerts, cursor = alerts[#alerts].updated_timestamp, more = more }
end

-- The resolutions of a close here, each carried to Falcon as the tag `automator/RESOLUTION`.
local RESOLUTIONS = { true_positive = true, benign = true, false_positive = true, undetermined = true }

--- What close_alert and its undo are given.
local CLOSING = {
  alert = { type = "string", required = true, description = "the alert's composite id, its source_ref here" },
  resolution = { type = "string", required = true,
                 description = "true_positive, benign, false_positive or undetermined: tagged automator/RESOLUTION" },
  comment = { type = "string", description = "appended to the alert's comments" },
}

--- The tag that says how the alert was resolved here, or an error that names the resolutions.
local function resolution_tag(resolution)
  if not RESOLUTIONS[resolution] then
    error(("resolution must be true_positive, benign, false_positive or undetermined, got %q"):format(resolution), 0)
  end
  return "automator/" .. resolution
end

--- The alert `id` as Falcon has it, or an error that says it has none by that id.
local function read_alert(config, bearer, id, what)
  local response = http.post(config.base_url .. "/alerts/entities/alerts/v2", json.encode({ composite_ids = { id } }),
                             { headers = { authorization = bearer, ["content-type"] = "application/json" } })
  check(response, what, 200, "Alerts: read")
  local alert = resources(response, what).resources[1]
  if type(alert) ~= "table" then
    error(("CrowdStrike Falcon, %s: no alert %s: check its composite id (the incident's source_ref)"):format(what, id), 0)
  end
  return alert
end

--- Applies `changes` ({ name, value } pairs, as the Alerts API's action_parameters) to the alert `id`.
local function update_alert(config, bearer, id, changes, what)
  local response = http.request{
    method = "PATCH", url = config.base_url .. "/alerts/entities/alerts/v3",
    body = json.encode({ composite_ids = { id }, action_parameters = changes }),
    headers = { authorization = bearer, ["content-type"] = "application/json" },
  }
  check(response, what, 200, "Alerts: write")
end

--- Closes the alert with the resolution's tag and the comment, unless it is closed already.
local function close_alert(params, context)
  local tag = resolution_tag(params.resolution)
  local config = context.config
  local bearer = authorization(config)
  local alert = read_alert(config, bearer, params.alert, "close")
  -- Closed in the console meanwhile (or by this very action, before a crash): whoever closed it
  -- said how, and a comment again would say it twice.
  if alert.status == "closed" then return { alert = params.alert, status = "closed", closed_before = true } end
  local changes = { { name = "update_status", value = "closed" }, { name = "add_tag", value = tag } }
  if params.comment then changes[#changes + 1] = { name = "append_comment", value = params.comment } end
  update_alert(config, bearer, params.alert, changes, "close")
  return { alert = params.alert, status = "closed", tag = tag }
end

--- Reopens the alert close_alert closed, without the tag it added.
local function reopen_alert(params, context)
  local config = context.config
  update_alert(config, authorization(config), params.alert, {
    { name = "update_status", value = "reopened" }, { name = "remove_tag", value = resolution_tag(params.resolution) },
  }, "reopen")
  return { alert = params.alert, status = "reopened" }
end

local device = { device_id = { type = "host", required = true, description = "the Falcon device id (aid)" } }

return integration {
  name = "CrowdStrike Falcon",
  config = {
    base_url = "https://api.crowdstrike.com",
    client_id = { env = "FALCON_CLIENT_ID", required = true },
    client_secret = { secret = true, env = "FALCON_CLIENT_SECRET", required = true },
    -- How far back the first fetch looks, in seconds: not the tenant's whole history.
    first_window = 3600,
    -- Alerts a page: more updated in one interval are fetched page after page, at once.
    page_size = 100,
  },
  rate = { per_minute = 100 },
  fetch = { every = "1m", source = "crowdstrike", opt_in = true, run = fetch_alerts },
  actions = {
    -- Changes nothing: an action, recorded, so that the incident says which device was meant. Its
    -- address is a host, not an ip: the protected networks (our own) refuse an ip, and every host
    -- this looks up is in them.
    find_host = {
      description = "Finds the device whose sensor reports this local address",
      risk = "low",
      params = { ip = { type = "host", required = true, description = "the host's own address" } },
      run = find_host,
    },
    contain_host = {
      description = "Cuts the host off the network but for the Falcon cloud",
      risk = "critical", undo = "lift_containment", params = device,
      run = function(params, context) return device_action(params, context, "contain") end,
    },
    lift_containment = {
      description = "Gives the host its network back",
      risk = "medium", params = device,
      run = function(params, context) return device_action(params, context, "lift_containment") end,
    },
    close_alert = {
      description = "Closes the Falcon alert, tagged with how it was resolved (one closed there already is left as "
        .. "it is)",
      risk = "medium", undo = "reopen_alert", params = CLOSING, on_closed = true, run = close_alert,
    },
    reopen_alert = {
      description = "Reopens a closed Falcon alert, without the resolution's tag",
      risk = "low", params = CLOSING, on_closed = true, run = reopen_alert,
    },
  },
}
