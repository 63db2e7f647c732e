def probe():
    """Touch 100 MB after 100 MB until something stops us."""
    hoard = []
    while True:
        hoard.append(b"x" * (100 * 1024 * 1024))
