-- One-time ids that were spent (e.g. the assistant's one-time links, api/one-time-ids.ts), shared by
-- every API replica so a link opens once across replicas and restarts. expires_at in ms since the epoch:
-- after it the id is refused for its own expiry anyway, and the row may be deleted.
CREATE TABLE spent_ids (
  scope text COLLATE "C" NOT NULL,
  id text COLLATE "C" NOT NULL,
  expires_at bigint NOT NULL,
  PRIMARY KEY (scope, id)
);
CREATE INDEX spent_ids_by_expiry ON spent_ids (expires_at);
