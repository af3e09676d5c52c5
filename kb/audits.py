"""The knowledge audit (KCS "evolve"): what in the knowledge base needs someone's attention, and a digest to each
owner. Owns the table audit_runs.

A run looks for five kinds of finding (KINDS):
- stale: the review-by date has passed (archived articles are left alone);
- unused: no agent reused the article in audit.unused_days days, and it is older than that;
- flag_open: a flag has been open longer than audit.flag_open_days days;
- duplicate: two articles in one language whose titles and issues are near-duplicates (kb.duplicates, at
  audit.duplicate_threshold); reported, never merged;
- missing_translation: a validated public article (with its translation group's variants) has no validated
  public variant in one of the audit.markets languages.

Each finding names the article and its owner (the article's own, else its taxonomy node's default owner). After
the run every owner with findings gets one notice (kind audit_digest, through kb.notices, so the outbox delivers
it when a channel is configured) listing them plainly; findings without an owner stay on the run, where
publishers see them on the audits page. Runs come from the worker's schedule, `flask --app app audit` and
POST /api/audits/run; each is kept whole, so the page and the API show what an owner was told.
"""
from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from datetime import UTC, date, datetime

from kb import duplicates, flags, notices, people, taxonomy
from store import now, write
from store.clock import FORMAT, after, seconds_since

KINDS = ("stale", "unused", "flag_open", "duplicate", "missing_translation")
LABELS = {"stale": "Review date passed", "unused": "Unused", "flag_open": "Flags open too long",
          "duplicate": "Near-duplicates", "missing_translation": "Missing translations"}
DAY = 86400
DIGEST_LINES = 200          # a digest lists this many findings; the rest are on the audits page
ARTICLE_COLUMNS = ("id", "external_id", "title", "issue", "language", "owner", "node_id", "state", "visibility",
                   "review_by", "translation_group", "created_at")


def _articles(conn: sqlite3.Connection) -> list[dict]:
    """Every article that is not archived, with its owner resolved (the node's default when it names none)."""
    rows = conn.execute(f"SELECT {', '.join(ARTICLE_COLUMNS)} FROM articles WHERE state != 'archived' "
                        "ORDER BY id").fetchall()
    node_owner: dict[int | None, str] = {}
    out = []
    for raw in rows:
        art = dict(zip(ARTICLE_COLUMNS, raw))
        if not art["owner"]:
            if art["node_id"] not in node_owner:
                node_owner[art["node_id"]] = taxonomy.default_owner(conn, art["node_id"])
            art["owner"] = node_owner[art["node_id"]]
        out.append(art)
    return out


def _finding(kind: str, art: dict, detail: str, **extra) -> dict:
    return {"kind": kind, "article_id": art["id"], "external_id": art["external_id"], "title": art["title"],
            "owner": art["owner"] or "", "language": art["language"], "state": art["state"],
            "visibility": art["visibility"], "detail": detail, **extra}


def _days(n: float) -> str:
    n = int(n)
    return "1 day" if n == 1 else f"{n} days"


def stale(arts: list[dict], today: date) -> list[dict]:
    """Articles whose review-by date lies before today."""
    out = []
    for art in arts:
        if art["review_by"] and art["review_by"] < today.isoformat():
            overdue = (today - date.fromisoformat(art["review_by"])).days
            out.append(_finding("stale", art, f"review by {art['review_by']} passed {_days(overdue)} ago",
                                review_by=art["review_by"], days_overdue=overdue))
    return out


def unused(conn: sqlite3.Connection, arts: list[dict], days: int) -> list[dict]:
    """Articles older than `days` days that no agent reused in that time."""
    cutoff = after(-days * DAY)
    last = dict(conn.execute("SELECT article_id, MAX(created_at) FROM events WHERE kind = 'reused' "
                             "AND article_id IS NOT NULL GROUP BY article_id").fetchall())
    out = []
    for art in arts:
        reused = last.get(art["id"])
        if art["created_at"] >= cutoff or (reused and reused >= cutoff):
            continue
        detail = (f"no reuse in {_days(days)}; last reused {reused[:10]}" if reused
                  else f"never reused; created {art['created_at'][:10]}")
        out.append(_finding("unused", art, detail, last_reused=reused, unused_days=days))
    return out


def flags_open(conn: sqlite3.Connection, arts: dict[int, dict], days: int) -> list[dict]:
    """Flags still open after `days` days, oldest first."""
    cutoff = after(-days * DAY)
    out = []
    for flag in reversed(flags.listing(conn, status="open", limit=1_000_000)):
        if flag["created_at"] >= cutoff:
            continue
        art = arts.get(flag["article_id"])
        if art is None:     # an archived article: its row is not in `arts`, its owner is resolved here
            art = {**flag["article"], "owner": flags.owner_of(conn, _owner_row(conn, flag["article_id"]))}
        age = seconds_since(flag["created_at"]) / DAY
        out.append(_finding("flag_open", art, f"flag #{flag['id']} ({flag['category']}) by {flag['flagged_by']} "
                                              f"open {_days(age)}: {flag['reason'][:200]}",
                            flag_id=flag["id"], category=flag["category"], flagged_by=flag["flagged_by"],
                            opened_at=flag["created_at"], days_open=int(age)))
    return out


