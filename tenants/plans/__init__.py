"""The emergency plan (預案): versioned content, its rules, checks, readiness and the plan document."""
