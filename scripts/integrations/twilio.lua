-- Twilio Programmable Messaging: send an SMS.
-- https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource
--   POST /2010-04-01/Accounts/{AccountSid}/Messages.json, HTTP Basic authentication (the
--   account SID and its auth token), form-encoded To, From, Body   -> 201 { sid, status }
-- Errors are { code, message, more_info, status }.
--
-- Set TWILIO_ACCOUNT_SID, TWILIO_FROM (a number of the account, +15551234567) and
-- TWILIO_CREDENTIALS, the base64 of "ACCOUNT_SID:AUTH_TOKEN" on one line:
-- `printf %s 'AC...:TOKEN' | base64 -w0` (GNU; macOS: without -w0). Scripts never see it.

--- `text` form-encoded (application/x-www-form-urlencoded).
local function encode(text)
  return (tostring(text):gsub("[^%w%-%._~]", function(c) return ("%%%02X"):format(c:byte()) end))
end

return integration {
  name = "Twilio",
  config = {
    base_url = "https://api.twilio.com",
    account_sid = { env = "TWILIO_ACCOUNT_SID", required = true },
    from = { env = "TWILIO_FROM", required = true },
    credentials = { secret = true, env = "TWILIO_CREDENTIALS", required = true },
  },
  rate = { per_second = 1 },
  actions = {
    send_sms = {
      description = "Sends a text message",
      risk = "low",
      params = { to = { type = "string", required = true, description = "E.164, as +15551234567" },
                 text = { type = "string", required = true } },
      run = function(params, context)
        local config = context.config
        if not params.to:match("^%+%d+$") then error("to must be a number in E.164 form, as +15551234567", 0) end
        local response = http.post(
          ("%s/2010-04-01/Accounts/%s/Messages.json"):format(config.base_url, config.account_sid),
          ("To=%s&From=%s&Body=%s"):format(encode(params.to), encode(config.from), encode(params.text)),
          { headers = { authorization = "Basic " .. config.credentials,
                        ["content-type"] = "application/x-www-form-urlencoded" } })
        local ok, answer = pcall(json.decode, response.body)
        if response.status ~= 201 then
          local problem = ok and type(answer) == "table" and ("%s (code %s)"):format(answer.message, answer.code)
          error(("Twilio answered %d: %s"):format(response.status, problem or response.body:sub(1, 200)), 0)
        end
        return { sid = answer.sid, status = answer.status }
      end,
    },
  },
}
