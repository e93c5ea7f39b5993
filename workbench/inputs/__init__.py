"""What the workbench reads: parameters, levers, pairings, observations, priors, scenarios, the posterior."""
