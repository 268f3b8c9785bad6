"""Forecasts of next quarter's petition volume: the computation (``compute``, pure, statsforecast), the stored
forecasts and the monthly history they come from (``store``), the monthly job (``jobs``)."""
