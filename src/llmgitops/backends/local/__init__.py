"""The local backend: the pipeline run on this machine, offline, with a local deployment state."""
