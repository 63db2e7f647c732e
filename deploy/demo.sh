#!/usr/bin/env bash
# One command to a graded course: `bash deploy/install.sh && bash deploy/demo.sh`.
# Options: --backend local (no Docker: UNSAFE for untrusted code), --keep-running (browse the
# TA pages until Ctrl-C), --output FILE (the Canvas CSV), --help.  deploy/demo.py does the
# work and stops everything it started on exit, Ctrl-C and SIGTERM included.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 -m deploy.demo "$@"
