-- Idempotency keys by age alone: a batch write deletes its own seller's expired keys, and the API deletes
-- every seller's expired keys now and then (api/routes/shop-routes.ts), for sellers that write no more.
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
