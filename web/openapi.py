"""OpenAPI 3.1 built from the app's own routes: every rule, its methods, its docstring, its role."""
from __future__ import annotations

import re

from flask import Flask

PARAM_RE = re.compile(r"<(?:(\w+):)?(\w+)>")


def describe(app: Flask) -> dict:
    paths: dict = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        path = PARAM_RE.sub(lambda m: "{" + m.group(2) + "}", rule.rule)
        params = [{"name": m.group(2), "in": "path", "required": True,
                   "schema": {"type": "integer" if m.group(1) == "int" else "string"}}
                  for m in PARAM_RE.finditer(rule.rule)]
        doc = (view.__doc__ or rule.endpoint).strip()
        role = getattr(view, "required_role", None)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            op = {"operationId": f"{rule.endpoint}.{method.lower()}", "summary": doc.splitlines()[0],
                  "description": doc, "tags": [rule.endpoint.split(".")[0]], "parameters": params,
                  "responses": {"200": {"description": "OK"}}}
            if role:
                op["security"] = [{"bearer": []}]
                op["x-required-role"] = role
                op["responses"].update({"401": {"description": "no or bad token"},
                                        "403": {"description": f"needs the {role} role"}})
            paths.setdefault(path, {})[method.lower()] = op
    return {"openapi": "3.1.0",
            "info": {"title": "Knowledge Sidecar", "version": "0.1.0",
                     "description": "Suggests troubleshooting articles and macros inside helpdesk tickets (KCS)."},
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
            "paths": paths}
