"""The review desk's web app: pages, form posts and the JSON the page's script asks for.

Starlette, served by Uvicorn. Why Starlette over Flask/Waitress: the desk is
one small app whose security rules (token, cookie, Host, Origin, headers) are
cleanest as one ASGI middleware in front of every route, static files
included; its test client (httpx) drives the exact app the server runs; sync
endpoints run in a thread pool, so a preview being drawn never blocks the
check that answers a keystroke; and Uvicorn stops cleanly on Ctrl-C. Both were
already installed (httpx is the test client's only need).

Every stage call goes through `pipeline.desk.actions`; writes (edit, approve,
reject) all go through its `record_change`, the same functions as the CLI,
signed with the key the desk was started with. Pages are Jinja2 templates
under templates/ beside this module, autoescaped: translated text is untrusted
and only ever reaches the page as escaped text or as JSON read with `textContent`.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from pipeline.content import Source
from pipeline.desk import actions
from pipeline.desk.preview import PreviewService
from pipeline.desk.security import CSRF_FIELD, CSRF_HEADER, Guard, GuardMiddleware
from pipeline.signing import SigningKey
from pipeline.worddiff import diff_words

HERE = Path(__file__).resolve().parent
FILTERS = ("state", "check", "edition", "format", "q")
DONE_MESSAGES = {  # what the page says after a form post (the page's own strings are English)
    "saved": "Saved your text. It awaits approval.",
    "approved": "Approved. The decision is in the ledger.",
    "rejected": "Rejected, with your reason for the translator.",
    "unchanged": "Nothing changed: the text is already in that state.",
}
MAX_TEXT = 5000  # characters: far more than any string prints


@dataclass
class Desk:
    """What one running desk knows: the project, the reviewer's key and listed name, the warm renderer."""

    root: Path
    key: SigningKey  # loaded once at start; signs every decision made here
    reviewer: str  # the key's name in source/reviewers.yaml (actions.key_owner)
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.timezone.utc))
    preview: PreviewService = field(default_factory=PreviewService)
    _source: Source | None = None
    _stamp: actions.SourceStamp = ()

    def source(self) -> Source:
        """The project's source, re-read when a file under source/ changed."""
        stamp = actions.source_stamp(self.root)
        if self._source is None or stamp != self._stamp:
            self._source = actions.load_source(self.root)
            self._stamp = stamp
        return self._source


