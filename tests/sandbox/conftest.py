from tests.sandbox.fixtures import (containers, docker_client, no_containers_left,  # noqa: F401
                                   sandbox_deployment, sandbox_image)
