"""The organization chart's HTTP: units, people, posts, emergency groups, import and export (the rules live in
``tenants.org``)."""
