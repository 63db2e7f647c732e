"""Milestone grading on the server: the training data, the job run in the sandbox, its
scoring, and the learning-curve plot."""
