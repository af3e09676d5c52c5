"""What the admin pastes into a Freshdesk automation rule's "Trigger webhook" action.

Freshdesk (support.freshdesk.com, "Using webhooks in automation rules"): an automation rule that runs on ticket
creation (or on updates) can "Trigger webhook": request type POST, the callback URL, optional custom headers, and
the content as JSON, "Simple" (picked fields) or "Advanced" (a JSON body with placeholders, rendered as text).
Freshdesk does not sign webhooks, so our proof of origin is a shared secret in a custom header (SECRET_HEADER).
The body's shape and placeholders follow the documented Advanced template of the Zulip integration
(zulip/zulip zerver/webhooks/freshdesk/doc.md and fixtures: {"freshdesk_webhook": {"triggered_event":
"{ticket_action:created}", "ticket_id": "11", "ticket_subject": …, "ticket_description": "<div>…</div>",
"ticket_status": "Pending", …}}), with {{ticket.tags}} added (rendered as comma-separated text).
triggered_event reads "{ticket_action:created}" on creation, "{status:{from:2,to:4}}" for a status change (status
numbers: 2 open, 3 pending, 4 resolved, 5 closed), "{note_type:private}" for a note.
"""

SECRET_HEADER = "X-KS-Webhook-Secret"

RULE_BODY = """{"freshdesk_webhook": {
  "triggered_event": "{{triggered_event}}",
  "ticket_id": "{{ticket.id}}",
  "ticket_url": "{{ticket.url}}",
  "ticket_type": "{{ticket.ticket_type}}",
  "ticket_subject": "{{ticket.subject}}",
  "ticket_description": "{{ticket.description}}",
  "ticket_tags": "{{ticket.tags}}",
  "ticket_status": "{{ticket.status}}",
  "ticket_priority": "{{ticket.priority}}",
  "requester_name": "{{ticket.requester.name}}",
  "requester_email": "{{ticket.requester.email}}"
}}"""
