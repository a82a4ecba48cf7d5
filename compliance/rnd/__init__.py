"""The FCC Reassigned Numbers Database (RND): what was asked, what it answered.

47 CFR 64.1200(m): a caller that relies on consent is protected from a call
to a reassigned number only if it queried the latest RND with the number and
the consent's date and got "no"; "no data" protects nothing, and the caller
must prove the query. So every answer, however it came (an adapter, an
imported file), is recorded in the RND query ledger (`models.RndQuery`),
append-only and hash-chained like the decision log, and the decision reads
the latest answers from there (`selectors.rnd_latest_answers`).

- `answers`: the answer values, how the RND computes them, freshness (pure);
- `models` / `chain`: the ledger and its hash chain;
- `adapters`: one interface (`query([(number, date)]) -> answers`) over a
  recorded table, upload/result files, DNC.com's and Twilio's APIs;
- `due`: what must be asked (apps above register who calls what);
- `services` / `selectors`: writes and reads.
"""
