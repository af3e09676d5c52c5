"""Zendesk macros both ways over HTTP (admins and publishers): import the account's macros, push ours."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("macro_sync_api", __name__)
