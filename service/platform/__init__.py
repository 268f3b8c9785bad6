"""The platform: universities onboarded, suspended, reactivated; bureau accounts; the provisioning job."""