def create_app(desk: Desk, guard: Guard) -> Starlette:
    """The desk's ASGI app; every request passes `guard` first."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # translated text is untrusted
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def page(name: str, request: Request, status: int = 200, **context: object) -> HTMLResponse:
        html = env.get_template(name).render(csrf=guard.csrf, reviewer=desk.reviewer, key=desk.key.fingerprint, **context)
        return HTMLResponse(html, status_code=status)

    def languages(request: Request) -> Response:
        source = desk.source()
        summary = []
        for code in actions.desk_languages(source):
            counts = actions.state_counts(source, code)
            refusal = actions.decision_refusal(source, code, desk.key, desk.reviewer)
            summary.append((source.languages[code], counts, sum(counts.values()), refusal))
        return page("languages.html.j2", request, summary=summary, states=actions.STATES)

    def overview(request: Request) -> Response:
        source, language = desk.source(), request.path_params["language"]
        if language not in actions.desk_languages(source):
            return page("error.html.j2", request, 404, messages=[f"{language!r} is not a translated language here."])
        filters = _filters(request)
        rows = actions.language_rows(source, language)
        shown = _filtered(rows, filters)
        counts = {state: sum(r.state == state for r in rows) for state in actions.STATES}
        checks_seen = sorted({f.check for r in rows for f in r.findings})
        editions = [e for e in source.editions.values() if e.language == language]
        formats = sorted({f for e in editions for f in e.formats})
        return page(
            "overview.html.j2", request, language=source.languages[language], rows=shown, total=len(rows), counts=counts,
            states=actions.STATES, checks=checks_seen, editions=editions, formats=formats, filters=filters,
            filter_query=_query(filters),
        )

    def string_view(
        request: Request, status: int = 200, problems: tuple[str, ...] = (), typed: str | None = None, acknowledged: tuple[str, ...] = ()
    ) -> Response:
        source = desk.source()
        language, string_id = request.path_params["language"], request.path_params["string_id"]
        try:
            detail = actions.string_detail(source, language, string_id)
        except actions.ActionError as exc:
            return page("error.html.j2", request, 404, messages=exc.messages)
        filters = _filters(request)
        rows = actions.language_rows(source, language, findings=bool(filters["check"]))  # checks only to filter by one
        order = [r.id for r in _filtered(rows, filters)]
        position = order.index(string_id) if string_id in order else -1
        previous_id = order[position - 1] if position > 0 else None
        next_id = order[position + 1] if 0 <= position < len(order) - 1 else None
        places = detail.row.places
        chosen = (request.query_params.get("pe", ""), request.query_params.get("pf", ""))
        if chosen not in places:
            chosen = next((p for p in places if p[1] == "card"), places[0] if places else ("", ""))
        done = DONE_MESSAGES.get(request.query_params.get("done", ""), "")
        return page(
            "string.html.j2", request, status, language=source.languages[language], detail=detail,
            text=detail.row.translation if typed is None else typed, problems=problems, done=done,
            previous_id=previous_id, next_id=next_id, position=position + 1, count=len(order),
            filters=filters, filter_query=_query(filters), preview_edition=chosen[0], preview_format=chosen[1],
            english_diff=diff_words(detail.previous_english, detail.row.english) if detail.previous_english else None,
            back=detail.back_translation,
            back_diff=diff_words(detail.row.english, detail.back_translation.text) if detail.back_translation and detail.back_translation.current else None,
            acknowledged=set(acknowledged), refusal=actions.decision_refusal(source, language, desk.key, desk.reviewer),
        )

    async def post_decide(request: Request) -> Response:
        """Save the typed text (action=save), or save it if changed and approve it (action=approve)."""
        form = await request.form()
        if not guard.check_csrf(_form_text(form, CSRF_FIELD)):
            return _csrf_refused()
        action = str(form.get("action", ""))
        if action not in ("save", "approve"):
            return page("error.html.j2", request, 400, messages=[f"Unknown action {action!r}."])
        acknowledge = tuple(str(check) for check in form.getlist("acknowledge"))
        change = actions.Change(
            action, str(form.get("base", "")), _clean(form.get("text", "")), acknowledge=acknowledge,
            # The English the page showed, and the old English of the change it showed (a stale string).
            english=_shown_text(form, "english"), english_was=_shown_text(form, "english_was") or "",
        )
        return await run_in_threadpool(lambda: _record(request, change))

    async def post_reject(request: Request) -> Response:
        form = await request.form()
        if not guard.check_csrf(_form_text(form, CSRF_FIELD)):
            return _csrf_refused()
        typed = form.get("text")
        reason = " ".join(str(form.get("reason", "")).split())
        change = actions.Change("reject", str(form.get("base", "")), None if typed is None else _clean(typed), reason)
        return await run_in_threadpool(lambda: _record(request, change))

    def _record(request: Request, change: actions.Change) -> Response:
        """Record the change through the pipeline, signed with the desk's key; on refusal, show the string again, typing kept."""
        source, language, string_id = desk.source(), request.path_params["language"], request.path_params["string_id"]
        try:
            done = actions.record_change(source, language, string_id, change, desk.key, desk.reviewer, desk.clock())
        except actions.ChangedMeanwhile as exc:
            return string_view(request, 409, _changed_meanwhile(exc.current), change.text, change.acknowledge)
        except actions.ActionError as exc:
            return string_view(request, 422 if exc.incomplete else 409, tuple(exc.messages), change.text, change.acknowledge)
        return _back_to(request, done)

    async def read_api_body(request: Request, expected: str) -> dict[str, Any] | Response:
        """The JSON object a call from the desk's page sent; or, refusing the call, the response to send back."""
        if not guard.check_csrf(request.headers.get(CSRF_HEADER)):
            return _csrf_refused()
        body = await _json(request)
        if body is None:
            return JSONResponse({"error": f"expected a JSON object with {expected}"}, status_code=400)
        return body

    async def api_check(request: Request) -> Response:
        body = await read_api_body(request, "a text")
        if isinstance(body, Response):
            return body
        language, string_id = request.path_params["language"], request.path_params["string_id"]
        text = _clean(body.get("text", ""))

        def work() -> Response:
            try:
                findings = actions.check_text(desk.source(), language, string_id, text)
            except actions.ActionError as exc:
                return _not_found_json(exc)
            return JSONResponse({"findings": [_finding_json(f) for f in findings], "errors": sum(f.severity == "error" for f in findings)})

        return await run_in_threadpool(work)

    async def api_preview(request: Request) -> Response:
        body = await read_api_body(request, "text, edition and format")
        if isinstance(body, Response):
            return body
        language, string_id = request.path_params["language"], request.path_params["string_id"]
        text, edition, format_name = _clean(body.get("text", "")), str(body.get("edition", "")), str(body.get("format", ""))

        def work() -> Response:
            started = time.perf_counter()
            source = desk.source()
            try:
                stamp = actions.language_stamp(source, language)
                result = desk.preview.preview(source, language, edition, format_name, string_id, text, stamp)
            except actions.ActionError as exc:
                return _not_found_json(exc)
            return JSONResponse({
                "pages": [{"number": p.number, "url": f"/preview/{result.key}/{p.number}.png", "width": p.width, "height": p.height}
                          for p in result.pages],
                "outlined": result.outlined,
                "fit_problems": list(result.fit_problems),
                "errors": list(result.errors),
                "ms": round((time.perf_counter() - started) * 1000),
            })

        return await run_in_threadpool(work)

    def preview_png(request: Request) -> Response:
        try:
            number = int(request.path_params["number"])
        except ValueError:
            return Response(status_code=404)
        found = desk.preview.page(request.path_params["key"], number)
        if found is None:
            return Response("This preview is no longer cached; type to draw it again.", status_code=404, media_type="text/plain")
        return Response(found.png, media_type="image/png")

    def _back_to(request: Request, done: str) -> Response:
        query = {name: value for name, value in _filters(request).items() if value}
        for name in ("pe", "pf"):
            if request.query_params.get(name):
                query[name] = request.query_params[name]
        query["done"] = done
        return RedirectResponse(f"{request.url.path.rsplit('/', 1)[0]}?{urlencode(query)}", status_code=303)

    routes = [
        Route("/", languages),
        Route("/lang/{language}", overview),
        Route("/lang/{language}/string/{string_id}", string_view),
        Route("/lang/{language}/string/{string_id}/decide", post_decide, methods=["POST"]),
        Route("/lang/{language}/string/{string_id}/reject", post_reject, methods=["POST"]),
        Route("/api/lang/{language}/string/{string_id}/check", api_check, methods=["POST"]),
        Route("/api/lang/{language}/string/{string_id}/preview", api_preview, methods=["POST"]),
        Route("/preview/{key}/{number}.png", preview_png),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    return Starlette(routes=routes, middleware=[Middleware(GuardMiddleware, guard=guard)])


# ---------------------------------------------------------------- helpers


def _filters(request: Request) -> dict[str, str]:
    """Every overview filter by name ("" when not set): the string view keeps them for j/k."""
    return {name: request.query_params.get(name, "").strip() for name in FILTERS}


def _query(filters: dict[str, str]) -> str:
    return urlencode({name: value for name, value in filters.items() if value})


def _filtered(rows: list[actions.StringRow], filters: dict[str, str]) -> list[actions.StringRow]:
    needle = filters.get("q", "").casefold()
    edition, format_name = filters.get("edition"), filters.get("format")
    shown = []
    for row in rows:
        if filters.get("state") and row.state != filters["state"]:
            continue
        if filters.get("check") and not any(f.check == filters["check"] for f in row.findings):
            continue
        if edition and not any(e == edition for e, _ in row.places):
            continue
        if format_name and not any(f == format_name for _, f in row.places):
            continue
        if needle and not any(needle in text.casefold() for text in (row.id, row.english, row.translation)):
            continue
        shown.append(row)
    return shown


def _clean(text: object) -> str:
    """A typed text as the PO will hold it: line breaks from the browser normalised, ends trimmed."""
    return str(text).replace("\r\n", "\n").replace("\r", "\n").strip()[:MAX_TEXT]


def _shown_text(form: FormData, name: str) -> str | None:
    """A text the page showed and sent back unchanged (a hidden field), line breaks as the browser sends them undone."""
    value = _form_text(form, name)
    return None if value is None else value.replace("\r\n", "\n")


def _changed_meanwhile(current: str) -> tuple[str, ...]:
    return (
        "This string was changed elsewhere (the terminal, a PO editor or another tab) since you opened it. "
        "Nothing was recorded. Its text is now shown below with your typing kept; check it and try again.",
        f"The saved text is now: {current}",
    )


def _csrf_refused() -> Response:
    return Response("Refused: this form did not come from the review desk's own page (CSRF token missing or wrong).",
                    status_code=403, media_type="text/plain")


def _form_text(form: FormData, name: str) -> str | None:
    """A text field of a posted form; None when it is missing or is a file."""
    value = form.get(name)
    return value if isinstance(value, str) else None


def _not_found_json(exc: actions.ActionError) -> JSONResponse:
    """An API call about a language, string, edition or format the desk does not have."""
    return JSONResponse({"error": "; ".join(exc.messages)}, status_code=404)


def _finding_json(finding: actions.FindingView) -> dict[str, str]:
    return {"check": finding.check, "severity": finding.severity, "message": finding.message}


async def _json(request: Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
