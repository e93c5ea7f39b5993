"""Reading replications: forecast summaries and paired scenario comparisons."""
