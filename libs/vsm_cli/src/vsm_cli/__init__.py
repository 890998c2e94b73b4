"""The `vsm` command line."""
