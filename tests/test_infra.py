"""The deployment files agree with the code: compose services, environment names, CI entry."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
import pytest
import yaml

from promo.devtools import embedded

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "beat")
REQUIRED_ENV = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS")


def interpolate(value: str) -> str:
    """Resolve compose's ${NAME}, ${NAME:-default} and ${NAME:?error} the way compose would
    with NAME set to a placeholder (for :?) or unset (otherwise)."""

    def resolve(match: re.Match) -> str:
        operator, operand = match.group(2), match.group(3) or ""
        if operator in (":?", "?"):
            return "set-by-operator"
        return operand if operator in (":-", "-") else ""

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}", resolve, value)


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the "- NAME=value" form
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {name: interpolate(str(value)) for name, value in env.items()}


def command(service: dict) -> str:
    cmd = service.get("command", "")
    return " ".join(cmd) if isinstance(cmd, list) else str(cmd)


def depends_on(service: dict) -> set[str]:
    deps = service.get("depends_on") or []
    return set(deps)  # a list of names, or a mapping name -> {condition: ...}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def read_variables() -> set[str]:
    from django.conf import settings

    settings.INSTALLED_APPS  # noqa: B018 - loading the settings fills READ_VARIABLES
    from promo.core.env import READ_VARIABLES

    return set(READ_VARIABLES)


def test_compose_has_every_service(compose):
    assert {"db", "redis", *APP_SERVICES} <= set(compose["services"])


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_get_the_required_environment(compose, name):
    env = environment(compose["services"][name])
    missing = [key for key in REQUIRED_ENV if not env.get(key)]
    assert not missing, f"{name} lacks {missing}"
    assert env["DEBUG"] in {"0", "false", "False"}, "compose is production-like"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_db_and_redis(compose, name):
    service = compose["services"][name]
    assert {"db", "redis"} <= depends_on(service)
    deps = service["depends_on"]
    if isinstance(deps, dict):
        for dep in ("db", "redis"):
            assert deps[dep].get("condition") == "service_healthy", f"{name} -> {dep}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_urls_point_at_the_compose_services(compose, name):
    env = environment(compose["services"][name])
    database = dj_database_url.parse(env["DATABASE_URL"])
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert database["HOST"] == "db"
    assert database["NAME"] == compose["services"]["db"]["environment"]["POSTGRES_DB"]
    # The application role, not the owner (issue #16: it cannot erase the trails).
    assert database["USER"] != compose["services"]["db"]["environment"]["POSTGRES_USER"]
    assert database["USER"] == environment(compose["services"]["migrate"])["PROMO_DB_APP_ROLE"]
    redis = urlsplit(env["REDIS_URL"])
    assert redis.scheme == "redis"
    assert redis.hostname == "redis"


def test_db_and_redis_are_healthchecked_and_persistent(compose):
    for name in ("db", "redis"):
        service = compose["services"][name]
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
        assert service.get("volumes"), f"{name} keeps no data"
    assert "--appendonly yes" in command(compose["services"]["redis"])


@pytest.mark.django_db(transaction=True)
def test_web_healthcheck_probes_readyz_and_passes_against_a_running_server(compose, live_server):
    probe = compose["services"]["web"]["healthcheck"]["test"]
    assert probe[:3] == ["CMD", "python", "-c"]
    code = probe[3]
    assert "http://127.0.0.1:8000/readyz" in code
    run = subprocess.run(
        [sys.executable, "-c", code.replace("http://127.0.0.1:8000", live_server.url)],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "ALLOWED_HOSTS": "localhost,127.0.0.1"},
    )
    assert run.returncode == 0, run.stderr


def test_worker_and_beat_commands(compose):
    worker = shlex.split(command(compose["services"]["worker"]))
    beat = shlex.split(command(compose["services"]["beat"]))
    assert "celery" in worker and "worker" in worker
    assert "celery" in beat and "beat" in beat
    web = command(compose["services"]["web"])
    assert "gunicorn -c python:promo.gunicorn_conf promo.wsgi:application" in web
    # The owner migrates and grants the application role before the app services start.
    migrate = compose["services"]["migrate"]
    steps = command(migrate)
    assert "migrate --noinput" in steps and "db_roles --app-role" in steps
    assert steps.index("migrate --noinput") < steps.index("db_roles")
    owner = dj_database_url.parse(environment(migrate)["DATABASE_URL"])["USER"]
    assert owner == compose["services"]["db"]["environment"]["POSTGRES_USER"]
    for name in APP_SERVICES:
        condition = compose["services"][name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully"


def test_worker_and_beat_are_healthchecked(compose):
    worker = compose["services"]["worker"]["healthcheck"]["test"]
    beat = compose["services"]["beat"]["healthcheck"]["test"]
    assert "inspect ping" in " ".join(worker)
    assert beat[1:] == ["python", "manage.py", "heartbeat", "--check", "beat"]


def test_compose_only_sets_variables_the_settings_read(compose, read_variables):
    given = set()
    for name in APP_SERVICES:
        given |= set(environment(compose["services"][name]))
    unread = sorted(given - read_variables)
    assert not unread, f"docker-compose.yml sets variables no setting reads: {unread}"


def test_env_example_documents_every_variable(read_variables):
    example = ROOT / ".env.example"
    assert example.is_file(), ".env.example is missing"
    text = example.read_text(encoding="utf-8")
    documented = set(re.findall(r"^[ \t]*#?[ \t]*([A-Z][A-Z0-9_]*)=", text, flags=re.M))
    missing = sorted(read_variables - documented)
    assert not missing, f".env.example does not mention: {missing}"


def test_ci_runs_make_test_and_nothing_else():
    script = ROOT / ".ci" / "run"
    assert script.stat().st_mode & 0o111, ".ci/run must be executable"
    lines = [line.strip() for line in script.read_text(encoding="utf-8").splitlines()]
    assert lines[0] == "#!/usr/bin/env bash"
    steps = [line for line in lines[1:] if line and not line.startswith("#")]
    assert "set -euo pipefail" in steps
    runners = [step for step in steps if not step.startswith(("set ", "cd "))]
    assert runners == ["make test"], f".ci/run must only run `make test`, found {runners}"


def test_embedded_database_url_names_the_socket_directory():
    socket_dir = "/srv/promo checkout/var/pg"
    parsed = dj_database_url.parse(embedded.database_url(socket_dir))
    assert parsed["HOST"] == socket_dir
    assert parsed["NAME"] == "promo"
    assert parsed["USER"] == "postgres"


def _printed_after_wsgi_start_up(code: str) -> str:
    """What ``code`` prints last in a fresh interpreter that has imported ``promo.wsgi``, as
    gunicorn's arbiter does before it forks the workers."""
    import os
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", "import gc, promo.wsgi\n" + code],
        cwd=ROOT,
        env={**os.environ, "PROMO_TESTING": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def test_the_wsgi_worker_freezes_what_start_up_loaded():
    """gunicorn's worker moves Django, the views and the catalogues out of full collections."""
    # Tens of thousands of objects at least: Django alone is more than that.
    assert int(_printed_after_wsgi_start_up("print(gc.get_freeze_count())")) > 50_000


def test_the_wsgi_worker_starts_with_every_template_compiled():
    """Compiled once in the arbiter and frozen, not by each worker on its first requests."""
    count, home = _printed_after_wsgi_start_up(
        "from django.template import Engine\n"
        "(loader,) = Engine.get_default().template_loaders\n"
        "print(len(loader.get_template_cache), 'promo/home.html' in loader.get_template_cache)\n"
    ).split()
    templates = len(list((ROOT / "templates").rglob("*.html")))
    assert int(count) >= templates > 70
    assert home == "True"


def test_devtools_find_the_repository_root_from_their_folder():
    # promo/devtools/ is two folders below the repository: data goes to ./var/, the
    # launcher runs ./manage.py, the bench writes ./docs/bench.json.
    from promo.devtools import bench, launcher

    assert embedded.ROOT == ROOT
    assert launcher.ROOT == ROOT
    assert bench.BASE_DIR == ROOT
    assert (embedded.ROOT / "manage.py").is_file()
