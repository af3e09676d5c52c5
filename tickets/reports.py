"""Reuse reports for team leads: how often the suggested knowledge was reused, where it is missing.

Definitions (a date range is whole UTC days, `from` and `to` both included):
- A ticket **with suggestions** has a stored suggestion set with at least one article, created in the range.
- A ticket **with reuse** has at least one `reused` event (an agent linked an article) in the range.
- **Reuse rate** = tickets with reuse / tickets with suggestions (0 when there are none). A ticket reused from
  a search without suggestions still counts as reuse, so the rate can exceed 1 for a node the ranking misses.
- A ticket **without suggestions** (a knowledge gap) had suggestion sets in the range, none with an article.
- **flags**, **creates**, **macro_inserts**, **searches** count `flagged`, `created`, `macro_inserted` and
  `searched` events in the range; **reuses** counts `reused` events.
- A ticket and its events count under the taxonomy node the ticket is mapped to now (events of a ticket that
  no longer exists under the node recorded on the event).
- By agent: **tickets** an agent recorded any event on, **tickets_with_reuse** those the agent reused on;
  **name** is the display name the helpdesk last sent for that agent (the `agent` column is its id).
- By week: weeks start on Monday; a ticket counts in the week of its first qualifying set or reuse.
- **Gaps**: taxonomy nodes with tickets in the range but no reuse, or with no article filed under them.
- By integration: the same ticket and event figures per helpdesk the tickets came from; `integration` filters the
  whole report to one helpdesk (ticket ids are per integration, so a ticket belongs to exactly one).
"""
from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from datetime import UTC, date, datetime, timedelta

from integrations import registry

GROUPS = ("node", "agent", "week", "integration")
EVENT_COUNTS = {"reused": "reuses", "flagged": "flags", "created": "creates", "macro_inserted": "macro_inserts",
                "searched": "searches"}
MAX_DAYS = 3700
DEFAULT_DAYS = 30
EARLIEST, LATEST = date(1970, 1, 1), date(9998, 12, 31)    # room for the week and next-day arithmetic
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

COLUMNS = {
    "node": ("node_id", "path", "tickets", "tickets_with_suggestions", "tickets_without_suggestions",
             "tickets_with_reuse", "reuse_rate", "reuses", "flags", "creates", "macro_inserts", "searches",
             "articles"),
    "agent": ("agent", "name", "tickets", "tickets_with_reuse", "reuse_rate", "reuses", "flags", "creates",
              "macro_inserts", "searches"),
    "week": ("week", "week_start", "tickets_with_suggestions", "tickets_with_reuse", "reuse_rate", "reuses",
             "flags", "creates", "macro_inserts", "searches"),
    "integration": ("integration", "tickets", "tickets_with_suggestions", "tickets_without_suggestions",
                    "tickets_with_reuse", "reuse_rate", "reuses", "flags", "creates", "macro_inserts", "searches"),
}


class ReportError(ValueError):
    """A report parameter is not acceptable (the message says which and why)."""


def parse_day(value: str | None, name: str, default: date) -> date:
    if value is None or value.strip() == "":
        return default
    text = value.strip()
    if not DATE_RE.match(text):
        raise ReportError(f"{name} must be a date as YYYY-MM-DD, got {value!r}")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ReportError(f"{name} is not a calendar date: {value!r}") from None
    if not EARLIEST <= day <= LATEST:
        raise ReportError(f"{name} must be between {EARLIEST} and {LATEST}, got {value!r}")
    return day


def parse_range(date_from: str | None, date_to: str | None, today: date | None = None) -> tuple[date, date]:
    """The report's days; missing `to` is today (UTC), missing `from` is 30 days before `to`."""
    today = today or datetime.now(UTC).date()
    end = parse_day(date_to, "to", today)
    start = parse_day(date_from, "from", end - timedelta(days=DEFAULT_DAYS - 1))
    if start > end:
        raise ReportError(f"from ({start}) is after to ({end})")
    if (end - start).days > MAX_DAYS:
        raise ReportError(f"the range is longer than {MAX_DAYS} days")
    return start, end


def parse_group(value: str | None) -> str:
    group = (value or "node").strip()
    if group not in GROUPS:
        raise ReportError(f"group must be one of {list(GROUPS)}, got {value!r}")
    return group


