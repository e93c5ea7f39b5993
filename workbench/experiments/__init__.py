"""Many replications: set-up, seeds, workers or a Dask cluster, the ¶25 condition."""
