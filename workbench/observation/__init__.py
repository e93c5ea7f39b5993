"""From a run to what the report counts: the observation operator and monthly summaries."""
