"""The materials inventory's HTTP (the rules live in ``tenants.materials``)."""
