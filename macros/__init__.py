"""Response macros: canned replies agents insert into a ticket, rendered with a sandboxed Jinja2.

macros.library keeps them (upsert on external_id, search index in step); macros.render fills in a
ticket's details; macros/shipped/ holds the example macros the demo loads.
"""
