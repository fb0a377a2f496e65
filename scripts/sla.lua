-- Incident SLA policy: how long an incident may stay open, by type and severity. It applies
-- when the incident's playbook declares no `sla` of its own. A type lists only the severities
-- it changes; the others come from `default`. Durations: "90s", "15m", "4h", "2d" or seconds.
return {
  default = { critical = "1h", high = "4h", medium = "1d", low = "3d", info = "7d" },
  -- A lure stays in the mailboxes until purged, and more people click it every hour.
  phishing = { critical = "30m", high = "2h" },
  -- Malware the EDR did not stop may be spreading: critical ones get half an hour.
  malware = { critical = "30m" },
}
