-- The physical floor of a hand-off: claim the next queued row and lease it,
-- nothing else. Run by bench/dialer_handoffs.py on its scratch copy of the
-- target table (bench_dialer_floor, every row due), e.g.
--   pgbench -n -f bench/dialer_floor.sql -D campaign=ID -c 8 -j 2 -T 20 -h 127.0.0.1 -U postgres DB
-- The coalesce keeps a client alive when the copy runs dry (id 0 matches nothing).
BEGIN;
SELECT coalesce((SELECT id FROM bench_dialer_floor
                  WHERE campaign_id = :campaign AND status = 'queued' AND next_attempt_at <= now()
                  ORDER BY priority DESC, next_attempt_at, id
                  LIMIT 1 FOR UPDATE SKIP LOCKED), 0) AS claimed \gset
UPDATE bench_dialer_floor SET status = 'leased', lease_until = now() + interval '10 minutes',
       attempts = attempts + 1, updated_at = now()
 WHERE id = :claimed;
COMMIT;
