"""The provincial education bureau's aggregate views (never personal data)."""
