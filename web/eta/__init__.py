"""The ETA room: glue between storage and the routing engine, tracks in, predictions out, models stored.

``engine`` keeps each process's EtaEngine for the newest stored model and makes the estimates; ``cache``
and ``lookup`` answer the lookups (the public API and the pages) from a small per-process cache;
``learning`` learns and stores a model and replays history (backtest); ``revisions`` publishes the ETAs
that moved; ``stalls`` says how long a parcel may stay silent. The scheduler's jobs are in
web/worker/eta_jobs.py; the stored rows are tracking/eta_models.py.
"""
