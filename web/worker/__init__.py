"""Background work: the scheduler process, its jobs, leadership and the demo's serving."""
