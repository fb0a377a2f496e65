-- Microsoft Sentinel's incidents, fetched every minute through Azure Resource Manager: each
-- incident new or updated since the last fetch, with its entities (hosts, accounts, addresses,
-- files...), goes through scripts/mappers/sentinel.lua, as one posted to
-- POST /api/v1/ingest/sentinel would, and becomes an incident (an update joins the incident it
-- opened). `automator fetch list` shows where the fetch is; `automator fetch run sentinel`
-- fetches now.
-- https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow
-- https://learn.microsoft.com/rest/api/securityinsights/incidents/list
-- https://learn.microsoft.com/rest/api/securityinsights/incidents/list-entities
--
-- Register an application in Entra ID, give it the Microsoft Sentinel Reader role on the
-- workspace (its resource group will do), and set SENTINEL_TENANT_ID, SENTINEL_CLIENT_ID,
-- SENTINEL_CLIENT_SECRET, and the workspace's subscription, resource_group and workspace (its
-- name, as the portal shows it) under integrations.sentinel in the configuration. Each fetch
-- gets a token:
--   POST {login_url}/{tenant}/oauth2/v2.0/token  (form: client_id, client_secret, grant_type,
--        scope=https://management.azure.com/.default)           -> { access_token, expires_in }
-- then asks for a page of the incidents modified after the cursor (the first time, those of the
-- last `first_window`), oldest first, and each incident's entities:
--   GET  {workspace}/incidents?api-version=2024-03-01&$filter=properties/lastModifiedTimeUtc gt {cursor}
--        &$orderby=properties/lastModifiedTimeUtc asc&$top={page_size}   -> { value, nextLink }
--   POST {workspace}/incidents/{name}/entities?api-version=2024-03-01     -> { entities, metaData }
-- where {workspace} is {management_url}/subscriptions/{subscription}/resourceGroups/
-- {resource_group}/providers/Microsoft.OperationalInsights/workspaces/{workspace}/providers/
-- Microsoft.SecurityInsights. The cursor moves to the page's last lastModifiedTimeUtc, and when
-- the page is full (a nextLink), the next one is asked for at once, afresh from the cursor, never
-- by nextLink's offset, which an incident modified meanwhile would shift; the incidents at the full
-- page's last instant wait for it, since that instant may go on past the page. A run stays short
-- (a page and its entities) whatever the backlog. Azure answers errors as
-- { error = { code, message } }; a 429's Retry-After is waited out by `http`. The token comes from
-- lib/microsoft.lua, which says how (and how the client secret must be written).
--
-- Its actions close an incident, reopen it and comment on it (scripts/lib/writeback.lua closes
-- the incident ours came from when ours closes); they need the Microsoft Sentinel Responder role
-- instead of Reader:
-- https://learn.microsoft.com/rest/api/securityinsights/incidents/get
-- https://learn.microsoft.com/rest/api/securityinsights/incidents/create-or-update
-- https://learn.microsoft.com/rest/api/securityinsights/incident-comments/create-or-update
--   GET {workspace}/incidents/{name}?api-version=2024-03-01      -> { etag, properties = { title, ... } }
--   PUT {workspace}/incidents/{name}?api-version=2024-03-01
--       { etag, properties = { title, severity, status, classification, classificationReason,
--         classificationComment, ... } }                          -> 200 the incident
--   PUT {workspace}/incidents/{name}/comments/{id}?api-version=2024-03-01
--       { properties = { message } }                              -> 200 or 201 the comment
-- A PUT replaces the incident: it carries every writable property as read, the change applied,
-- and the etag read with them, so that an edit made in Sentinel meanwhile is refused (409 or
-- 412) rather than overwritten; the change is then made again once, on a fresh read.

local API_VERSION = "2024-03-01"

local sentinel = require("lib.microsoft").api("Microsoft Sentinel", "https://management.azure.com/.default")
local escape = require("lib.url").escape

--- What Azure's refusals of a read mean here.
local ADVICE = {
  [403] = "give the application the Microsoft Sentinel Reader role on the workspace",
  [404] = "check integrations.sentinel's subscription, resource_group and workspace",
}

--- What Azure's refusals of a change mean here.
local CHANGE_ADVICE = {
  [403] = "give the application the Microsoft Sentinel Responder role on the workspace",
  [404] = "no such incident: check its name (the incident's source_ref) and integrations.sentinel's subscription, "
    .. "resource_group and workspace",
  [409] = "the incident changed in Sentinel while it was being changed here, twice: run the action again",
  [412] = "the incident changed in Sentinel while it was being changed here, twice: run the action again",
}

-- The reasons each classification may be closed with (Sentinel's IncidentClassificationReason),
-- the first the default: every one but Undetermined must have one, or Sentinel answers 400.
local REASONS = {
  TruePositive = { "SuspiciousActivity" },
  BenignPositive = { "SuspiciousButExpected" },
  FalsePositive = { "IncorrectAlertLogic", "InaccurateData" },
  Undetermined = {},
}

-- The properties an incident's PUT may carry (the others are read-only), copied from the read.
local WRITABLE = { "title", "description", "severity", "status", "owner", "firstActivityTimeUtc",
                   "lastActivityTimeUtc", "classification", "classificationReason", "classificationComment" }

--- The workspace's Security Insights URL, which the incidents are under.
local function workspace_of(config)
  return ("%s/subscriptions/%s/resourceGroups/%s/providers/Microsoft.OperationalInsights/workspaces/%s"
    .. "/providers/Microsoft.SecurityInsights"):format(config.management_url, config.subscription,
    config.resource_group, config.workspace)
end

--- The URL of the incident `name`, with `suffix` (a comment's path) when given.
local function incident_url(config, name, suffix)
  return ("%s/incidents/%s%s?api-version=%s"):format(workspace_of(config), escape(name), suffix or "", API_VERSION)
end

--- Reads the incident `name` and PUTs it back with `change(properties)` applied, under the etag
--- read; an edit in Sentinel in between (409, 412) has it read and changed once more. `change`
--- returns false to leave the incident as it is. Returns its properties as they are now.
local function change_incident(config, name, what, change)
  local url, send = incident_url(config, name), sentinel.sender(http, config)
  for attempt = 1, 2 do
    local read = send("GET", url)
    sentinel.check(read, what, nil, CHANGE_ADVICE)
    local incident = json.decode(read.body)
    local properties = {}
    for _, key in ipairs(WRITABLE) do properties[key] = incident.properties[key] end
    -- Each label's type is read-only: its name alone goes back.
    local labels = json.array({})
    for _, label in ipairs(type(incident.properties.labels) == "table" and incident.properties.labels or {}) do
      labels[#labels + 1] = { labelName = label.labelName }
    end
    properties.labels = labels
    if change(properties) == false then return incident.properties end
    local written = send("PUT", url, { etag = incident.etag, properties = properties })
    if (written.status ~= 409 and written.status ~= 412) or attempt == 2 then
      sentinel.check(written, what, nil, CHANGE_ADVICE)
      return json.decode(written.body).properties
    end
  end
end

--- The id of a comment written by the action whose idempotency key is `key`: a UUID made of
--- the key's hash, so that a replay writes the same comment again rather than a second one.
local function comment_id(key)
  local hex = http.sha256(key)
  return ("%s-%s-%s-%s-%s"):format(hex:sub(1, 8), hex:sub(9, 12), hex:sub(13, 16), hex:sub(17, 20), hex:sub(21, 32))
end

--- What close_incident and its undo are given.
local CLOSING = {
  incident = { type = "string", required = true, description = "the incident's name (a GUID), its source_ref here" },
  classification = { type = "string", required = true,
                     description = "TruePositive, BenignPositive, FalsePositive or Undetermined" },
  reason = { type = "string", description = "SuspiciousActivity (TruePositive), SuspiciousButExpected "
             .. "(BenignPositive), IncorrectAlertLogic or InaccurateData (FalsePositive); the first that fits "
             .. "by default" },
  comment = { type = "string", description = "why it was closed, as Sentinel shows it" },
}

--- The classification reason for `classification` and `reason` (nil: its default), or an error
--- that lists those that fit.
local function reason_for(classification, reason)
  local fitting = REASONS[classification]
  if not fitting then
    error(("classification must be TruePositive, BenignPositive, FalsePositive or Undetermined, got %q")
      :format(classification), 0)
  end
  if reason == nil then return fitting[1] end
  for _, name in ipairs(fitting) do
    if name == reason then return reason end
  end
  error(("%s takes %s as its reason, got %q"):format(classification,
    #fitting > 0 and table.concat(fitting, " or ") or "none", reason), 0)
end

--- When `incident` (of a page, or nil) was last modified, in UTC ISO 8601, which sorts as text.
local function modified(incident)
  local properties = type(incident) == "table" and incident.properties
  return type(properties) == "table" and type(properties.lastModifiedTimeUtc) == "string"
    and properties.lastModifiedTimeUtc or nil
end

--- Azure's answer to `response` as a table holding the list `list`, or an error that says what
--- came instead.
local function answer(response, what, list)
  sentinel.check(response, what, nil, ADVICE)
  local ok, decoded = pcall(json.decode, response.body)
  if not ok or type(decoded) ~= "table" or type(decoded[list]) ~= "table" then
    error(("Microsoft Sentinel, %s: the answer is not a list of %s: %s"):format(what, what, response.body:sub(1, 200)), 0)
  end
  return decoded
end

return integration {
  name = "Microsoft Sentinel",
  config = {
    login_url = "https://login.microsoftonline.com",
    management_url = "https://management.azure.com",
    tenant = { env = "SENTINEL_TENANT_ID", required = true },
    client_id = { env = "SENTINEL_CLIENT_ID", required = true },
    client_secret = { secret = true, env = "SENTINEL_CLIENT_SECRET", required = true },
    subscription = { required = true },
    resource_group = { required = true },
    workspace = { required = true },
    -- How far back the first fetch looks, in seconds: not the workspace's whole history.
    first_window = 3600,
    -- Incidents a page ($top, at most 1000): a run reads one, and the next page comes at once.
    page_size = 50,
  },
  -- A token, a page, and one call for each incident's entities.
  rate = { per_minute = 600 },
  actions = {
    close_incident = {
      description = "Closes the incident in Microsoft Sentinel with a classification (one closed there already "
        .. "is left as it is)",
      risk = "medium", undo = "reopen_incident", params = CLOSING, on_closed = true,
      run = function(params, context)
        local reason = reason_for(params.classification, params.reason)
        local closed_before = false
        local properties = change_incident(context.config, params.incident, "close", function(properties)
          -- Closed in Sentinel meanwhile (or by this very action, before a crash): its
          -- classification is someone's judgement, not overwritten.
          if properties.status == "Closed" then
            closed_before = true
            return false
          end
          properties.status, properties.classification = "Closed", params.classification
          properties.classificationReason = reason or json.null
          properties.classificationComment = params.comment or json.null
        end)
        return { incident = params.incident, status = properties.status, classification = properties.classification,
                 closed_before = closed_before }
      end,
    },
    reopen_incident = {
      description = "Makes a closed Sentinel incident Active again, without its classification",
      risk = "low", params = CLOSING, on_closed = true,
      run = function(params, context)
        local properties = change_incident(context.config, params.incident, "reopen", function(properties)
          if properties.status ~= "Closed" then return false end
          properties.status = "Active"
          properties.classification, properties.classificationReason = json.null, json.null
          properties.classificationComment = json.null
        end)
        return { incident = params.incident, status = properties.status }
      end,
    },
    comment = {
      description = "Adds a comment to the Sentinel incident",
      risk = "low", on_closed = true,
      params = { incident = CLOSING.incident, message = { type = "string", required = true } },
      run = function(params, context)
        local id = comment_id(context.idempotency_key)
        local send = sentinel.sender(http, context.config)
        local response = send("PUT", incident_url(context.config, params.incident, "/comments/" .. id),
                              { properties = { message = params.message } })
        sentinel.check(response, "comment", { [200] = true, [201] = true }, CHANGE_ADVICE)
        return { incident = params.incident, comment = id }
      end,
    },
  },
  fetch = {
    every = "1m",
    source = "sentinel",
    run = function(context, cursor)
      local config = context.config
      local since = cursor or os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() - tonumber(config.first_window))
      local page_size = tonumber(config.page_size)
      local headers = { authorization = "Bearer " .. sentinel.token(http, config) }
      local workspace = workspace_of(config)
      local url = ("%s/incidents?api-version=%s&$filter=%s&$orderby=%s&$top=%d"):format(workspace, API_VERSION,
        escape("properties/lastModifiedTimeUtc gt " .. since), escape("properties/lastModifiedTimeUtc asc"), page_size)
      local page = answer(http.get(url, { headers = headers }), "incidents", "value")
      local incidents, more = page.value, type(page.nextLink) == "string"
      if more then
        -- A full page's last instant may go on past it: its incidents wait for the next page.
        local last = modified(incidents[#incidents])
        while #incidents > 0 and modified(incidents[#incidents]) == last do incidents[#incidents] = nil end
        if #incidents == 0 then
          error(("more than %d incidents were modified at %s: raise integrations.sentinel.page_size (at most 1000),"
                 .. " which loses none of them"):format(page_size, last), 0)
        end
      end
      for _, incident in ipairs(incidents) do
        -- One without a name has no entities to ask for: the mapper keeps it unmapped, saying why.
        if type(incident.name) == "string" then
          local entities = ("%s/incidents/%s/entities?api-version=%s"):format(workspace, escape(incident.name), API_VERSION)
          incident.entities = answer(http.post(entities, "", { headers = headers }), "entities", "entities").entities
        end
      end
      -- Oldest first, as asked: the last one's time is the latest.
      return { alerts = incidents, cursor = modified(incidents[#incidents]) or since, more = more }
    end,
  },
}
