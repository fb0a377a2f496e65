-- Runs when an incident closes. Closes its source too, the Microsoft Sentinel incident or the
-- Microsoft Defender XDR alert it was made of, classified as it was resolved here
-- (scripts/lib/writeback.lua says how, and what it leaves open), and notes what it closed where.
-- An incident from elsewhere, or whose source's integration is not set up, gets no note.
---@type Incident
local inc = ...

local writeback = require("lib.writeback")

local _, said = writeback.closed(inc)
if said then inc:note(said) end
