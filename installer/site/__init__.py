"""installer.site.model."""
