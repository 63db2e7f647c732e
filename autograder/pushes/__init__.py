"""Pushes: the hook script git runs, the socket bridge to the API process, and what the API
decides for each push (record submissions, enqueue grading)."""