def parse_integration(value: str | None) -> str | None:
    """The `integration` filter: None for all, else a name the registry knows."""
    name = (value or "").strip()
    if not name:
        return None
    if registry.get(name) is None:
        raise ReportError(f"integration must be one of {list(registry.NAMES)}, got {value!r}")
    return name


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _week_label(start: date) -> str:
    year, week, _ = start.isocalendar()
    return f"{year}-W{week:02d}"


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _counters() -> dict:
    return {"reuses": 0, "flags": 0, "creates": 0, "macro_inserts": 0, "searches": 0}


def reuse_report(conn: sqlite3.Connection, start: date, end: date, integration: str | None = None) -> dict:
    """The whole report for the days start..end (both included), of one integration's tickets when given."""
    lo, hi = f"{start.isoformat()}T00:00:00Z", f"{(end + timedelta(days=1)).isoformat()}T00:00:00Z"
    only, only_args = ("AND t.integration = ?", (integration,)) if integration else ("", ())
    nodes = {r[0]: {"path": json.loads(r[1]), "articles": r[2]} for r in conn.execute("""
        SELECT n.id, n.names,
               (SELECT COUNT(*) FROM articles a WHERE a.node_id = n.id AND a.state != 'archived')
        FROM taxonomy_nodes n""")}

    # Per ticket: first set in range, first set with articles in range, node.
    sets = conn.execute(f"""
        SELECT s.ticket_id, t.node_id, MIN(s.created_at),
               MIN(CASE WHEN COALESCE(json_array_length(s.payload, '$.articles'), 0) > 0 THEN s.created_at END),
               t.integration
        FROM suggestion_sets s LEFT JOIN tickets t ON t.id = s.ticket_id
        WHERE s.created_at >= ? AND s.created_at < ? {only} GROUP BY s.ticket_id""", (lo, hi, *only_args)).fetchall()
    reuse = conn.execute(f"""
        SELECT e.ticket_id, COALESCE(t.node_id, e.node_id), MIN(e.created_at), t.integration
        FROM events e LEFT JOIN tickets t ON t.id = e.ticket_id
        WHERE e.kind = 'reused' AND e.ticket_id IS NOT NULL AND e.created_at >= ? AND e.created_at < ? {only}
        GROUP BY e.ticket_id""", (lo, hi, *only_args)).fetchall()
    counts = conn.execute(f"""
        SELECT e.kind, COALESCE(t.node_id, e.node_id), e.agent,
               date(substr(e.created_at, 1, 10), '-6 days', 'weekday 1'), t.integration, COUNT(*)
        FROM events e LEFT JOIN tickets t ON t.id = e.ticket_id
        WHERE e.created_at >= ? AND e.created_at < ? {only} GROUP BY 1, 2, 3, 4, 5""", (lo, hi, *only_args)).fetchall()
    agents = conn.execute(f"""
        SELECT e.agent, COUNT(DISTINCT e.ticket_id),
               COUNT(DISTINCT CASE WHEN e.kind = 'reused' THEN e.ticket_id END)
        FROM events e LEFT JOIN tickets t ON t.id = e.ticket_id
        WHERE e.created_at >= ? AND e.created_at < ? {only} GROUP BY e.agent""", (lo, hi, *only_args)).fetchall()

    weeks: dict[str, dict] = {}
    day = monday(start)
    while day <= end:
        weeks[day.isoformat()] = {"week": _week_label(day), "week_start": day.isoformat(),
                                  "tickets_with_suggestions": 0, "tickets_with_reuse": 0, **_counters()}
        day += timedelta(days=7)

    by_node: dict = {}

    def node_row(node_id):
        if node_id not in by_node:
            info = nodes.get(node_id, {"path": [], "articles": 0})
            by_node[node_id] = {"node_id": node_id, "path": info["path"], "tickets": 0,
                                "tickets_with_suggestions": 0, "tickets_without_suggestions": 0,
                                "tickets_with_reuse": 0, "reuse_rate": 0.0, **_counters(),
                                "articles": info["articles"]}
        return by_node[node_id]

    def week_of(stamp: str) -> dict:
        return weeks[monday(date.fromisoformat(stamp[:10])).isoformat()]

    by_integration: dict = {}

    def integration_row(name):
        name = name or ""
        if name not in by_integration:
            by_integration[name] = {"integration": name, "tickets": 0, "tickets_with_suggestions": 0,
                                    "tickets_without_suggestions": 0, "tickets_with_reuse": 0, "reuse_rate": 0.0,
                                    **_counters()}
        return by_integration[name]

    for _ticket, node_id, _first_any, first_with, source in sets:
        for row in (node_row(node_id), integration_row(source)):
            row["tickets"] += 1
            row["tickets_with_suggestions" if first_with else "tickets_without_suggestions"] += 1
        if first_with:
            week_of(first_with)["tickets_with_suggestions"] += 1
    for _ticket, node_id, first_reuse, source in reuse:
        node_row(node_id)["tickets_with_reuse"] += 1
        integration_row(source)["tickets_with_reuse"] += 1
        week_of(first_reuse)["tickets_with_reuse"] += 1

    names = dict(conn.execute("""
        SELECT agent, json_extract(data, '$.agent_name') FROM events
        WHERE created_at >= ? AND created_at < ? AND json_valid(data) AND json_extract(data, '$.agent_name') != ''
        ORDER BY id""", (lo, hi)).fetchall())                      # each agent's latest display name
    by_agent: dict = {agent: {"agent": agent, "name": names.get(agent, ""), "tickets": touched,
                              "tickets_with_reuse": reused, "reuse_rate": _rate(reused, touched), **_counters()}
                      for agent, touched, reused in agents}
    totals = {"tickets": len(sets), "tickets_with_suggestions": sum(1 for s in sets if s[3]),
              "tickets_with_reuse": len(reuse), "reuse_rate": 0.0, **_counters(),
              "tickets_without_suggestions": sum(1 for s in sets if not s[3])}
    for kind, node_id, agent, week, source, n in counts:
        key = EVENT_COUNTS.get(kind)
        if key is None:
            continue
        totals[key] += n
        node_row(node_id)[key] += n
        integration_row(source)[key] += n
        by_agent[agent][key] += n
        weeks[week][key] += n
    totals["reuse_rate"] = _rate(totals["tickets_with_reuse"], totals["tickets_with_suggestions"])
    for row in (*by_node.values(), *weeks.values(), *by_integration.values()):
        row["reuse_rate"] = _rate(row["tickets_with_reuse"], row["tickets_with_suggestions"])

    node_rows = sorted(by_node.values(), key=lambda r: (-r["tickets"], r["node_id"] is None, r["path"]))
    return {"from": start.isoformat(), "to": end.isoformat(), "integration": integration, "totals": totals,
            "by_node": node_rows,
            "by_agent": sorted(by_agent.values(), key=lambda r: (-r["reuses"], -r["tickets"], r["agent"])),
            "by_week": list(weeks.values()),
            "by_integration": sorted(by_integration.values(), key=lambda r: (-r["tickets"], r["integration"])),
            "gaps": gaps(node_rows)}


