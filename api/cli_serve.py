"""``credit serve``: the HTTP service behind uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli import app


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Run the HTTP service."""
    import uvicorn

    typer.echo(f"serving on http://{host}:{port}  (OpenAPI at /docs)")
    uvicorn.run(
        "api.app:serve_app",  # JSON logs; the access log is the app's own (route templates, no query strings)
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
        # Workers import the scientific stack before they answer the supervisor's health check:
        # give them time on a busy machine rather than killing and restarting them in a loop.
        timeout_worker_healthcheck=60,
    )
