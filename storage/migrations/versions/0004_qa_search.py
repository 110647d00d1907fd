"""Q&A search index, kept in sync by triggers so no application code has to remember to index.

Two views of the archive: the whole thread (a question's text plus all its answers) for /qa-search,
and the question texts alone for the similar questions /ask shows, with their word frequencies.

SQLite: FTS5 with the `unicode61 remove_diacritics 2` tokenizer (case and accents never matter).
`qa_fts` holds threads (rowid = question id; columns question and answers, no positions);
`qa_fts_questions` indexes the question texts alone with neither positions nor columns
(`detail=none`, external content: no second copy of the text), which makes scanning a word's
questions several times cheaper, and `qa_fts_vocab` reads its document frequencies.

PostgreSQL: the same two views as tables with GIN indexes: `qa_fts_questions` (question_id, words)
and `qa_fts` (question_id, n_answers, document: question weight A, answers weight D). No
extension is needed (`unaccent` may be refused by hosted databases): `qa_fts_fold` lower-cases and
strips accents with normalize() (PostgreSQL 13+), or a translate() table on older servers.

Every object is named `qa_fts*` (tables, and on PostgreSQL a partial index of drafts on
`questions`) so the autogenerate comparison can leave it out (`storage.qa_search.include_name`):
the models do not describe the search index.

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


# Combining diacritical marks (the blocks that accent Latin, Greek and Cyrillic letters), as
# storage.qa_search.fold strips them from query words.
MARKS = r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"
# ASCII punctuation becomes spaces in documents, so "3.5", "bien-être", URLs and e-mails split into
# the words a query is split into (PostgreSQL's parser would otherwise keep them whole).
PUNCTUATION = "[!-/:-@[-`{-~]"


def fold_sql(modern: bool) -> str:
    """Lower case without accents. `normalize` (PostgreSQL 13+, UTF-8 databases) decomposes, the
    marks go, the rest recomposes; elsewhere a translate() table of accented Latin letters does,
    an order of magnitude slower."""
    if modern:
        return f"lower(normalize(regexp_replace(normalize($1, NFD), '{MARKS}', '', 'g'), NFC))"
    letters, bases = accent_table()
    marks = "".join(chr(c) for c in range(0x300, 0x370))  # translate() drops unpaired characters
    return f"lower(translate($1, '{letters}{marks}', '{bases}'))"  # accents first: any locale


def accent_table() -> tuple[str, str]:
    """Latin letters with diacritics (Latin-1, Extended-A/B, Extended Additional) and their base
    letters, by the NFD rule, for databases without normalize()."""
    letters, bases = [], []
    for code in [*range(0xC0, 0x250), *range(0x1E00, 0x1F00)]:
        decomposed = unicodedata.normalize("NFD", chr(code))
        base, marks = decomposed[0], decomposed[1:]
        combining = all(unicodedata.category(m) == "Mn" for m in marks)
        if marks and combining and base.isascii() and base.isalpha():
            letters.append(chr(code))
            bases.append(base)
    return "".join(letters), "".join(bases)


_QUESTIONS_INSERT = "INSERT INTO qa_fts_questions (rowid, text) VALUES (new.id, new.text);"
# An external-content table forgets a row by being told exactly what it indexed.
_QUESTIONS_DELETE = (
    "INSERT INTO qa_fts_questions (qa_fts_questions, rowid, text) VALUES ('delete', old.id, old.text);"
)
# One statement re-reads a question's answers; used by the insert, update and delete triggers.
_ANSWERS_REFRESH = """UPDATE qa_fts SET answers = coalesce(
        (SELECT group_concat(a.text, char(10)) FROM answers a WHERE a.question_id = qa_fts.rowid), '')
    WHERE rowid IN ({ids});"""
SQLITE_UPGRADE = [
    # detail=column: which column holds a word (the ranking's "in the question or only in the
    # answers"), without positions, which no query needs.
    "CREATE VIRTUAL TABLE qa_fts USING fts5("
    "question, answers, detail = column, tokenize = 'unicode61 remove_diacritics 2')",
    "CREATE VIRTUAL TABLE qa_fts_questions USING fts5("
    "text, content = 'questions', content_rowid = 'id', detail = none, "
    "tokenize = 'unicode61 remove_diacritics 2')",
    "CREATE VIRTUAL TABLE qa_fts_vocab USING fts5vocab(qa_fts_questions, 'row')",
    f"""CREATE TRIGGER qa_fts_question_insert AFTER INSERT ON questions BEGIN
        INSERT INTO qa_fts (rowid, question, answers) VALUES (new.id, new.text, '');
        {_QUESTIONS_INSERT}
    END""",
    f"""CREATE TRIGGER qa_fts_question_update AFTER UPDATE OF text ON questions BEGIN
        UPDATE qa_fts SET question = new.text WHERE rowid = new.id;
        {_QUESTIONS_DELETE}
        {_QUESTIONS_INSERT}
    END""",
    f"""CREATE TRIGGER qa_fts_question_delete AFTER DELETE ON questions BEGIN
        DELETE FROM qa_fts WHERE rowid = old.id;
        {_QUESTIONS_DELETE}
    END""",
    f"CREATE TRIGGER qa_fts_answer_insert AFTER INSERT ON answers BEGIN "
    f"{_ANSWERS_REFRESH.format(ids='new.question_id')} END",
    f"CREATE TRIGGER qa_fts_answer_update AFTER UPDATE OF text, question_id ON answers BEGIN "
    f"{_ANSWERS_REFRESH.format(ids='old.question_id, new.question_id')} END",
    f"CREATE TRIGGER qa_fts_answer_delete AFTER DELETE ON answers BEGIN "
    f"{_ANSWERS_REFRESH.format(ids='old.question_id')} END",
    """INSERT INTO qa_fts (rowid, question, answers)
        SELECT q.id, q.text, coalesce(a.body, '')
        FROM questions q
        LEFT JOIN (SELECT question_id, group_concat(text, char(10)) AS body
                   FROM answers GROUP BY question_id) a ON a.question_id = q.id""",
    "INSERT INTO qa_fts (qa_fts) VALUES ('optimize')",
    "INSERT INTO qa_fts_questions (qa_fts_questions) VALUES ('rebuild')",
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
    "DROP TABLE IF EXISTS qa_fts_questions",
    "DROP TABLE IF EXISTS qa_fts",
]


def _postgres_upgrade(modern: bool) -> list[str]:
    return [
        f"""CREATE FUNCTION qa_fts_fold(t text) RETURNS text
            LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
            AS $$ SELECT {fold_sql(modern)} $$""",
        f"""CREATE FUNCTION qa_fts_words(t text) RETURNS tsvector
            LANGUAGE sql IMMUTABLE PARALLEL SAFE
            AS $$ SELECT to_tsvector('simple',
                regexp_replace(qa_fts_fold(coalesce($1, '')), '{PUNCTUATION}', ' ', 'g')) $$""",
        # The question texts alone: written once per question (edits are rare), so the table
        # stays compact and a word's questions are read from few pages.
        """CREATE TABLE qa_fts_questions (
            question_id integer PRIMARY KEY REFERENCES questions (id) ON DELETE CASCADE,
            words tsvector NOT NULL
        )""",
        # Threads: the question's words (weight A) and its answers' (D), with how many answers.
        """CREATE TABLE qa_fts (
            question_id integer PRIMARY KEY REFERENCES questions (id) ON DELETE CASCADE,
            n_answers integer NOT NULL DEFAULT 0,
            document tsvector NOT NULL
        )""",
        """CREATE FUNCTION qa_fts_thread(qid integer) RETURNS void LANGUAGE sql
            AS $$
            UPDATE qa_fts SET n_answers = a.n, document = setweight(w.words, 'A') || setweight(a.words, 'D')
            FROM (SELECT words FROM qa_fts_questions WHERE question_id = qid) w,
                 (SELECT count(*) AS n, qa_fts_words(string_agg(text, E'\\n' ORDER BY id)) AS words
                  FROM answers WHERE question_id = qid) a
            WHERE qa_fts.question_id = qid
            $$""",
        """CREATE FUNCTION qa_fts_question_changed() RETURNS trigger LANGUAGE plpgsql
            AS $$ BEGIN
                IF TG_OP = 'INSERT' THEN
                    INSERT INTO qa_fts_questions (question_id, words) VALUES (NEW.id, qa_fts_words(NEW.text));
                    INSERT INTO qa_fts (question_id, document)
                    SELECT NEW.id, setweight(words, 'A') FROM qa_fts_questions WHERE question_id = NEW.id;
                ELSE
                    UPDATE qa_fts_questions SET words = qa_fts_words(NEW.text) WHERE question_id = NEW.id;
                    PERFORM qa_fts_thread(NEW.id);
                END IF;
                RETURN NULL;
            END $$""",
        """CREATE FUNCTION qa_fts_answer_changed() RETURNS trigger LANGUAGE plpgsql
            AS $$ BEGIN
                IF TG_OP <> 'INSERT' THEN PERFORM qa_fts_thread(OLD.question_id); END IF;
                IF TG_OP = 'INSERT' OR NEW.question_id IS DISTINCT FROM OLD.question_id THEN
                    PERFORM qa_fts_thread(NEW.question_id);
                END IF;
                RETURN NULL;
            END $$""",
        # A deleted question takes its rows with it through the foreign keys.
        """CREATE TRIGGER qa_fts_question AFTER INSERT OR UPDATE OF text ON questions
            FOR EACH ROW EXECUTE FUNCTION qa_fts_question_changed()""",
        """CREATE TRIGGER qa_fts_answer AFTER INSERT OR DELETE OR UPDATE OF text, question_id ON answers
            FOR EACH ROW EXECUTE FUNCTION qa_fts_answer_changed()""",
        "INSERT INTO qa_fts_questions (question_id, words) SELECT id, qa_fts_words(text) FROM questions",
        """INSERT INTO qa_fts (question_id, n_answers, document)
            SELECT w.question_id, coalesce(a.n, 0),
                   setweight(w.words, 'A') || setweight(qa_fts_words(a.body), 'D')
            FROM qa_fts_questions w
            LEFT JOIN (SELECT question_id, count(*) AS n, string_agg(text, E'\\n' ORDER BY id) AS body
                       FROM answers GROUP BY question_id) a ON a.question_id = w.question_id""",
        # fastupdate off: no pending list for every search to scan; the bot writes little, reads often.
        "CREATE INDEX qa_fts_questions_idx ON qa_fts_questions USING gin (words) WITH (fastupdate = off)",
        "CREATE INDEX qa_fts_document_idx ON qa_fts USING gin (document) WITH (fastupdate = off)",
        # Drafts (questions not posted yet) are few: counting a search's hits subtracts theirs.
        "CREATE INDEX qa_fts_drafts ON questions (id) WHERE root_message_id IS NULL",
    ]


POSTGRES_DOWNGRADE = [
    "DROP INDEX IF EXISTS qa_fts_drafts",
    "DROP TRIGGER IF EXISTS qa_fts_answer ON answers",
    "DROP TRIGGER IF EXISTS qa_fts_question ON questions",
    "DROP TABLE IF EXISTS qa_fts",
    "DROP TABLE IF EXISTS qa_fts_questions",
    "DROP FUNCTION IF EXISTS qa_fts_answer_changed()",
    "DROP FUNCTION IF EXISTS qa_fts_question_changed()",
    "DROP FUNCTION IF EXISTS qa_fts_thread(integer)",
    "DROP FUNCTION IF EXISTS qa_fts_words(text)",
    "DROP FUNCTION IF EXISTS qa_fts_fold(text)",
]


def _has_normalize() -> bool:
    """normalize() exists from PostgreSQL 13, in UTF-8 databases only."""
    bind = op.get_bind()
    version = int(bind.exec_driver_sql("SHOW server_version_num").scalar_one())
    encoding = bind.exec_driver_sql("SHOW server_encoding").scalar_one()
    return version >= 130000 and encoding == "UTF8"


def _run(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(SQLITE_UPGRADE)
    elif dialect == "postgresql":
        _run(_postgres_upgrade(_has_normalize()))
    else:
        raise NotImplementedError(f"no Q&A search index for {dialect}")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(SQLITE_DOWNGRADE)
    elif dialect == "postgresql":
        _run(POSTGRES_DOWNGRADE)
