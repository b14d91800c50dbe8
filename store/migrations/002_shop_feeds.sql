-- The shop's side (issue 13): orders and returns get a change number (the shop's change feeds), the
-- idempotency keys of the shop's batch writes (kept 24 h), and the last transfer runs per seller and kind.
-- Existing rows are numbered in their listing order, after every number handed out so far.
ALTER TABLE orders ADD COLUMN change_seq bigint NOT NULL DEFAULT 0;
ALTER TABLE returns ADD COLUMN change_seq bigint NOT NULL DEFAULT 0;
UPDATE orders o SET change_seq = n.seq
  FROM (SELECT seller_id, sales_order_id, nextval('change_seq') AS seq
          FROM (SELECT seller_id, sales_order_id FROM orders ORDER BY change_date, sales_order_id) AS ordered) AS n
  WHERE o.seller_id = n.seller_id AND o.sales_order_id = n.sales_order_id;
UPDATE returns r SET change_seq = n.seq
  FROM (SELECT seller_id, position_item_id, nextval('change_seq') AS seq
          FROM (SELECT seller_id, position_item_id FROM returns
                  ORDER BY occurred_time IS NULL, occurred_time, position_item_id) AS ordered) AS n
  WHERE r.seller_id = n.seller_id AND r.position_item_id = n.position_item_id;
CREATE INDEX orders_feed ON orders (seller_id, change_seq);
CREATE INDEX returns_feed ON returns (seller_id, change_seq);

CREATE TABLE idempotency_keys (
  seller_id text COLLATE "C" NOT NULL,
  key text COLLATE "C" NOT NULL,
  fingerprint text NOT NULL,
  result text,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (seller_id, key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (seller_id, created_at);

CREATE TABLE transfer_runs (
  id bigserial PRIMARY KEY,
  seller_id text COLLATE "C" NOT NULL,
  kind text COLLATE "C" NOT NULL,
  started_at text NOT NULL,
  finished_at text COLLATE "C" NOT NULL,
  result text NOT NULL CHECK (result IN ('ok', 'failed')),
  count integer NOT NULL,
  detail text NOT NULL
);
CREATE INDEX transfer_runs_by_seller ON transfer_runs (seller_id, kind, finished_at);
