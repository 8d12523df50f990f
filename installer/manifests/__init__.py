"""installer.manifests.render."""
