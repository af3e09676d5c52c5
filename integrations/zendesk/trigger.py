"""The JSON body admins paste into a Zendesk trigger's "Notify webhook" action.

Placeholders are rendered by Zendesk as strings. Add one line per custom field you map, e.g.
"360001234567": "{{ticket.ticket_field_360001234567}}" inside "custom_fields".
Suggested trigger conditions: Ticket is Created, and Tags contains none of ks_suggested (the loop guard).
"""

TRIGGER_BODY = """{
  "ticket": {
    "id": "{{ticket.id}}",
    "subject": "{{ticket.title}}",
    "description": "{{ticket.description}}",
    "tags": "{{ticket.tags}}",
    "locale": "{{ticket.requester.language}}",
    "form_id": "{{ticket.ticket_form_id}}",
    "brand_id": "{{ticket.brand.id}}",
    "requester_id": "{{ticket.requester.id}}",
    "custom_fields": {}
  }
}"""
