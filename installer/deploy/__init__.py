"""installer.deploy.driver."""
