"""Help Center both ways over HTTP (admins and publishers): import from Zendesk Help Center, publish to it."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("help_center_api", __name__)
