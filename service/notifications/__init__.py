"""Notifications: written notices to petitioners who agreed (email, SMS) and the staff's feed and email."""
