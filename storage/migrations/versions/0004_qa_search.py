"""Q&A search index: one document per question (its text plus all its answers), kept in sync by
triggers so no application code has to remember to index.

SQLite: an FTS5 table `qa_fts` (rowid = question id; columns question, answers, n_answers) with the
`unicode61 remove_diacritics 2` tokenizer (case and accents never matter) and an `fts5vocab` view
`qa_fts_vocab` for document frequencies.

PostgreSQL: a table `qa_fts` (question_id, n_answers, document tsvector) with a GIN index. No
extension is needed (`unaccent` may be refused by hosted databases): `qa_fts_fold` lower-cases and
strips accents with `translate`, the question text gets weight A and the answers weight D.

Every object is named `qa_*fts*` so the autogenerate comparison can leave it out
(`storage.qa_search.include_name`): the models do not describe the index.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

import unicodedata

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _accent_table() -> tuple[str, str]:
    """Latin letters with diacritics (Latin-1, Extended-A/B, Extended Additional) and their base
    letters, by the same NFD rule storage.qa_search uses for query words; frozen here when it runs."""
    letters, bases = [], []
    for code in [*range(0xC0, 0x250), *range(0x1E00, 0x1F00)]:
        decomposed = unicodedata.normalize("NFD", chr(code))
        base, marks = decomposed[0], decomposed[1:]
        if marks and base.isascii() and base.isalpha():
            if all(unicodedata.category(m) == "Mn" for m in marks):
                letters.append(chr(code))
                bases.append(base)
    return "".join(letters), "".join(bases)


# Combining marks (text typed in decomposed form): translate() deletes characters it has no pair for.
COMBINING_MARKS = "".join(chr(c) for c in range(0x300, 0x370))
# ASCII punctuation becomes spaces in documents, so "3.5", "bien-être", URLs and e-mails split into
# the same words a query is split into (PostgreSQL's parser would otherwise keep them whole).
PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


SQLITE_UPGRADE = [
    "CREATE VIRTUAL TABLE qa_fts USING fts5("
    "question, answers, n_answers UNINDEXED, tokenize = 'unicode61 remove_diacritics 2')",
    # ORDER BY rank then means bm25 with the question text weighing four times the answers.
    "INSERT INTO qa_fts (qa_fts, rank) VALUES ('rank', 'bm25(4.0, 1.0)')",
    "CREATE VIRTUAL TABLE qa_fts_vocab USING fts5vocab(qa_fts, 'row')",
    """CREATE TRIGGER qa_fts_question_insert AFTER INSERT ON questions BEGIN
        INSERT INTO qa_fts (rowid, question, answers, n_answers) VALUES (new.id, new.text, '', 0);
    END""",
    """CREATE TRIGGER qa_fts_question_update AFTER UPDATE OF text ON questions BEGIN
        UPDATE qa_fts SET question = new.text WHERE rowid = new.id;
    END""",
    """CREATE TRIGGER qa_fts_question_delete AFTER DELETE ON questions BEGIN
        DELETE FROM qa_fts WHERE rowid = old.id;
    END""",
]
# One statement re-reads a question's answers; used by the insert, update and delete triggers.
_SQLITE_REFRESH = """UPDATE qa_fts SET
        answers = coalesce((SELECT group_concat(a.text, char(10)) FROM answers a
                            WHERE a.question_id = qa_fts.rowid), ''),
        n_answers = (SELECT count(*) FROM answers a WHERE a.question_id = qa_fts.rowid)
    WHERE rowid IN ({ids});"""
SQLITE_UPGRADE += [
    "CREATE TRIGGER qa_fts_answer_insert AFTER INSERT ON answers BEGIN "
    + _SQLITE_REFRESH.format(ids="new.question_id")
    + " END",
    "CREATE TRIGGER qa_fts_answer_update AFTER UPDATE OF text, question_id ON answers BEGIN "
    + _SQLITE_REFRESH.format(ids="old.question_id, new.question_id")
    + " END",
    "CREATE TRIGGER qa_fts_answer_delete AFTER DELETE ON answers BEGIN "
    + _SQLITE_REFRESH.format(ids="old.question_id")
    + " END",
    """INSERT INTO qa_fts (rowid, question, answers, n_answers)
        SELECT q.id, q.text,
               coalesce((SELECT group_concat(a.text, char(10)) FROM answers a WHERE a.question_id = q.id), ''),
               (SELECT count(*) FROM answers a WHERE a.question_id = q.id)
        FROM questions q""",
    "INSERT INTO qa_fts (qa_fts) VALUES ('optimize')",
]
SQLITE_DOWNGRADE = [
    *(
        f"DROP TRIGGER IF EXISTS qa_fts_{name}"
        for name in (
            "question_insert",
            "question_update",
            "question_delete",
            "answer_insert",
            "answer_update",
            "answer_delete",
        )
    ),
    "DROP TABLE IF EXISTS qa_fts_vocab",
    "DROP TABLE IF EXISTS qa_fts",
]


def _postgres_upgrade() -> list[str]:
    letters, bases = _accent_table()
    fold_from = _literal(letters + COMBINING_MARKS)
    punctuation, spaces = _literal(PUNCTUATION), _literal(" " * len(PUNCTUATION))
    return [
        # Accents first (upper and lower case), then lower(): right even in a C-locale database.
        f"""CREATE FUNCTION qa_fts_fold(t text) RETURNS text
            LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
            AS $$ SELECT lower(translate($1, {fold_from}, {_literal(bases)})) $$""",
        f"""CREATE FUNCTION qa_fts_document(question text, answers text) RETURNS tsvector
            LANGUAGE sql IMMUTABLE PARALLEL SAFE
            AS $$ SELECT
                setweight(to_tsvector('simple',
                    translate(qa_fts_fold(coalesce($1, '')), {punctuation}, {spaces})), 'A')
                || setweight(to_tsvector('simple',
                    translate(qa_fts_fold(coalesce($2, '')), {punctuation}, {spaces})), 'D') $$""",
        """CREATE TABLE qa_fts (
            question_id integer PRIMARY KEY REFERENCES questions (id) ON DELETE CASCADE,
            n_answers integer NOT NULL DEFAULT 0,
            document tsvector NOT NULL
        )""",
        """CREATE FUNCTION qa_fts_refresh(qid integer) RETURNS void LANGUAGE sql
            AS $$
            INSERT INTO qa_fts (question_id, n_answers, document)
            SELECT q.id,
                   (SELECT count(*) FROM answers a WHERE a.question_id = q.id),
                   qa_fts_document(q.text, (SELECT string_agg(a.text, E'\\n' ORDER BY a.id)
                                            FROM answers a WHERE a.question_id = q.id))
            FROM questions q WHERE q.id = qid
            ON CONFLICT (question_id)
                DO UPDATE SET n_answers = excluded.n_answers, document = excluded.document
            $$""",
        """CREATE FUNCTION qa_fts_question_changed() RETURNS trigger LANGUAGE plpgsql
            AS $$ BEGIN PERFORM qa_fts_refresh(NEW.id); RETURN NULL; END $$""",
        """CREATE FUNCTION qa_fts_answer_changed() RETURNS trigger LANGUAGE plpgsql
            AS $$ BEGIN
                IF TG_OP <> 'INSERT' THEN PERFORM qa_fts_refresh(OLD.question_id); END IF;
                IF TG_OP = 'INSERT' OR NEW.question_id IS DISTINCT FROM OLD.question_id THEN
                    PERFORM qa_fts_refresh(NEW.question_id);
                END IF;
                RETURN NULL;
            END $$""",
        # A deleted question takes its row with it through the foreign key.
        """CREATE TRIGGER qa_fts_question AFTER INSERT OR UPDATE OF text ON questions
            FOR EACH ROW EXECUTE FUNCTION qa_fts_question_changed()""",
        """CREATE TRIGGER qa_fts_answer AFTER INSERT OR DELETE OR UPDATE OF text, question_id ON answers
            FOR EACH ROW EXECUTE FUNCTION qa_fts_answer_changed()""",
        """INSERT INTO qa_fts (question_id, n_answers, document)
            SELECT q.id, coalesce(a.n, 0), qa_fts_document(q.text, a.body)
            FROM questions q
            LEFT JOIN (SELECT question_id, count(*) AS n, string_agg(text, E'\\n' ORDER BY id) AS body
                       FROM answers GROUP BY question_id) a ON a.question_id = q.id""",
        "CREATE INDEX qa_fts_document_idx ON qa_fts USING gin (document)",
    ]


POSTGRES_DOWNGRADE = [
    "DROP TRIGGER IF EXISTS qa_fts_answer ON answers",
    "DROP TRIGGER IF EXISTS qa_fts_question ON questions",
    "DROP TABLE IF EXISTS qa_fts",
    "DROP FUNCTION IF EXISTS qa_fts_answer_changed()",
    "DROP FUNCTION IF EXISTS qa_fts_question_changed()",
    "DROP FUNCTION IF EXISTS qa_fts_refresh(integer)",
    "DROP FUNCTION IF EXISTS qa_fts_document(text, text)",
    "DROP FUNCTION IF EXISTS qa_fts_fold(text)",
]


def _run(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(SQLITE_UPGRADE)
    elif dialect == "postgresql":
        _run(_postgres_upgrade())
    else:
        raise NotImplementedError(f"no Q&A search index for {dialect}")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(SQLITE_DOWNGRADE)
    elif dialect == "postgresql":
        _run(POSTGRES_DOWNGRADE)
