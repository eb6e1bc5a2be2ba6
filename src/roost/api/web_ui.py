"""The web UI: its page at ``/`` and its files under ``/ui/``, shipped inside the package
(src/roost/web/static), public like the API's documents. The page's policy lets it load
nothing but Roost's own files and talk to nothing but Roost."""

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent.parent / "web" / "static"

# Images in messages may come from anywhere (a URL attachment); nothing else may.
POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data: blob: https: http:",
        "style-src 'self'",
        "script-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)
HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-cache",
}


async def index() -> FileResponse:
    """The web UI (its routes live after ``#``, so this one page serves them all)."""
    return FileResponse(STATIC / "index.html", headers=HEADERS)


class UiFiles(StaticFiles):
    """The UI's scripts and styles, with the page's headers, revalidated on each load
    (a new Roost may ship new ones under the same names)."""

    def file_response(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        response = super().file_response(*args, **kwargs)
        response.headers.update(HEADERS)
        return response


def install(app: FastAPI) -> None:
    app.add_api_route("/", index, methods=["GET"], include_in_schema=False, name="web_ui")
    app.mount("/ui", UiFiles(directory=STATIC), name="web_ui_files")
