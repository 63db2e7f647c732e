"""The OpenAPI description of this API, served by the app itself (no login needed)."""
from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from flask import Response, jsonify

from autograder.api import bp

SPEC_PATH = Path(__file__).resolve().parents[1] / "openapi.yaml"


@cache
def openapi_document() -> dict:
    return yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))


@bp.get("/openapi.yaml")
def openapi_yaml():
    return Response(SPEC_PATH.read_text(encoding="utf-8"), mimetype="application/yaml")


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(openapi_document())
