"""The composition root: services are wired once, at start-up, and nowhere else."""

import subprocess
import sys
from typing import Any

from roost.api.routes.admin import server_admin
from roost.api.routes.admin_invites import invite_admin
from roost.api.routes.admin_users import user_admin


def test_importing_one_service_module_loads_only_what_it_needs() -> None:
    code = "import sys, roost.services.caller; print(' '.join(sorted(sys.modules)))"
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert "roost.services.caller" in loaded
    assert not {"roost.wiring", "roost.services.turns", "roost.engine", "roost.store"} & loaded
    assert not {"fastapi", "sqlalchemy", "httpx"} & loaded


async def test_admin_services_are_the_ones_built_at_start_up(app: Any) -> None:
    services = app.state.services
    assert await user_admin(services) is await user_admin(services) is services.admin.users
    assert await invite_admin(services) is services.admin.invites
    assert await server_admin(services) is services.admin.server
    # Over the app's own services, not copies of them.
    assert services.admin.users.auth is services.auth
    assert services.admin.server.sessions is services.sessions