def gaps(node_rows: list[dict]) -> list[dict]:
    """Nodes with tickets but no reuse or no articles: where knowledge is missing or not trusted."""
    out = []
    for row in node_rows:
        if not row["tickets"]:
            continue
        if row["node_id"] is None:
            reason = "no taxonomy node"
        elif not row["articles"]:
            reason = "no articles"
        elif not row["tickets_with_reuse"]:
            reason = "no reuse"
        else:
            continue
        out.append({"node_id": row["node_id"], "path": row["path"], "tickets": row["tickets"],
                    "tickets_without_suggestions": row["tickets_without_suggestions"],
                    "articles": row["articles"], "reason": reason})
    return out


def rows(report: dict, group: str) -> list[dict]:
    return report[f"by_{group}"]


def _cell(value):
    """A CSV cell; text a spreadsheet would read as a formula (=, +, -, @) gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_text(report: dict, group: str) -> str:
    """The requested group as CSV with a header row; a node's path is joined with ' / '."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(COLUMNS[group])
    for row in rows(report, group):
        writer.writerow([_cell(" / ".join(row[c]) if c == "path" else row[c]) for c in COLUMNS[group]])
    return buf.getvalue()


def csv_filename(report: dict, group: str) -> str:
    return f"reuse-by-{group}-{report['from']}-to-{report['to']}.csv"
