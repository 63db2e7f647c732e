"""Course milestones: whole programs built only from ``tinytorch`` (``python -m milestones.<name>``)."""
