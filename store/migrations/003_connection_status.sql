-- Each seller's connection status as its workflow last published it (issue 15): the worker writes it from
-- the workflow's status sink, GET /api/sellers/:id/connection reads it instead of calling Temporal. Times
-- in ms since the epoch; a write replaces the row only when (run_started_at, history_length, seq) is greater.
CREATE TABLE connection_status (
  seller_id text COLLATE "C" PRIMARY KEY,
  run_id text NOT NULL,
  run_started_at bigint NOT NULL,
  history_length integer NOT NULL,
  seq integer NOT NULL,
  summary text NOT NULL,
  valid_until bigint NOT NULL,
  updated_at bigint NOT NULL
);
