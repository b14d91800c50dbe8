-- Each installation's current token, sealed (common/seal.ts), so the seller workflow's history carries
-- only its handle (activities/token-vault.ts). expires_at in ms since the epoch; a write replaces the row
-- only when its token expires as late or later.
CREATE TABLE installation_tokens (
  seller_id text COLLATE "C" NOT NULL,
  installation_id text COLLATE "C" NOT NULL,
  handle text NOT NULL,
  sealed text NOT NULL,
  expires_at bigint NOT NULL,
  PRIMARY KEY (seller_id, installation_id)
);
