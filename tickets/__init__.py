"""Tickets as the sidecar sees them: intake (map, suggest, remember), agent events, reuse reports."""
