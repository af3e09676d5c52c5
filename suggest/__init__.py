"""Suggestions: language-aware analysis, the search index, taxonomy inference and ranking.

Knows no helpdesk and no HTTP: callers hand it a database and plain values.
"""
