"""Sources of artifacts: one module per upstream kind (apt, gems, bosh.io, plain files)."""
