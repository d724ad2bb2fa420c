-- The blog's own schema: what the application's first migration creates.
CREATE TYPE article_status AS ENUM ('draft', 'published', 'archived');

CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    email text NOT NULL UNIQUE
);

CREATE TABLE article (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    author_id bigint NOT NULL REFERENCES users (id),
    title text NOT NULL,
    body text NOT NULL DEFAULT '',
    status article_status NOT NULL DEFAULT 'draft',
    published_at timestamptz,
    metadata jsonb NOT NULL DEFAULT '{}',
    search_vector tsvector,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE comment (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    article_id bigint NOT NULL REFERENCES article (id) ON DELETE CASCADE,
    author_id bigint NOT NULL REFERENCES users (id),
    body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- A composite primary key: one row per tag of an article.
CREATE TABLE tag (
    article_id bigint NOT NULL REFERENCES article (id) ON DELETE CASCADE,
    name text NOT NULL,
    PRIMARY KEY (article_id, name)
);
