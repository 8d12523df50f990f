"""Install and deploy steps, each idempotent and journaled."""
