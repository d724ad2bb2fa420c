-- Schema v2: every kind of change the audit trail must survive.
ALTER TABLE article RENAME COLUMN title TO headline;
ALTER TABLE article ADD COLUMN published_on date;
ALTER TABLE article DROP COLUMN legacy;
ALTER TABLE article ALTER COLUMN views TYPE text;
ALTER TABLE article RENAME TO post;

CREATE TABLE comment (
    id serial PRIMARY KEY,
    post_id integer NOT NULL,
    body text NOT NULL
);
