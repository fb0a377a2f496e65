-- Check Point Management API (R80 and later): block an IP address at the firewall.
-- https://sc1.checkpoint.com/documents/latest/APIs/ (Management API reference)
--
-- A block is a host object put in a group that an access rule drops. Create the group
-- (integrations.checkpoint.group, "Automator_Blocked" by default) and the rule once, by hand;
-- installing the policy is left to the firewall team's schedule.
--
-- Every change is one session, as the API wants it:
--   POST /login {"api-key": ...}                      -> {"sid": ...}; later calls send X-chkp-sid
--   POST /add-host {"name", "ip-address", "comments"} (the name exists: already blocked)
--   POST /set-group {"name", "members": {"add": NAME}}  (or "remove")
--   POST /publish {}                                  -> {"task-id": ...}
--   POST /discard {} after a failure, so that no half change stays pending
--   POST /logout {}
-- Errors are {"code", "message"} with a 4xx or 5xx status.
--
-- Set CHECKPOINT_URL (https://mgmt.example.com/web_api) and CHECKPOINT_API_KEY (an API key of an
-- administrator allowed to edit and publish), or integrations.checkpoint.* in the configuration.

--- Calls one command of the session; returns its answer, or raises the API's error as
--- { status, code, message } (the message with the details the API lists in `errors`).
local function command(config, sid, name, body)
  local headers = { ["content-type"] = "application/json" }
  if sid then headers["x-chkp-sid"] = sid end
  local response = http.post(config.base_url .. "/" .. name, json.encode(body or {}), { headers = headers, timeout = 60 })
  local ok, answer = pcall(json.decode, response.body)
  if response.status == 200 and ok then return answer end
  if not ok or type(answer) ~= "table" then
    error({ status = response.status, message = ("%s answered %d"):format(name, response.status) }, 0)
  end
  local message = tostring(answer.message)
  for _, detail in ipairs(type(answer.errors) == "table" and answer.errors or {}) do
    message = message .. "; " .. tostring(detail.message)
  end
  error({ status = response.status, code = answer.code, message = message }, 0)
end

--- Raises a command's error as people read it: "Check Point: MESSAGE (STATUS)".
local function fail(problem)
  if type(problem) == "table" then problem = ("%s (%s)"):format(problem.message, problem.status) end
  error("Check Point: " .. tostring(problem), 0)
end

--- Runs `change(sid)` in a session that is published when it succeeds, discarded when it fails,
--- and logged out of either way.
local function session(config, change)
  local ok, login = pcall(command, config, nil, "login", { ["api-key"] = config.api_key, ["session-name"] = "automator" })
  if not ok then fail(login) end
  local result
  ok, result = pcall(function()
    local result = change(login.sid)
    command(config, login.sid, "publish")
    return result
  end)
  if not ok then pcall(command, config, login.sid, "discard") end
  pcall(command, config, login.sid, "logout")
  if not ok then fail(result) end
  return result
end

--- The host object of an address: one per address, so blocking twice changes nothing.
local function host_name(ip) return "automator-" .. (ip:gsub(":", "_")) end

--- Changes the blocked group for one address in a session: `change(config, sid, name)` with the
--- name of the address's host object. Returns what the journal keeps.
local function change_group(context, ip, change)
  local config, name = context.config, host_name(ip)
  session(config, function(sid) change(config, sid, name) end)
  return { host = name, group = config.group }
end

local address = { ip = { type = "ip", required = true }, reason = { type = "string" } }

return integration {
  name = "Check Point",
  config = {
    base_url = { env = "CHECKPOINT_URL", required = true },
    api_key = { secret = true, env = "CHECKPOINT_API_KEY", required = true },
    group = "Automator_Blocked",
  },
  rate = { per_minute = 20 },
  actions = {
    -- No ttl: a block lasts until someone undoes it (`automator action undo ACT-…`, or the
    -- incident's revert). A block of a C2 address that lifted itself the next day would let the
    -- beacons through again while the incident still read "blocked". A team that wants blocks to
    -- expire adds `ttl = "24h"` here, knowing each one lifts by itself and the journal says when.
    block_ip = {
      description = "Adds the address to the blocked group and publishes; stays until undone",
      risk = "high",
      undo = "unblock_ip",
      params = address,
      run = function(params, context)
        return change_group(context, params.ip, function(config, sid, name)
          local ok, problem = pcall(command, config, sid, "add-host", {
            name = name, ["ip-address"] = params.ip,
            comments = ("%s (%s)"):format(params.reason or "blocked by automator", context.idempotency_key),
          })
          -- Blocked before (or by this very action, before a crash): its host object is there.
          local exists = not ok and type(problem) == "table" and tostring(problem.message):find("same name", 1, true)
          if not ok and not exists then error(problem, 0) end
          command(config, sid, "set-group", { name = config.group, members = { add = name } })
        end)
      end,
    },
    unblock_ip = {
      description = "Takes the address out of the blocked group, deletes its host object, and publishes",
      risk = "medium",
      params = address,
      run = function(params, context)
        return change_group(context, params.ip, function(config, sid, name)
          command(config, sid, "set-group", { name = config.group, members = { remove = name } })
          command(config, sid, "delete-host", { name = name })
        end)
      end,
    },
  },
}
