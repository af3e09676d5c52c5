"""Knowledge that goes both ways between the sidecar and a helpdesk: Help Center articles and sections, macros.
The coordinating layer beside tickets/: it uses kb/, macros/ and integrations/, and its outbox handlers run in
the worker."""
