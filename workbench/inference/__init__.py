"""Fitting the model to the report: ABC-SMC calibration and the predictive check."""
