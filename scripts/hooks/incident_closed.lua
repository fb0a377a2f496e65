-- Runs when an incident closes. Closes its source too, the Microsoft Sentinel incident, the
-- Microsoft Defender XDR alert or the CrowdStrike Falcon alert it was made of, classified as it was
-- resolved here, and the Jira issues its playbooks opened (scripts/lib/writeback.lua says how, and
-- what it leaves open), and notes what it closed where. An incident from elsewhere that opened no
-- issue, or whose integrations are not set up, gets no note.
---@type Incident
local inc = ...

local writeback = require("lib.writeback")

local _, said = writeback.closed(inc)
if said then inc:note(said) end
