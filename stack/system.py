"""The system's start-up sequence, shared by ``python -m stack`` and the game benchmark."""
from __future__ import annotations

from model.contract import MODEL_NAME
from stack.settings import Settings
from stack.supervisor import Child, Service, Supervisor, python_module


def say(message: str) -> None:
    """A message for the person at the terminal (flushed: stdout may be a pipe)."""
    print(message, flush=True)


def prepare_pool(settings: Settings) -> Service:
    return Service("photo pool preparation", python_module("image_server.prepare"),
                   settings.image_server_env())


def backends(settings: Settings) -> list[Service]:
    """The services the dashboard calls; none needs another to start, so they start together."""
    return [
        Service("model server", python_module("model.serving"), settings.model_server_env(),
                f"{settings.model_url}/v1/models/{MODEL_NAME}"),
        Service("image server", python_module("image_server"), settings.image_server_env(),
                f"{settings.image_server_url}/health"),
        Service("explainer", python_module("explainer"), settings.explainer_env(),
                f"{settings.explainer_url}/health"),
    ]


def dashboard(settings: Settings) -> Service:
    return Service("dashboard", settings.dashboard_argv(), settings.dashboard_env(),
                   f"{settings.dashboard_url}/health")


def started(child: Child) -> None:
    say(f"  {child.name:<13} pid {child.proc.pid:<8} waiting for {child.health_url}")


def start_all(supervisor: Supervisor, settings: Settings) -> None:
    """Prepare the pool, start the back-ends, then the dashboard; return once all are healthy.

    Benchmarks and browser tests start the system through this too, on ports of their own.
    """
    say("Preparing the photo pool…")
    supervisor.run(prepare_pool(settings))
    say("Starting the back-ends:")
    children = [supervisor.start(service) for service in backends(settings)]
    for child in children:
        started(child)
    supervisor.wait_healthy(children, settings.startup_timeout)
    say("Back-ends ready. Starting the dashboard:")
    child = supervisor.start(dashboard(settings))
    started(child)
    supervisor.wait_healthy([child], settings.startup_timeout)
