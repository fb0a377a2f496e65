-- CrowdStrike Falcon: network-contain a host, and lift the containment.
-- https://falcon.crowdstrike.com/documentation (OAuth2 API; Hosts: devices-actions v2)
--   POST /oauth2/token (form: client_id, client_secret)              -> 201 { access_token }
--   POST /devices/entities/devices-actions/v2?action_name=contain     { ids = { DEVICE_ID } }
--        (or lift_containment)                                         -> 202 { resources, errors }
-- Set FALCON_CLIENT_ID and FALCON_CLIENT_SECRET (an API client with the Hosts: write scope), and
-- integrations.crowdstrike.base_url for another cloud (https://api.eu-1.crowdstrike.com...).
-- Errors are { errors = { { code, message } } }.

--- Raises Falcon's error for a response that is not `expected`.
local function check(response, what, expected)
  if response.status == expected then return end
  local ok, answer = pcall(json.decode, response.body)
  local first = ok and type(answer) == "table" and type(answer.errors) == "table" and answer.errors[1]
  local problem = first and tostring(first.message) or response.body:sub(1, 200)
  error(("CrowdStrike Falcon, %s: %d %s"):format(what, response.status, problem), 0)
end

local function device_action(params, context, action)
  local config = context.config
  local login = http.post(config.base_url .. "/oauth2/token",
                          ("client_id=%s&client_secret=%s"):format(config.client_id, config.client_secret),
                          { headers = { ["content-type"] = "application/x-www-form-urlencoded" } })
  check(login, "token", 201)
  local response = http.post(config.base_url .. "/devices/entities/devices-actions/v2?action_name=" .. action,
                             json.encode({ ids = { params.device_id } }),
                             { headers = { authorization = "Bearer " .. json.decode(login.body).access_token,
                                           ["content-type"] = "application/json" } })
  check(response, action, 202)
  return { device_id = params.device_id, action = action }
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
