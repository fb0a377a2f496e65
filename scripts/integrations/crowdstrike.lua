-- CrowdStrike Falcon: find the host that has an address, network-contain a host, and lift the
-- containment.
-- https://falcon.crowdstrike.com/documentation (OAuth2 API; Hosts)
--   POST /oauth2/token (form: client_id, client_secret)              -> 201 { access_token }
--   GET  /devices/combined/devices/v1?filter=local_ip:'ADDRESS'       -> 200 { resources = { DEVICE... } }
--   POST /devices/entities/devices-actions/v2?action_name=contain     { ids = { DEVICE_ID } }
--        (or lift_containment)                                         -> 202 { resources, errors }
-- Set FALCON_CLIENT_ID and FALCON_CLIENT_SECRET (an API client with the Hosts: read and write
-- scopes), and integrations.crowdstrike.base_url for another cloud (https://api.eu-1.crowdstrike.com...).
-- Errors are { errors = { { code, message } } }.

--- Raises Falcon's error for a response that is not `expected`.
local function check(response, what, expected)
  if response.status == expected then return end
  local ok, answer = pcall(json.decode, response.body)
  local first = ok and type(answer) == "table" and type(answer.errors) == "table" and answer.errors[1]
  local problem = first and tostring(first.message) or response.body:sub(1, 200)
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
  check(response, action, 202)
  return { device_id = params.device_id, action = action }
end

--- The one device whose sensor reports `params.ip` as its local address. Two or more is an error
--- that lists them: containing the wrong one cuts off a host that did nothing.
local function find_host(params, context)
  local config = context.config
  -- FQL: local_ip:'10.20.4.31', percent-encoded.
  local filter = ("local_ip:'%s'"):format(params.ip):gsub("[^%w%.%-_]", function(c)
    return ("%%%02X"):format(c:byte())
  end)
  local response = http.get(("%s/devices/combined/devices/v1?filter=%s&sort=last_seen.desc&limit=10")
                              :format(config.base_url, filter),
                            { headers = { authorization = authorization(config) } })
  check(response, "devices", 200)
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

local device = { device_id = { type = "host", required = true, description = "the Falcon device id (aid)" } }

return integration {
  name = "CrowdStrike Falcon",
  config = {
    base_url = "https://api.crowdstrike.com",
    client_id = { env = "FALCON_CLIENT_ID", required = true },
    client_secret = { secret = true, env = "FALCON_CLIENT_SECRET", required = true },
  },
  rate = { per_minute = 100 },
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
  },
}
