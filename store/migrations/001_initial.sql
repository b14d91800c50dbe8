-- The PostgreSQL seller store, at the state of the SQLite store's schema v2 (store/sqlite-seller-store.ts).
-- Identifiers and OTTO's timestamps are kept as OTTO sent them (text, ordered bytewise like SQLite's
-- BINARY collation: COLLATE "C"); the *_ms columns hold Date.parse() of them, which upserts compare
-- (NULL when unparseable: never newer, like NaN in the SQLite store). JSON stays text, byte for byte.

-- Change numbers for stock and prices, shared by all sellers. Writers take them under a shared advisory
-- lock held until commit; currentChangeSeq() takes it exclusively, so no change number at or below the
-- bound it returns can still be uncommitted (see postgres-seller-store.ts).
CREATE SEQUENCE change_seq AS bigint START 1;

CREATE TABLE orders (
  seller_id text COLLATE "C" NOT NULL,
  sales_order_id text COLLATE "C" NOT NULL,
  order_number text NOT NULL,
  order_date text NOT NULL,
  change_date text COLLATE "C" NOT NULL,
  change_ms double precision,
  lifecycle_change_date text NOT NULL,
  last_modified_date text,
  fulfillment_status text NOT NULL,
  positions text NOT NULL,
  data text,
  imported_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (seller_id, sales_order_id)
);
CREATE INDEX orders_by_change ON orders (seller_id, change_date, sales_order_id);

CREATE TABLE returns (
  seller_id text COLLATE "C" NOT NULL,
  position_item_id text COLLATE "C" NOT NULL,
  sales_order_id text NOT NULL,
  status text NOT NULL,
  occurred_time text COLLATE "C",
  occurred_ms double precision,
  details text NOT NULL,
  imported_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (seller_id, position_item_id)
);

CREATE TABLE stock (
  seller_id text COLLATE "C" NOT NULL,
  sku text COLLATE "C" NOT NULL,
  quantity integer NOT NULL CHECK (quantity >= 0),
  change_seq bigint NOT NULL,
  changed_at timestamptz NOT NULL,
  PRIMARY KEY (seller_id, sku)
);
CREATE INDEX stock_changes ON stock (seller_id, change_seq);

CREATE TABLE prices (
  seller_id text COLLATE "C" NOT NULL,
  sku text COLLATE "C" NOT NULL,
  amount double precision NOT NULL,
  currency text NOT NULL,
  change_seq bigint NOT NULL,
  changed_at timestamptz NOT NULL,
  PRIMARY KEY (seller_id, sku)
);
CREATE INDEX price_changes ON prices (seller_id, change_seq);

CREATE TABLE shipping_profiles (
  seller_id text COLLATE "C" NOT NULL,
  profile_id text COLLATE "C" NOT NULL,
  name text NOT NULL,
  working_days text NOT NULL,
  order_cutoff text NOT NULL,
  delivery_type text NOT NULL,
  default_processing_time integer NOT NULL,
  transport_time integer NOT NULL,
  data text NOT NULL,
  synced_at timestamptz NOT NULL,
  PRIMARY KEY (seller_id, profile_id)
);

CREATE TABLE export_failures (
  seller_id text COLLATE "C" NOT NULL,
  kind text NOT NULL CHECK (kind IN ('stock', 'prices')),
  sku text COLLATE "C" NOT NULL,
  error text NOT NULL,
  attempts integer NOT NULL,
  first_failed_at timestamptz NOT NULL,
  last_failed_at timestamptz NOT NULL,
  PRIMARY KEY (seller_id, kind, sku)
);
