"""Numbered schema migrations. Append only: never edit a migration that has shipped.

Each step takes a sqlite3 connection inside an open transaction and runs plain DDL.
"""
from __future__ import annotations

import secrets
import sqlite3


def initial_schema(conn: sqlite3.Connection) -> None:
    for stmt in INITIAL.split(";\n"):
        if stmt.strip():
            conn.execute(stmt)


INITIAL = """
CREATE TABLE taxonomy_nodes (
    id INTEGER PRIMARY KEY,
    parent_id INTEGER REFERENCES taxonomy_nodes(id),
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    path TEXT NOT NULL UNIQUE,
    names TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE mapping_rules (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('field', 'tag', 'form')),
    field_id TEXT,
    value TEXT NOT NULL,
    node_id INTEGER NOT NULL REFERENCES taxonomy_nodes(id) ON DELETE CASCADE,
    priority INTEGER NOT NULL DEFAULT 100,
    created_at TEXT NOT NULL
);
CREATE TABLE articles (
    id INTEGER PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    issue TEXT NOT NULL DEFAULT '',
    environment TEXT NOT NULL DEFAULT '',
    resolution TEXT NOT NULL DEFAULT '',
    cause TEXT NOT NULL DEFAULT '',
    language TEXT NOT NULL,
    node_id INTEGER REFERENCES taxonomy_nodes(id) ON DELETE SET NULL,
    state TEXT NOT NULL DEFAULT 'validated'
        CHECK (state IN ('wip', 'not_validated', 'validated', 'archived')),
    visibility TEXT NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'internal')),
    owner TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 1,
    reuse_count INTEGER NOT NULL DEFAULT 0,
    source_ticket TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX articles_node ON articles(node_id);
CREATE TABLE article_versions (
    id INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL,
    changed_by TEXT NOT NULL DEFAULT '',
    changed_at TEXT NOT NULL,
    UNIQUE (article_id, version)
);
CREATE TABLE macros (
    id INTEGER PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    language TEXT NOT NULL,
    node_id INTEGER REFERENCES taxonomy_nodes(id) ON DELETE SET NULL,
    active INTEGER NOT NULL DEFAULT 1,
    helpdesk_id TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE tickets (
    id INTEGER PRIMARY KEY,
    integration TEXT NOT NULL,
    external_id TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '[]',
    fields TEXT NOT NULL DEFAULT '{}',
    form_id TEXT,
    brand_id TEXT,
    locale TEXT,
    language TEXT,
    node_id INTEGER REFERENCES taxonomy_nodes(id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (integration, external_id)
);
CREATE TABLE suggestion_sets (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    node_id INTEGER REFERENCES taxonomy_nodes(id) ON DELETE SET NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX suggestion_sets_ticket ON suggestion_sets(ticket_id, id);
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER REFERENCES tickets(id) ON DELETE SET NULL,
    kind TEXT NOT NULL,
    article_id INTEGER,
    macro_id INTEGER,
    node_id INTEGER,
    agent TEXT NOT NULL DEFAULT '',
    query TEXT,
    reason TEXT,
    data TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL
);
CREATE INDEX events_created ON events(created_at);
CREATE INDEX events_ticket ON events(ticket_id);
CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY,
    integration TEXT NOT NULL,
    invocation_id TEXT NOT NULL,
    signature_ts TEXT,
    body TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'received',
    detail TEXT,
    received_at TEXT NOT NULL,
    UNIQUE (integration, invocation_id)
);
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    integration TEXT NOT NULL,
    ticket_external_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'done', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    claimed_by TEXT,
    claimed_at TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    done_at TEXT
);
CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('agent', 'lead', 'publisher', 'admin')),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
)
"""

def report_indexes(conn: sqlite3.Connection) -> None:
    """Reports filter suggestion sets and events by time and kind."""
    conn.execute("CREATE INDEX IF NOT EXISTS suggestion_sets_created ON suggestion_sets(created_at)")
    conn.execute("CREATE INDEX IF NOT EXISTS events_kind_created ON events(kind, created_at)")


def search_log(conn: sqlite3.Connection) -> None:
    """The in-process search index (suggest/engine.py) is kept in step across processes by this change log.

    The first entry asks every process to load all articles and macros from the tables."""
    conn.execute("CREATE TABLE search_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, "
                 "item_id INTEGER NOT NULL)")
    conn.execute("INSERT INTO search_log (kind, item_id) VALUES ('all', 0)")