def _owner_row(conn: sqlite3.Connection, article_id: int) -> dict:
    row = conn.execute("SELECT owner, node_id FROM articles WHERE id = ?", (article_id,)).fetchone()
    return {"owner": row[0], "node_id": row[1]} if row else {}


def near_duplicates(arts: list[dict], threshold: float) -> list[dict]:
    """Pairs of articles in one language whose titles and issues are near-duplicates (kb.duplicates decides)."""
    by_id = {a["id"]: a for a in arts}
    rows = [(a["id"], a["title"], a["issue"], a["language"]) for a in arts]
    out = []
    for first, second, score in duplicates.pairs(rows, threshold):     # the lower id first, best pair first
        a, b = by_id[first], by_id[second]
        other = {"article_id": b["id"], "external_id": b["external_id"], "title": b["title"], "owner": b["owner"],
                 "language": b["language"]}
        out.append(_finding("duplicate", a, f"{score:.0f}% like “{b['title']}” ({b['external_id']})",
                            score=round(score, 1), other=other))
    return out


def missing_translations(arts: list[dict], markets: list[str]) -> list[dict]:
    """For each validated public article (with its translation group's variants), the market languages that no
    validated public variant covers; a variant still in the works is named in the finding."""
    if not markets:
        return []
    groups: dict[str, list[dict]] = defaultdict(list)
    for art in arts:
        groups[art["translation_group"] or f"article:{art['id']}"].append(art)
    out = []
    for variants in groups.values():
        live = [a for a in variants if a["state"] == "validated" and a["visibility"] == "public"]
        if not live:
            continue
        have = {a["language"] for a in live}
        missing = [m for m in markets if m not in have]
        if not missing:
            continue
        lead = next((a for m in markets for a in live if a["language"] == m), live[0])
        drafts = {a["language"]: a["state"] if a["visibility"] == "public" else f"{a['state']}, internal"
                  for a in variants if a not in live and a["language"] in missing}
        detail = "no public " + ", ".join(f"{m} (a {drafts[m]} variant exists)" if m in drafts else m
                                          for m in missing) + f" version; has {', '.join(sorted(have))}"
        out.append(_finding("missing_translation", lead, detail, missing=missing, languages=sorted(have),
                            drafts=drafts, translation_group=lead["translation_group"]))
    return out


def findings(conn: sqlite3.Connection, cfg: dict) -> list[dict]:
    """Everything the audit finds now, by kind (KINDS order)."""
    ac = cfg["audit"]
    arts = _articles(conn)
    today = datetime.now(UTC).date()
    return [*stale(arts, today), *unused(conn, arts, ac["unused_days"]),
            *flags_open(conn, {a["id"]: a for a in arts}, ac["flag_open_days"]),
            *near_duplicates(arts, ac["duplicate_threshold"]),
            *missing_translations(arts, ac["markets"].split())]


def owners_of(finding: dict) -> list[str]:
    """Whom a finding concerns: its article's owner, and for a near-duplicate also the other article's."""
    names = [finding["owner"], (finding.get("other") or {}).get("owner", "")]
    return [n for i, n in enumerate(names) if n and n not in names[:i]]


def grouped(found: list[dict]) -> list[dict]:
    """Findings by kind, every kind listed (with its label and count), in KINDS order."""
    return [{"kind": k, "label": LABELS[k], "count": len(items), "findings": items}
            for k in KINDS for items in [[f for f in found if f["kind"] == k]]]


def line(finding: dict) -> str:
    """One finding as a line of plain text."""
    return f"“{finding['title']}” ({finding['external_id']}, {finding['language']}): {finding['detail']}"


def _digest_body(conn: sqlite3.Connection, cfg: dict, owner: str, mine: list[dict], started: str) -> str:
    out = [f"Hello {people.display(conn, owner)},", "",
           f"The knowledge audit of {started[:10]} {started[11:16]} UTC found {_count(len(mine))} in articles you "
           "own. Please look at them (fix, review, merge or archive):"]
    shown = 0
    for group in grouped(mine):
        if not group["count"]:
            continue
        out += ["", f"{group['label']} ({group['count']})"]
        for finding in group["findings"]:
            if shown < DIGEST_LINES:
                out.append(f"  - {line(finding)}")
            shown += 1
    if shown > DIGEST_LINES:
        out += ["", f"… and {shown - DIGEST_LINES} more."]
    out += ["", f"Every finding: {cfg['server']['public_url'].rstrip('/')}/audits"]
    return "\n".join(out)


