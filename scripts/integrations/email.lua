-- E-mail through an SMTP relay: tell people (an on-call list, a mailbox the service desk reads).
--
-- Plain SMTP (RFC 5321), without TLS or authentication: for a relay on the local network that
-- accepts the SOC's mail. Set SMTP_SERVER (smtp://relay.example.com:25) and SMTP_FROM
-- (soc-automation@example.com), or integrations.email.* in the configuration. The Message-ID is
-- made from the action's idempotency key, so a message sent again by a replay can be recognised.

return integration {
  name = "E-mail",
  config = {
    server = { env = "SMTP_SERVER", required = true },
    from = { env = "SMTP_FROM", required = true },
  },
  rate = { per_second = 5 },
  actions = {
    send_email = {
      description = "Sends a plain-text message",
      risk = "low",
      params = {
        to = { type = "string", required = true, description = "addresses, separated by commas" },
        subject = { type = "string", required = true },
        text = { type = "string", required = true },
      },
      run = function(params, context)
        local to = {}
        for address in params.to:gmatch("[^,%s]+") do to[#to + 1] = address end
        local id = smtp.send{
          server = context.config.server, from = context.config.from, to = to,
          subject = params.subject, text = params.text, message_id = context.idempotency_key,
        }
        return { message_id = id, to = to }
      end,
    },
  },
}
