-- The identity provider that holds an incident's account, and its actions: Okta
-- (scripts/integrations/okta.lua) or Microsoft Entra ID (entra.lua). Shared by the playbooks that
-- shut a compromised account out (playbooks/impossible_travel.lua).
--
--   local identity = require("lib.identity")
--   local provider, why = identity.provider(inc)
--   if provider then respond.act(provider.disable, { user = inc.fields.user }, inc) end

local identity = {}

-- Each provider's actions on an account, and the sources whose incidents name its accounts.
-- Entra first: where both are set up and the incident does not say, a team that had Entra alone
-- before keeps what it had.
identity.PROVIDERS = {
  {
    name = "Microsoft Entra ID",
    disable = "entra.disable_user",
    end_sessions = "entra.revoke_sessions",
    sources = { defender = true, sentinel = true, entra = true },
  },
  {
    name = "Okta",
    disable = "okta.suspend_user",
    end_sessions = "okta.clear_sessions",
    sources = { okta = true },
  },
}

--- Every provider's disabling action: a playbook's standing approvals.
function identity.disable_actions()
  local names = {}
  for i, provider in ipairs(identity.PROVIDERS) do names[i] = provider.disable end
  return names
end

--- The provider of `inc`'s account: the one its alert came from (its source, or a label naming
--- that source), else the first one set up. Nil and why when there is none: each integration's
--- reason, "the integration entra is not set up: ...; the integration okta is not set up: ...".
function identity.provider(inc)
  for _, provider in ipairs(identity.PROVIDERS) do
    if provider.sources[inc.source] then return provider end
    for _, label in ipairs(inc.labels or {}) do
      if provider.sources[label] then return provider end
    end
  end
  local whys = {}
  for i, provider in ipairs(identity.PROVIDERS) do
    local available, why = actions.available(provider.disable)
    if available then return provider end
    whys[i] = why
  end
  return nil, table.concat(whys, "; ")
end

return identity
