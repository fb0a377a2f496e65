-- PagerDuty Events API v2: page the on-call, and resolve the page.
-- https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
--   POST https://events.pagerduty.com/v2/enqueue
--        { routing_key, event_action = "trigger" | "resolve", dedup_key, payload = { summary,
--          source, severity } }                       -> 202 { status, message, dedup_key }
-- A 429 is tried again after a pause; 400 means the event is malformed.
-- Set PAGERDUTY_ROUTING_KEY (the integration key of an Events API v2 integration of a service).
-- The dedup key is the action's idempotency key, so a replayed trigger pages once, and the
-- resolve (the undo, given the same parameters) names the same alert.

local SEVERITIES = { critical = true, error = true, warning = true, info = true }

local function enqueue(config, event)
  event.routing_key = config.routing_key
  local response = http.post(config.base_url .. "/v2/enqueue", json.encode(event),
                             { headers = { ["content-type"] = "application/json" } })
  if response.status ~= 202 then
    local ok, answer = pcall(json.decode, response.body)
    local problem = ok and type(answer) == "table" and answer.message or response.body:sub(1, 200)
    error(("PagerDuty answered %d: %s"):format(response.status, tostring(problem)), 0)
  end
  return json.decode(response.body)
end

local page = {
  summary = { type = "string", required = true },
  severity = { type = "string", description = "critical, error, warning or info (default error)" },
  dedup_key = { type = "string", description = "the alert to resolve later (default: the action's key)" },
}

return integration {
  name = "PagerDuty",
  config = {
    base_url = "https://events.pagerduty.com",
    routing_key = { secret = true, env = "PAGERDUTY_ROUTING_KEY", required = true },
  },
  rate = { per_minute = 120 },
  actions = {
    trigger = {
      description = "Pages the service's on-call",
      risk = "low", undo = "resolve", params = page,
      run = function(params, context)
        local severity = params.severity or "error"
        if not SEVERITIES[severity] then error("severity must be critical, error, warning or info", 0) end
        local answer = enqueue(context.config, {
          event_action = "trigger", dedup_key = params.dedup_key or context.idempotency_key,
          payload = { summary = params.summary, severity = severity,
                      source = context.incident or "automator", custom_details = { requested_by = context.requested_by } },
        })
        return { dedup_key = answer.dedup_key, status = answer.status }
      end,
    },
    resolve = {
      description = "Resolves the alert a trigger opened",
      risk = "low", params = page,
      run = function(params, context)
        -- As the undo of a trigger, the key the trigger used: the same run and call.
        local key = params.dedup_key or context.idempotency_key:gsub("^undo/", "")
        local answer = enqueue(context.config, { event_action = "resolve", dedup_key = key })
        return { dedup_key = answer.dedup_key, status = answer.status }
      end,
    },
  },
}
