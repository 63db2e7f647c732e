def add(a, b):
    return a + b


def probe():
    """One check spins forever; the others must still be graded."""
    while True:
        pass
