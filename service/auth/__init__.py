"""Sign-in, token refresh, sign-out and password changes."""
