-- servicebot's store on PostgreSQL, version 1 (bot/store/pg.py; docs/storage.md).
-- Every table of the store (tickets, audit, inbox, deliveries, ...) is a set of JSONB documents keyed by
-- (table, id), exactly like the journal store's tables; store_tables keeps each table's next id (ids only
-- go up, as in the journal store).

CREATE TABLE store_tables (
    tbl     text PRIMARY KEY,
    next_id bigint NOT NULL DEFAULT 1 CHECK (next_id >= 1)
);

CREATE TABLE documents (
    tbl text   NOT NULL,
    id  bigint NOT NULL CHECK (id >= 0),
    doc jsonb  NOT NULL CHECK (jsonb_typeof(doc) = 'object'),
    PRIMARY KEY (tbl, id)
);

-- find(field, value): the fields the repositories declare as indexed (bot/store/*.py, store.table(...,
-- index=...)). The key is the field's JSON text, so 1, 1.0, true and "1" stay apart as in the journal
-- store's indexes. A field declared later gets the same kind of index when first declared (pg.py).
CREATE INDEX documents_by_status   ON documents (tbl, ((doc -> 'status')::text));
CREATE INDEX documents_by_asker_id ON documents (tbl, ((doc -> 'asker_id')::text));
CREATE INDEX documents_by_source   ON documents (tbl, ((doc -> 'source')::text));
CREATE INDEX documents_by_key      ON documents (tbl, ((doc -> 'key')::text));
CREATE INDEX documents_by_name     ON documents (tbl, ((doc -> 'name')::text));
CREATE INDEX documents_by_bucket   ON documents (tbl, ((doc -> 'bucket')::text));
CREATE INDEX documents_by_path     ON documents (tbl, ((doc -> 'path')::text));
CREATE INDEX documents_by_origin   ON documents (tbl, ((doc -> 'origin')::text));
CREATE INDEX documents_by_url      ON documents (tbl, ((doc -> 'url')::text));
