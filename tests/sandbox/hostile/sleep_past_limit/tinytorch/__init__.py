import time


def probe():
    time.sleep(3600)
    return "woke up"
