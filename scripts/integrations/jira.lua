-- Jira (Cloud or Data Center, REST API v2): open an issue, comment on one.
-- https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issues/#api-rest-api-2-issue-post
--   POST /rest/api/2/issue { fields = { project = { key }, summary, description, issuetype,
--        labels } }                                             -> 201 { id, key, self }
--   POST /rest/api/2/issue/{key}/comment { body }                -> 201 { id }
--   GET  /rest/api/2/search?jql=...                              -> { issues = { { key } } }
-- Errors are { errorMessages = { ... }, errors = { field = message } }.
--
-- Set JIRA_URL, JIRA_PROJECT and JIRA_AUTHORIZATION, the whole Authorization header: "Basic "
-- and the base64 of "EMAIL:API_TOKEN" on Cloud, "Bearer TOKEN" (a personal access token) on Data
-- Center. Jira takes no idempotency key: the issue carries a label made from the action's key,
-- and a replay that finds an issue with it returns that issue instead of opening another.

--- Raises Jira's error for a response that is not `expected`.
local function check(response, what, expected)
  if response.status == expected then return end
  local ok, answer = pcall(json.decode, response.body)
  local problems = {}
  if ok and type(answer) == "table" then
    for _, message in ipairs(answer.errorMessages or {}) do problems[#problems + 1] = message end
    for field, message in pairs(type(answer.errors) == "table" and answer.errors or {}) do
      problems[#problems + 1] = field .. ": " .. tostring(message)
    end
  end
  if #problems == 0 then problems[1] = response.body:sub(1, 200) end
  error(("Jira, %s: %d %s"):format(what, response.status, table.concat(problems, "; ")), 0)
end

local function request(config, method, path, body)
  return http.request{
    method = method, url = config.base_url .. path, body = body and json.encode(body) or nil,
    headers = { authorization = config.authorization, ["content-type"] = "application/json",
                accept = "application/json" },
  }
end

return integration {
  name = "Jira",
  config = {
    base_url = { env = "JIRA_URL", required = true },
    project = { env = "JIRA_PROJECT", required = true },
    issue_type = "Task",
    authorization = { secret = true, env = "JIRA_AUTHORIZATION", required = true },
  },
  rate = { per_minute = 60 },
  actions = {
    create_issue = {
      description = "Opens an issue in the configured project",
      risk = "low",
      params = { summary = { type = "string", required = true }, description = { type = "string" } },
      run = function(params, context)
        local config = context.config
        local label = "automator-" .. context.idempotency_key:gsub("[^%w%-]", "-")
        local found = request(config, "GET", "/rest/api/2/search?fields=key&jql=labels%3D" .. label)
        check(found, "search", 200)
        local existing = json.decode(found.body).issues
        if type(existing) == "table" and existing[1] then return { key = existing[1].key, existed = true } end
        local response = request(config, "POST", "/rest/api/2/issue", { fields = {
          project = { key = config.project }, issuetype = { name = config.issue_type }, summary = params.summary,
          description = params.description or ("Opened by automator for " .. (context.incident or context.requested_by)),
          labels = { label },
        } })
        check(response, "create issue", 201)
        return { key = json.decode(response.body).key }
      end,
    },
    comment = {
      description = "Adds a comment to an issue",
      risk = "low",
      params = { issue = { type = "string", required = true, description = "SEC-42" },
                 text = { type = "string", required = true } },
      run = function(params, context)
        if not params.issue:match("^%u[%u%d_]*%-%d+$") then error("issue must be a key such as SEC-42", 0) end
        local response = request(context.config, "POST", ("/rest/api/2/issue/%s/comment"):format(params.issue),
                                 { body = params.text })
        check(response, "comment", 201)
        return { issue = params.issue, comment = json.decode(response.body).id }
      end,
    },
  },
}
