"""Emergency incidents: the plan's seven steps as a working flow."""