def instance_secret(conn: sqlite3.Connection) -> None:
    """A random secret per installation, shared by every process through the database: it signs agent
    and page sessions when server.session_secret is not configured (never derived from guessable values)."""
    conn.execute("CREATE TABLE instance (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.execute("INSERT INTO instance (key, value) VALUES ('session_secret', ?)", (secrets.token_hex(32),))


def search_log_nonce(conn: sqlite3.Connection) -> None:
    """A random nonce on every search-log row. A snapshot of the search index (suggest/snapshot.py) names the
    row it reached by its nonce, which a database restored from a backup and written again cannot repeat."""
    conn.execute("ALTER TABLE search_log ADD COLUMN nonce TEXT")


def ticket_source_time(conn: sqlite3.Connection) -> None:
    """When the helpdesk last changed the ticket text we hold (its own updated_at), so that a change delivered
    late (webhooks carry no order guarantee) cannot replace newer text."""
    conn.execute("ALTER TABLE tickets ADD COLUMN source_updated_at TEXT")


def zendesk_both_ways(conn: sqlite3.Connection) -> None:
    """The ticket's whole life and the knowledge that goes both ways between Zendesk and the sidecar.

    - ticket_timeline: what happened to a ticket in the helpdesk (status, group, assignee, public replies), one
      row per helpdesk event (its own id, so a redelivery adds nothing), ordered by when it happened there;
      tickets carry the current status, group and assignee, and the helpdesk's creation time.
    - cache: answers fetched from a helpdesk API that every process shares (the app's public key, the account's
      ticket fields, agents' display names), with the time they were fetched.
    - audit_log: who did what to which piece of knowledge, when (a publish to Help Center, an import).
    - articles: their Help Center article id and URL, the translation group of their language variants.
    - taxonomy_nodes: the Help Center section a node was imported from or publishes to.
    - macros: a KCS state (imported Zendesk macros arrive as work in progress, not suggested) and their source."""
    for stmt in (
        """CREATE TABLE ticket_timeline (
            id INTEGER PRIMARY KEY,
            ticket_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
            source_event_id TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('created', 'status', 'group', 'assignee', 'public_reply')),
            at TEXT NOT NULL,
            previous TEXT,
            current TEXT,
            actor TEXT,
            recorded_at TEXT NOT NULL,
            UNIQUE (ticket_id, source_event_id, kind))""",
        "CREATE INDEX ticket_timeline_ticket ON ticket_timeline(ticket_id, at)",
        "ALTER TABLE tickets ADD COLUMN status TEXT",
        "ALTER TABLE tickets ADD COLUMN group_id TEXT",
        "ALTER TABLE tickets ADD COLUMN assignee_id TEXT",
        "ALTER TABLE tickets ADD COLUMN source_created_at TEXT",
        "CREATE TABLE cache (key TEXT PRIMARY KEY, value TEXT NOT NULL, fetched_at TEXT NOT NULL)",
        """CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            subject TEXT NOT NULL,
            subject_id INTEGER,
            action TEXT NOT NULL,
            actor TEXT NOT NULL DEFAULT '',
            detail TEXT NOT NULL DEFAULT '{}',
            at TEXT NOT NULL)""",
        "CREATE INDEX audit_log_subject ON audit_log(subject, subject_id, id)",
        "ALTER TABLE articles ADD COLUMN helpdesk_id TEXT",
        "ALTER TABLE articles ADD COLUMN helpdesk_url TEXT",
        "ALTER TABLE articles ADD COLUMN translation_group TEXT",
        "CREATE INDEX articles_helpdesk ON articles(helpdesk_id)",
        "CREATE INDEX articles_translation_group ON articles(translation_group)",
        "ALTER TABLE taxonomy_nodes ADD COLUMN helpdesk_section_id TEXT",
        "ALTER TABLE macros ADD COLUMN state TEXT NOT NULL DEFAULT 'validated' "
        "CHECK (state IN ('wip', 'not_validated', 'validated', 'archived'))",
        "ALTER TABLE macros ADD COLUMN source TEXT NOT NULL DEFAULT 'sidecar'",
    ):
        conn.execute(stmt)


def kcs_loop(conn: sqlite3.Connection) -> None:
    """The improve half of KCS (issue 10).

    - articles: keywords (a JSON list), type (troubleshooting, reference, policy ...), review_by (a date).
    - taxonomy_nodes: owner, the default owner of the articles filed under the node.
    - article_versions: the whole article as JSON at each version (snapshot) and the editor's note; versions
      stored before this migration keep title, body and state only.
    - flags: a flag has an owner to tell, a category, and a life (open, then fixed by a version or rejected with
      a note); existing `flagged` events become flags, open when the article did not change since.
    - notices: what each person is told (a change to an article they reused, a flag on their article, its
      outcome, an audit digest), read or unread, and how it was delivered.
    - people: how to reach a person named in events and owners (display name, e-mail, locale).
    - audit_runs: each knowledge audit's findings."""
    for stmt in (
        "ALTER TABLE articles ADD COLUMN keywords TEXT NOT NULL DEFAULT '[]'",
        "ALTER TABLE articles ADD COLUMN type TEXT NOT NULL DEFAULT 'troubleshooting'",
        "ALTER TABLE articles ADD COLUMN review_by TEXT",
        "ALTER TABLE taxonomy_nodes ADD COLUMN owner TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE article_versions ADD COLUMN snapshot TEXT",
        "ALTER TABLE article_versions ADD COLUMN note TEXT NOT NULL DEFAULT ''",
        """CREATE TABLE flags (
            id INTEGER PRIMARY KEY,
            article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            article_version INTEGER,
            ticket_id INTEGER REFERENCES tickets(id) ON DELETE SET NULL,
            event_id INTEGER,
            flagged_by TEXT NOT NULL,
            category TEXT NOT NULL,
            reason TEXT NOT NULL,
            owner TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'fixed', 'rejected')),
            fixed_version INTEGER,
            resolution_note TEXT,
            resolved_by TEXT,
            created_at TEXT NOT NULL,
            resolved_at TEXT)""",
        "CREATE INDEX flags_status ON flags(status, owner)",
        "CREATE INDEX flags_article ON flags(article_id)",
        """INSERT INTO flags (article_id, article_version, ticket_id, event_id, flagged_by, category, reason, owner,
                              status, resolution_note, resolved_at, created_at)
           SELECT e.article_id, a.version, e.ticket_id, e.id, e.agent, 'outdated', COALESCE(e.reason, ''), a.owner,
                  CASE WHEN e.created_at >= a.updated_at THEN 'open' ELSE 'fixed' END,
                  CASE WHEN e.created_at >= a.updated_at THEN NULL
                       ELSE 'closed by a later change of the article (before flags were tracked)' END,
                  CASE WHEN e.created_at >= a.updated_at THEN NULL ELSE a.updated_at END, e.created_at
           FROM events e JOIN articles a ON a.id = e.article_id WHERE e.kind = 'flagged' ORDER BY e.id""",
        """CREATE TABLE notices (
            id INTEGER PRIMARY KEY,
            recipient TEXT NOT NULL,
            kind TEXT NOT NULL,
            article_id INTEGER REFERENCES articles(id) ON DELETE CASCADE,
            flag_id INTEGER REFERENCES flags(id) ON DELETE SET NULL,
            title TEXT NOT NULL,
            body TEXT NOT NULL DEFAULT '',
            data TEXT NOT NULL DEFAULT '{}',
            delivery TEXT NOT NULL DEFAULT 'in_app',
            delivered_at TEXT,
            created_at TEXT NOT NULL,
            read_at TEXT)""",
        "CREATE INDEX notices_recipient ON notices(recipient, id)",
        "CREATE INDEX notices_article ON notices(article_id, recipient)",
        """CREATE TABLE people (
            name TEXT PRIMARY KEY,
            display_name TEXT NOT NULL DEFAULT '',
            email TEXT NOT NULL DEFAULT '',
            locale TEXT NOT NULL DEFAULT '',
            updated_at TEXT NOT NULL)""",
        """CREATE TABLE audit_runs (
            id INTEGER PRIMARY KEY,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            trigger TEXT NOT NULL DEFAULT '',
            findings TEXT NOT NULL DEFAULT '[]',
            summary TEXT NOT NULL DEFAULT '{}')""",
    ):
        conn.execute(stmt)


def token_expiry(conn: sqlite3.Connection) -> None:
    """API tokens can carry an expiry (issue 13): expires_at, a stored stamp; NULL never expires. An expired token
    is refused like a revoked one, and so are the sessions and sign-in cookies issued from it."""
    conn.execute("ALTER TABLE api_tokens ADD COLUMN expires_at TEXT")


def article_vectors(conn: sqlite3.Connection) -> None:
    """Sentence vectors of articles for the optional semantic extra (issue 14, suggest/semantic.py): computed once
    per article version and model and read by every process, instead of each worker embedding the same articles.
    One row per article and model; a newer version replaces it (the version says which text it was made from)."""
    conn.execute("""CREATE TABLE article_vectors (
        article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        model TEXT NOT NULL,
        version INTEGER NOT NULL,
        vector BLOB NOT NULL,
        PRIMARY KEY (article_id, model))""")


MIGRATIONS = [
    ("initial_schema", initial_schema),
    ("report_indexes", report_indexes),
    ("search_log", search_log),
    ("instance_secret", instance_secret),
    ("search_log_nonce", search_log_nonce),
    ("ticket_source_time", ticket_source_time),
    ("zendesk_both_ways", zendesk_both_ways),
    ("kcs_loop", kcs_loop),
    ("token_expiry", token_expiry),
    ("article_vectors", article_vectors),
]
