"""A living demo world: simulated China→Russia parcel traffic that drives Silkway only through its API.

``silkway demo`` builds a reproducible world (web.demo.build); ``web.demo.live.run_live`` keeps it
going against a running server. The simulator's ground truth lives in its own table (web.demo.truth).
"""
