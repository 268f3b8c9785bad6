"""Leaders' reception days (领导接访): sessions the office schedules, slots petitioners book, visits registered."""
