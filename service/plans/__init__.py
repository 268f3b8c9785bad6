"""The emergency plan's HTTP and jobs: versions, sections, publication, readiness, documents (the rules live in
``tenants.plans``)."""
