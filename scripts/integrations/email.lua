-- E-mail through an SMTP relay: tell people (an on-call list, a mailbox the service desk reads).
--
-- SMTP (RFC 5321) with STARTTLS, required unless starttls says otherwise (opportunistic: TLS when
-- the relay offers it; off: a relay on a network you trust), the relay's certificate checked
-- against the system's trust store or ca_file (a PEM file). With a username, a login (AUTH PLAIN
-- or LOGIN) after TLS, never without: the password is a secret this script never sees. Set
-- SMTP_SERVER (smtp://relay.example.com:587), SMTP_FROM (soc-automation@example.com), and as
-- needed SMTP_STARTTLS, SMTP_CA_FILE, SMTP_USERNAME and SMTP_PASSWORD, or integrations.email.* in
-- the configuration. The Message-ID is made from the action's idempotency key, so a message sent
-- again by a replay can be recognised.

return integration {
  name = "E-mail",
  config = {
    server = { env = "SMTP_SERVER", required = true },
    from = { env = "SMTP_FROM", required = true },
    starttls = { env = "SMTP_STARTTLS", default = "required" },
    ca_file = { env = "SMTP_CA_FILE" },
    username = { env = "SMTP_USERNAME" },
    password = { env = "SMTP_PASSWORD", secret = true },
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
          starttls = context.config.starttls, ca_file = context.config.ca_file,
          username = context.config.username, password = context.config.password,
        }
        return { message_id = id, to = to }
      end,
    },
  },
}
