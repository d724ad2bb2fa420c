-- Schema v1 of the evolution scenario: what the application starts with.
CREATE TYPE status AS ENUM ('draft', 'published');

CREATE TABLE article (
    id serial PRIMARY KEY,
    title text NOT NULL,
    views integer NOT NULL,
    legacy text,
    secret text,
    status status NOT NULL DEFAULT 'draft'::status
);

CREATE TABLE tag (
    id integer PRIMARY KEY,
    label text NOT NULL
);