def _count(n: int) -> str:
    return "1 finding" if n == 1 else f"{n} findings"


def _digests(conn: sqlite3.Connection, cfg: dict, run_id: int, found: list[dict], started: str) -> list[dict]:
    """One notice per owner with findings (in the caller's transaction)."""
    by_owner: dict[str, list[dict]] = defaultdict(list)
    for finding in found:
        for owner in owners_of(finding):
            by_owner[owner].append(finding)
    sent = []
    for owner in sorted(by_owner):
        mine = by_owner[owner]
        notice = notices.tell(conn, cfg, owner, "audit_digest", f"Knowledge audit: {_count(len(mine))} on your "
                              "articles", _digest_body(conn, cfg, owner, mine, started),
                              data={"run_id": run_id, "findings": len(mine)})
        sent.append({"owner": owner, "notice_id": notice["id"], "findings": len(mine),
                     "delivery": notice["delivery"]})
    return sent


def run(conn: sqlite3.Connection, cfg: dict, trigger: str) -> dict:
    """Audit the knowledge base now, keep the run and send the owners' digests; the run as stored."""
    started = now()
    found = findings(conn, cfg)
    ac = cfg["audit"]
    with write(conn):
        run_id = conn.execute("INSERT INTO audit_runs (started_at, trigger) VALUES (?, ?)",
                              (started, trigger[:200])).lastrowid
        digests = _digests(conn, cfg, run_id, found, started)
        counts: dict[str, int] = defaultdict(int)
        for finding in found:
            for owner in owners_of(finding):
                counts[owner] += 1
        summary = {"total": len(found), "by_kind": {k: sum(f["kind"] == k for f in found) for k in KINDS},
                   "owners": dict(sorted(counts.items())), "without_owner": sum(not owners_of(f) for f in found),
                   "digests": digests,
                   "settings": {k: ac[k] for k in ("unused_days", "flag_open_days", "duplicate_threshold",
                                                   "markets")}}
        conn.execute("UPDATE audit_runs SET finished_at = ?, findings = ?, summary = ? WHERE id = ?",
                     (now(), json.dumps(found, ensure_ascii=False), json.dumps(summary, ensure_ascii=False),
                      run_id))
    return get(conn, run_id)


RUN_COLUMNS = ("id", "started_at", "finished_at", "trigger", "findings", "summary")


def _run(raw: tuple) -> dict:
    out = dict(zip(RUN_COLUMNS, raw))
    out["findings"] = json.loads(out["findings"] or "[]")
    out["summary"] = json.loads(out["summary"] or "{}")
    return out


def get(conn: sqlite3.Connection, run_id: int) -> dict | None:
    row = conn.execute(f"SELECT {', '.join(RUN_COLUMNS)} FROM audit_runs WHERE id = ?", (run_id,)).fetchone()
    return _run(row) if row else None


def latest(conn: sqlite3.Connection) -> dict | None:
    """The newest finished run, or None when no audit has run yet."""
    row = conn.execute(f"SELECT {', '.join(RUN_COLUMNS)} FROM audit_runs WHERE finished_at IS NOT NULL "
                       "ORDER BY id DESC LIMIT 1").fetchone()
    return _run(row) if row else None


def next_due(conn: sqlite3.Connection, interval_hours: float) -> datetime:
    """When the scheduled audit should next run: an interval after the last run, or now when that has passed
    (so restarting the worker neither skips the audit nor repeats it)."""
    last = latest(conn)
    moment = datetime.now(UTC)
    if last is not None:
        due = datetime.strptime(last["started_at"], FORMAT).replace(tzinfo=UTC).timestamp() + interval_hours * 3600
        moment = max(moment, datetime.fromtimestamp(due, UTC))
    return moment


def report_text(run_: dict) -> str:
    """A run as readable text (the CLI's output): findings grouped by kind, then the digests sent."""
    s = run_["summary"]
    out = [f"Audit run {run_['id']} ({run_['trigger']}) {run_['started_at']}: {_count(s['total'])}",
           "settings: " + ", ".join(f"{k}={v!r}" if k == "markets" else f"{k}={v}" for k, v in s["settings"].items())]
    for group in grouped(run_["findings"]):
        out += ["", f"{group['label']} ({group['count']})" if group["count"] else f"{group['label']}: none"]
        for finding in group["findings"]:
            out.append(f"  - {line(finding)}  [owner: {' & '.join(owners_of(finding)) or 'none'}]")
    out += ["", f"Digests queued ({len(s['digests'])})" if s["digests"] else "Digests queued: none"]
    out += [f"  - {d['owner']}: {_count(d['findings'])}, notice {d['notice_id']} ({d['delivery']})"
            for d in s["digests"]]
    if s["without_owner"]:
        out += ["", f"{_count(s['without_owner'])} without an owner: publishers see them on /audits"]
    return "\n".join(out)
