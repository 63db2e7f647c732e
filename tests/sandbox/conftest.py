from tests.sandbox.docker_fixtures import (  # noqa: F401
    containers, docker_client, no_containers_left, sandbox_deployment, sandbox_image)
