"""Student repos on disk and the git smart HTTP endpoint that serves them."""
