-- A generic signed webhook: tells a system of yours about an incident or an action, as JSON,
-- signed so that the receiver can check it comes from automator and was not changed or replayed.
--
--   POST {url}   content-type: application/json
--                x-automator-timestamp: seconds since 1970
--                x-automator-signature: sha256=HEX, the HMAC-SHA256 with the shared secret of
--                                       TIMESTAMP .. "." .. BODY (as Slack and Stripe sign theirs)
--                idempotency-key: the action's key, the same when a replay sends it again
--   body: { event, text, incident, requested_by, sent_at }
--
-- The receiver recomputes the signature over the timestamp and the raw body, compares it in
-- constant time, and refuses a timestamp more than five minutes old. Any 2xx is success.
-- Set WEBHOOK_URL and WEBHOOK_SECRET, or integrations.webhook.* in the configuration.

return integration {
  name = "Signed webhook",
  config = {
    url = { env = "WEBHOOK_URL", required = true },
    secret = { secret = true, env = "WEBHOOK_SECRET", required = true },
  },
  rate = { per_second = 10 },
  actions = {
    notify = {
      description = "Posts the event to the webhook, signed",
      risk = "low",
      params = { event = { type = "string", required = true }, text = { type = "string" } },
      run = function(params, context)
        local config = context.config
        local timestamp = tostring(os.time())
        local body = json.encode({ event = params.event, text = params.text, incident = context.incident,
                                   requested_by = context.requested_by, sent_at = tonumber(timestamp) })
        local response = http.post(config.url, body, { headers = {
          ["content-type"] = "application/json",
          ["x-automator-timestamp"] = timestamp,
          ["x-automator-signature"] = "sha256=" .. http.hmac_sha256(config.secret, timestamp .. "." .. body),
          ["idempotency-key"] = context.idempotency_key,
        } })
        if response.status < 200 or response.status > 299 then
          error(("the webhook answered %d: %s"):format(response.status, response.body:sub(1, 200)), 0)
        end
        return { status = response.status }
      end,
    },
  },
}
