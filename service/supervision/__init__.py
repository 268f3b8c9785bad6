"""Supervision orders (督查督办): the petition office or the leadership group asks a unit for a result by a time."""
