"""The `outreach` command line: parse options, call one stage, report.

Exit codes: 0 success, 1 problems found (content, checks, refused finals),
2 unusable input or wrong usage. Errors are printed as `file:line: problem`,
never as a traceback.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import os
import shlex
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import click

from pipeline.document import FORMAT_NAMES
from pipeline.errors import ContentError, ModelError, RenderError
from pipeline.project import Project

if TYPE_CHECKING:
    from pipeline.build import RenderOutcome
    from pipeline.content import Source
    from pipeline.ledger import Ledger
    from pipeline.signing import SigningKey

log = logging.getLogger("outreach")
P = ParamSpec("P")
R = TypeVar("R")


class Context:
    def __init__(self, root: Path):
        self.project = Project(root.resolve())
        self._source: Source | None = None

    @property
    def source(self) -> Source:
        if self._source is None:
            from pipeline.content import read_source

            self._source = read_source(self.project)
        return self._source


def report_errors(function: Callable[P, R]) -> Callable[P, R]:
    """Turn the stages' exceptions into `file:line: problem` lines and an exit code."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except ContentError as exc:
            context = click.get_current_context().find_object(Context)
            root = context.project.root if context else Path.cwd()
            for problem in exc.problems:
                click.echo(f"error: {problem.format(root)}", err=True)
            sys.exit(2 if exc.unusable else 1)
        except (ModelError, RenderError) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)

    return wrapper


def one_writer(what: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Run the command under the project lock, so it reads and writes with no other writer at work."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            from pipeline.lock import project_lock

            ctx = args[0]
            if not isinstance(ctx, Context):
                raise TypeError("one_writer decorates commands that take the Context first")
            with project_lock(ctx.project, what):
                return function(*args, **kwargs)

        return wrapper

    return decorate


def translated_language(ctx: "Context", language: str) -> str:
    """A language that has editions or a catalog (a usage error otherwise: exit 2)."""
    from pipeline.catalog import catalog_languages

    known = sorted(set(catalog_languages(ctx.source)) | {p.stem for p in ctx.project.translations.glob("*.po")})
    if language not in known or language not in ctx.source.languages:
        raise click.BadParameter(f"{language!r} is not a translated language here (known: {', '.join(known)})", param_hint="LANGUAGE")
    return language


def reviewer_name(name: str) -> str:
    if not name.strip():
        raise click.BadParameter("give the reviewer's name", param_hint="--reviewer")
    return name.strip()


def signing_key(path: Path | None) -> SigningKey:
    """The reviewer's private key: --key, else $OUTREACH_SIGNING_KEY, else ~/.ssh/id_ed25519.

    A passphrase comes from $OUTREACH_KEY_PASSPHRASE or is asked for (hidden).
    """
    from pipeline.signing import PassphraseNeeded, key_is_encrypted, load_signing_key

    path = path or Path(os.environ.get("OUTREACH_SIGNING_KEY") or Path.home() / ".ssh" / "id_ed25519")
    passphrase = os.environ.get("OUTREACH_KEY_PASSPHRASE")
    if passphrase is None and key_is_encrypted(path):
        passphrase = click.prompt(f"Passphrase for {path}", hide_input=True, default="", show_default=False, err=True)
    try:
        return load_signing_key(path, passphrase)
    except PassphraseNeeded as exc:
        raise click.BadParameter(str(exc), param_hint="--key") from None


def key_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--key", "key_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
        help="Your SSH Ed25519 private key, listed in source/reviewers.yaml (default: $OUTREACH_SIGNING_KEY, else ~/.ssh/id_ed25519).",
    )(function)


REVIEWER_HELP = "Your name as listed in source/reviewers.yaml (optional: the key says who you are; if given, it must match)."


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--project", "root", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Folder holding source/, translations/, templates/ and output/.")
@click.option("-v", "--verbose", is_flag=True, help="Show progress and details.")
@click.version_option(package_name="outreach")
@click.pass_context
def main(ctx: click.Context, root: Path, verbose: bool) -> None:
    """Cited harm-reduction fact blocks: translate, review, approve, print.

    Workflow: edit source/ -> `outreach check` -> `outreach translate LANG` ->
    reviewers `outreach approve` / `outreach reject` -> `outreach render` ->
    `outreach bundle`. `outreach build` does the last two for every edition.
    """
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s", stream=sys.stderr)
    if not (root / "source").is_dir():
        raise click.UsageError(f"{root.resolve()} has no source/ folder; run inside a project or pass --project DIR")
    ctx.obj = Context(root)


pass_context = click.make_pass_decorator(Context)


# ------------------------------------------------------------------ check


@main.command()
@click.option("--list", "list_checks", is_flag=True, help="List every check with its id, severity and title.")
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option("--max-age", type=click.IntRange(min=1), default=180, show_default=True,
              help="Days after the registry's compile date before its numbers need re-checking.")
@click.option("--language", "languages", multiple=True, help="Only check translations of these languages.")
@click.option("--since", default="HEAD", show_default=True, metavar="REF",
              help="In a git work tree, every ledger must extend its version at this commit or tag (CI: the last release tag).")
@pass_context
@report_errors
def check(ctx: Context, list_checks: bool, strict: bool, max_age: int, languages: tuple[str, ...], since: str) -> None:
    """Validate source, registry, translations and ledgers; exit 1 on problems."""
    from pipeline import checks
    from pipeline.validate import gate_findings, validate_project

    if list_checks:
        for item in checks.CHECKS.values():
            click.echo(f"{item.id:16} {item.severity:8} {item.scope:12} {item.title}")
        return
    for language in languages:
        translated_language(ctx, language)
    findings = validate_project(ctx.source, now().date(), max_age, list(languages) or None, since)
    findings += gate_findings(ctx.source, list(languages) or None)  # what makes `render` refuse a final
    for finding in findings:
        click.echo(finding.format(ctx.project.root))
    errors = [f for f in findings if f.severity == checks.ERROR]
    warnings = len(findings) - len(errors)
    click.echo(f"{len(errors)} errors, {warnings} warnings", err=True)
    if errors or (strict and warnings):
        sys.exit(1)


# ------------------------------------------------------------------ translate


@main.command()
@click.argument("languages", nargs=-1)
@click.option("--all", "all_languages", is_flag=True, help="Every language that has an edition.")
@click.option("--from", "from_language", default="en", show_default=True,
              help="Translate from this language's approved text instead of the English (pivots through English).")
@pass_context
@report_errors
@one_writer("translate")
def translate(ctx: Context, languages: tuple[str, ...], all_languages: bool, from_language: str) -> None:
    """Fill missing or stale strings with fuzzy Argos Translate drafts, offline.

    Never touches a translation a person wrote or edited. Needs the translate
    extra (`pip install .[translate]`) and an installed model per language.
    """
    from pipeline.catalog import catalog_languages
    from pipeline.translate import draft_language, load_engine

    source = ctx.source
    chosen = catalog_languages(source) if all_languages else list(languages)
    if not chosen:
        raise click.UsageError("name at least one language, or pass --all")
    for language in chosen:
        if language not in source.languages or language == "en":
            raise click.BadParameter(f"{language!r} is not a translated language in source/languages.yaml", param_hint="LANGUAGES")
    for language in chosen:
        report = draft_language(
            source, language, functools.partial(load_engine, source, from_language, language), now(), from_language,
            progress=log.info,
        )
        parts = [f"{len(report.drafted)} drafted", f"{len(report.from_memory)} from memory"]
        if report.kept_stale:
            parts.append(f"{len(report.kept_stale)} kept as stale drafts (a person's text; English changed)")
        if report.flagged:
            parts.append(f"{len(report.flagged)} flagged for the reviewer")
        click.echo(f"{language}: " + ", ".join(parts) + ("" if report.wrote else " (nothing to do)"))
        for string_id, findings in report.flagged.items():
            for finding in findings:
                click.echo(f"  {string_id}: {finding}")


@main.command()
@click.argument("languages", nargs=-1)
@click.option("--all", "all_languages", is_flag=True, help="Every language that has an edition.")
@pass_context
@report_errors
def backtranslate(ctx: Context, languages: tuple[str, ...], all_languages: bool) -> None:
    """Draft an English back-translation of each translation, for reviewers.

    Uses the reverse Argos model (LANGUAGE -> en) offline and stores each
    back-translation as a comment beside its entry, with the model and date.
    `outreach review` shows it next to the English with a word diff and a chrF
    score; a low score is a warning. Translations that already have a
    back-translation of their current text are skipped.
    """
    from pipeline.backtranslate import backtranslate_language, load_back_engine
    from pipeline.catalog import catalog_languages

    source = ctx.source
    chosen = catalog_languages(source) if all_languages else list(languages)
    if not chosen:
        raise click.UsageError("name at least one language, or pass --all")
    for language in chosen:
        if language == "en":
            raise click.BadParameter("English is the source: there is nothing to back-translate", param_hint="LANGUAGES")
        translated_language(ctx, language)
    for language in chosen:
        report = backtranslate_language(
            source, language, functools.partial(load_back_engine, source, language), now(), progress=log.info
        )
        parts = [f"{len(report.translated)} back-translated", f"{len(report.current)} already current"]
        if report.low:
            parts.append(f"{len(report.low)} far from the English (warnings in `outreach check` and `outreach review`)")
        click.echo(f"{language}: " + ", ".join(parts) + ("" if report.wrote else " (nothing to do)"))
        for string_id, score in report.low.items():
            click.echo(f"  {string_id}: chrF {score:.0f}")


# ------------------------------------------------------------------ models


@main.group()
def models() -> None:
    """Install, list and remove Argos Translate models."""


@models.command("install")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--from-index", "pair", nargs=2, metavar="FROM TO", help="Download FROM->TO from a package index.")
@click.option("--index", "index", metavar="URL", help="Package index URL (default: $ARGOS_PACKAGE_INDEX, else Argos's).")
@report_errors
def models_install(file: Path | None, pair: tuple[str, str] | None, index: str | None) -> None:
    """Install a model from FILE.argosmodel, or with --from-index FROM TO."""
    from pipeline import models as model_store

    if bool(file) == bool(pair):
        raise click.UsageError("give either FILE or --from-index FROM TO")
    model = model_store.install_file(file) if file else model_store.install_from_index(*(pair or ("", "")), index)
    click.echo(f"installed {model.from_code} -> {model.to_code}: {model.label}")


@models.command("list")
@report_errors
def models_list() -> None:
    """List installed models."""
    from pipeline import models as model_store

    installed = model_store.installed_models()
    if not installed:
        click.echo("no models installed; see `outreach models install --help`")
    for model in installed:
        click.echo(f"{model.from_code} -> {model.to_code}  {model.label}  {model.path}")


@models.command("remove")
@click.argument("from_code")
@click.argument("to_code")
@report_errors
def models_remove(from_code: str, to_code: str) -> None:
    """Remove the installed FROM_CODE -> TO_CODE model."""
    from pipeline import models as model_store

    model = model_store.remove(from_code, to_code)
    click.echo(f"removed {model.label}")


# ------------------------------------------------------------------ review


@main.command()
@click.argument("languages", nargs=-1)
@pass_context
@report_errors
def status(ctx: Context, languages: tuple[str, ...]) -> None:
    """Per language: how many strings are approved, drafts, stale, missing, rejected.

    These count every string of the language; `check` and `build` count, per edition or
    document, only the strings it prints (an edition never prints another region's variants).
    """
    from pipeline.approval import STATUS_COLUMNS, language_states, status_counts
    from pipeline.catalog import catalog_languages

    source = ctx.source
    chosen = list(languages) or ["en", *catalog_languages(source)]
    for language in chosen:
        if language not in source.languages:
            raise click.BadParameter(f"unknown language {language!r}", param_hint="LANGUAGES")
    rows = {language: status_counts(language_states(source, language)) for language in chosen}
    widths = [max(len(c.value), 5) for c in STATUS_COLUMNS]
    click.echo("language  " + "  ".join(c.value.rjust(w) for c, w in zip(STATUS_COLUMNS, widths)))
    for language, counts in rows.items():
        click.echo(f"{language:8}  " + "  ".join(str(counts[c]).rjust(w) for c, w in zip(STATUS_COLUMNS, widths)))
    click.echo("(every string of the language; `check` and `build` count only what each edition or document prints)")
    for language in chosen:
        for item in language_states(source, language).values():
            if item.note:
                click.echo(f"{language}: {item.id} ({item.state.value}): {item.note}")


def _decide(
    ctx: Context, language: str, ids: tuple[str, ...], reviewer: str | None, key_path: Path | None, action: str,
    reason: str = "", acknowledge: tuple[str, ...] = (), english_changed_ok: bool = False,
) -> None:
    from pipeline.approval import ENGLISH, decide

    if language != ENGLISH:  # English is signed off in the same ledger, against source/
        translated_language(ctx, language)
    unknown = [i for i in ids if i not in ctx.source.strings]
    if unknown:
        raise click.BadParameter(f"no such string: {', '.join(unknown)} (ids are in source/facts.yaml and source/strings.yaml)", param_hint="IDS")
    claimed = reviewer_name(reviewer) if reviewer is not None else None
    outcome = decide(
        ctx.source, language, list(ids), signing_key(key_path), action, now(), reason, claimed, acknowledge=acknowledge,
        english_changed_ok=english_changed_ok,
    )
    verb = "approved" if action == "approve" else "rejected"
    for decision in outcome.decisions:
        click.echo(f"{language}: {decision.string_id} {verb} by {decision.reviewer} ({decision.hash[:12]})")
        if decision.string_id in outcome.english_changed:
            click.echo(f"    against the changed English: {decision.english}")
        for item in decision.acknowledged:
            click.echo(f"    acknowledged: {item.message} [{item.check}]")
    for string_id in outcome.unchanged:
        click.echo(f"{language}: {string_id} was already {verb}; nothing recorded")


@main.command()
@click.argument("language")
@click.argument("ids", nargs=-1, required=True)
@click.option("--reviewer", default=None, help=REVIEWER_HELP)
@key_option
@click.option("--acknowledge", "acknowledge", multiple=True, metavar="CHECK",
              help="A warning check you have read and accept (repeatable); every warning must be named.")
@click.option("--english-changed-ok", "english_changed_ok", is_flag=True,
              help="Approve stale translations too: you have read what changed in the English (approving without "
                   "this shows it) and the translation says what the English says now.")
@pass_context
@report_errors
def approve(
    ctx: Context, language: str, ids: tuple[str, ...], reviewer: str | None, key_path: Path | None, acknowledge: tuple[str, ...],
    english_changed_ok: bool,
) -> None:
    """Approve the current translation of each ID against the current English.

    A string with warnings is approved only when each warning's check is named
    with --acknowledge; the warnings go into the ledger record.
    A stale translation (the English changed after it was written) is refused,
    showing the old and new English, until you pass --english-changed-ok.
    With LANGUAGE `en`, sign off the English wording as it now stands in source/
    (after checking it against its citations and updating its `review` record).
    """
    _decide(ctx, language, ids, reviewer, key_path, "approve", acknowledge=acknowledge, english_changed_ok=english_changed_ok)


@main.command()
@click.argument("language")
@click.argument("ids", nargs=-1, required=True)
@click.option("--reviewer", default=None, help=REVIEWER_HELP)
@click.option("--reason", required=True, help="What is wrong, for the translator.")
@key_option
@pass_context
@report_errors
def reject(ctx: Context, language: str, ids: tuple[str, ...], reviewer: str | None, reason: str, key_path: Path | None) -> None:
    """Reject the current translation of each ID, with a reason."""
    if not reason.strip():
        raise click.BadParameter("say what is wrong, for the translator", param_hint="--reason")
    _decide(ctx, language, ids, reviewer, key_path, "reject", reason)


@main.command()
@click.argument("language")
@click.argument("string_id", required=False)
@click.option("--export-signatures", "export_folder", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Instead, write each record's signed bytes (.msg) and signature (.sig), an allowed_signers file "
                   "and verify.sh to this folder, to check with `ssh-keygen -Y verify` and no outreach code.")
@pass_context
@report_errors
def history(ctx: Context, language: str, string_id: str | None, export_folder: Path | None) -> None:
    """The audit trail: who approved or rejected which wording, when.

    With --export-signatures DIR, writes instead what an auditor needs to check
    each record's signature with `ssh-keygen -Y verify` alone (see README,
    "Checking a signature with OpenSSH").
    """
    from pipeline.ledger import read_ledger

    if language != "en":
        translated_language(ctx, language)
    if string_id is not None and string_id not in ctx.source.strings:
        raise click.BadParameter(f"no such string {string_id!r}", param_hint="STRING_ID")

    ledger = read_ledger(ctx.project, language)
    if export_folder is not None:
        _export_signatures(ctx, ledger, export_folder, string_id)
        return
    for problem in ledger.problems:
        click.echo(f"{problem.severity}: {problem.format(ctx.project.root)}", err=True)
    if not ledger.history(string_id):
        click.echo(f"{language}: no decision recorded yet" + (f" for {string_id}" if string_id else ""))
    for decision in ledger.history(string_id):
        click.echo(f"{decision.time}  {decision.action:7}  {decision.string_id}  by {decision.reviewer}  [{decision.hash[:12]}]")
        if ledger.revocation(decision):
            click.echo(f"    NOT VALID: {ledger.revocation(decision)}")
        click.echo(f"    English: {decision.english}")
        click.echo(f"    {language}: {decision.translation}")
        if decision.reason:
            click.echo(f"    reason: {decision.reason}")
        for item in decision.acknowledged:
            click.echo(f"    acknowledged warning: {item.message} [{item.check}]")
    if any(p.severity == "error" for p in ledger.problems):
        sys.exit(1)


def _export_signatures(ctx: Context, ledger: "Ledger", folder: Path, string_id: str | None) -> None:
    from pipeline.ledger import export_signatures
    from pipeline.reviewers import read_reviewers
    from pipeline.signing import NAMESPACE

    done = export_signatures(ledger, read_reviewers(ctx.project), folder, string_id)
    for record in done.exported:
        decision = record.decision
        click.echo(f"{record.signature.name}  {decision.action:7}  {decision.string_id}  by {decision.reviewer}")
    for line in done.skipped_summary:
        click.echo(f"skipped {line}")
    click.echo(f"{len(done.exported)} signatures written to {done.folder}; check them all with `sh {shlex.quote(str(done.script))}`, or one:")
    first = done.exported[0]
    click.echo(f"    cd {shlex.quote(str(done.folder))} && ssh-keygen -Y verify -f allowed_signers -I {shlex.quote(first.decision.reviewer)} "
               f"-n {NAMESPACE} -s {first.signature.name} < {first.message.name}")


# ------------------------------------------------------------------ render and release


def _editions(source: Source, edition_ids: tuple[str, ...]) -> list[str]:
    for edition_id in edition_ids:
        if edition_id not in source.editions:
            raise click.BadParameter(f"unknown edition {edition_id!r} (known: {', '.join(source.editions)})", param_hint="--edition")
    return list(edition_ids) or list(source.editions)


@main.command()
@click.option("--edition", "edition_ids", multiple=True, help="Edition id (repeatable); default: every edition.")
@click.option("--format", "formats", multiple=True, type=click.Choice(FORMAT_NAMES),
              help="Only these formats (repeatable); default: each edition's own.")
@click.option("--proof", is_flag=True, help="Render proofs for reviewers, whatever the approval state.")
@click.option("--jobs", "workers", type=click.IntRange(min=1), default=None, help="Processes to render with (default: one per core).")
@click.option("--force", is_flag=True, help="Render even documents whose inputs have not changed.")
@pass_context
@report_errors
@one_writer("render")
def render(ctx: Context, edition_ids: tuple[str, ...], formats: tuple[str, ...], proof: bool, workers: int | None, force: bool) -> None:
    """Render final PDFs of approved editions (or proofs with --proof).

    A final is refused, and any old one removed, while a string it needs is
    not approved; the command then lists those strings and exits 1.
    """
    from pipeline.build import default_workers, plan, render_pairs

    source = ctx.source
    pairs = plan(source, _editions(source, edition_ids), formats)
    if not pairs:
        raise click.UsageError(f"none of the chosen editions is printed as {', '.join(formats)} (see source/editions.yaml)")
    with _progress("rendering") as step:
        outcomes = render_pairs(source, pairs, proof, workers or default_workers(), progress=step, force=force)
    refused = [o for o in outcomes if o.kind == "refused"]
    failed = [o for o in outcomes if o.kind == "failed"]
    for outcome in outcomes:
        if outcome.path:
            click.echo(f"{outcome.kind:7} {ctx.project.relative(outcome.path)}")
    _report_refusals(ctx, refused)
    for outcome in failed:
        click.echo(f"error: {outcome.error}", err=True)
    if refused or failed:
        sys.exit(1)


@contextlib.contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int, str], None]]:
    """A progress bar on a terminal; plain lines elsewhere (CI logs)."""
    bar = None
    try:
        def step(done: int, total: int, message: str) -> None:
            nonlocal bar
            if not sys.stderr.isatty():
                click.echo(f"[{done}/{total}] {message}", err=True)
                return
            if bar is None or done == 1:  # a new batch (finals, then proofs): a new bar
                if bar is not None:
                    bar.__exit__(None, None, None)
                bar = click.progressbar(length=total, label=f"{label} {message.split()[0]}s", file=sys.stderr)
                bar.__enter__()
            bar.update(1)

        yield step
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


def _shard(value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    try:
        k, n = (int(part) for part in value.split("/"))
    except ValueError:
        k = n = 0
    if not 1 <= k <= n:
        raise click.BadParameter(f"{value!r}: write K/N with 1 <= K <= N, e.g. 1/2", param_hint="--shard")
    return k, n


def _report_refusals(ctx: Context, refused: list[RenderOutcome]) -> None:
    """Each refused document, with its check errors; each edition's unapproved strings once."""
    listed: set[str] = set()
    for outcome in refused:
        reasons = []
        if outcome.blocking:
            reasons.append(f"{len(outcome.blocking)} strings not approved")
        if outcome.findings:
            reasons.append(f"{len(outcome.findings)} check error{'s' if len(outcome.findings) != 1 else ''}")
        click.echo(f"refused {outcome.edition} {outcome.format}: {', '.join(reasons)}", err=True)
        for finding in outcome.findings:
            click.echo(f"    {finding.format(ctx.project.root)}", err=True)
        if outcome.blocking and outcome.edition not in listed:
            listed.add(outcome.edition)
            for item in outcome.blocking:
                click.echo(f"    {item.id} ({item.state.value})", err=True)


@main.command()
@click.option("--release", is_flag=True,
              help="Also fail unless every edition marked required_for_release in source/editions.yaml is final.")
@pass_context
@report_errors
@one_writer("bundle")
def bundle(ctx: Context, release: bool) -> None:
    """Pack every current final into output/release/ with a manifest and a zip (nothing is rendered)."""
    from pipeline.build import Gate
    from pipeline.bundle import build_bundle, required_not_final

    gate = Gate(ctx.source)
    result = build_bundle(ctx.source, gate)
    click.echo(f"{result.files} files -> {ctx.project.relative(result.zip_path)} ({ctx.project.relative(result.manifest_path)})")
    if release:
        missing = required_not_final(ctx.source, gate)
        if missing:
            raise ContentError(missing)


@main.command()
@click.option("--jobs", "workers", type=click.IntRange(min=1), default=None, help="Processes to render with (default: one per core).")
@click.option("--force", is_flag=True, help="Render every document, even those whose inputs have not changed.")
@click.option("--shard", "shard_text", metavar="K/N", default=None,
              help="Render only part K of N (balanced by expected cost) and do not bundle: one CI job each.")
@pass_context
@report_errors
@one_writer("build")
def build(ctx: Context, workers: int | None, force: bool, shard_text: str | None) -> None:
    """Render every edition (final where approved, else a proof), print a summary, bundle the finals.

    Only documents whose inputs changed are laid out again.
    """
    from pipeline.build import default_workers, open_gate, plan, render_pairs, select_shard
    from pipeline.bundle import build_bundle

    source = ctx.source
    shard = _shard(shard_text)
    workers = workers or default_workers()
    gate = open_gate(source)
    pairs = plan(source, list(source.editions), ())
    if shard:
        pairs = select_shard(source, pairs, *shard)
    with _progress("rendering") as step:
        outcomes = render_pairs(source, pairs, None, workers, progress=step, gate=gate, force=force)
    if not pairs:
        click.echo("nothing to render in this shard")
        return
    width = max(len(f) for _, f in pairs)
    click.echo(f"{'edition':12} {'format':{width}} {'result':7} why")
    failed: list[RenderOutcome] = []
    for outcome in outcomes:
        row = f"{outcome.edition:12} {outcome.format:{width}}"
        if outcome.kind == "final":
            click.echo(f"{row} final   every string approved, no check errors")
        elif outcome.kind == "failed":
            failed.append(outcome)
            click.echo(f"{row} FAILED  {outcome.error}")
        else:
            reasons = []
            if outcome.blocking:
                kinds: dict[str, int] = {}
                for item in outcome.blocking:
                    kinds[item.state.value] = kinds.get(item.state.value, 0) + 1
                detail = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
                reasons.append(f"{len(outcome.blocking)} strings await review ({detail})")
            if outcome.findings:
                failed.append(outcome)
                reasons.append(f"{len(outcome.findings)} check error{'s' if len(outcome.findings) != 1 else ''} (see `outreach check`)")
            click.echo(f"{row} proof   {'; '.join(reasons)}")
    made = sum(o.rendered for o in outcomes)
    summary = (f"\n{sum(o.kind == 'final' for o in outcomes)} finals, {sum(o.kind == 'proof' for o in outcomes)} proofs "
               f"({made} rendered{', the others unchanged' if made < len(outcomes) else ''})")
    if shard:
        click.echo(f"{summary}; shard {shard[0]}/{shard[1]}: copy output/ of every shard together, then `outreach bundle`")
    else:
        result = build_bundle(source, gate)
        click.echo(f"{summary}; release: {ctx.project.relative(result.zip_path)} ({result.files} files)")
    if failed:
        sys.exit(1)


# ------------------------------------------------------------------ interactive review and XLIFF


@main.command()
@click.argument("language")
@click.option("--reviewer", default=None, help=REVIEWER_HELP)
@key_option
@pass_context
@report_errors
def review(ctx: Context, language: str, reviewer: str | None, key_path: Path | None) -> None:
    """Review LANGUAGE one string at a time: approve, edit, reject or skip.

    Shows each string that needs a decision with its English, what changed in
    the English, the current text, where it came from and what the checks
    found. Every decision is recorded at once, so quitting loses nothing.
    """
    from pipeline.review import run_review

    translated_language(ctx, language)
    summary = run_review(
        ctx.source,
        language,
        signing_key(key_path),
        now,
        # Keys come from the terminal, or one per line when the input is piped or scripted.
        read_key=click.getchar if sys.stdin.isatty() else _key_from_line,
        read_line=lambda prompt: click.prompt(prompt, default="", show_default=False),
        write=click.echo,
        edit_in_editor=lambda text: click.edit(text, extension=".txt"),
        reviewer=reviewer_name(reviewer) if reviewer is not None else None,
    )
    click.echo(
        f"{language}: {len(summary.approved)} approved, {len(summary.rejected)} rejected, "
        f"{len(summary.edited)} edited, {len(summary.skipped)} skipped, {len(summary.unreviewed)} not reached"
    )


def _key_from_line() -> str:
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    return line.strip()[:1] or "s"


@main.command("export-xliff")
@click.argument("language")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write; '-' for standard output. Default: output/xliff/LANGUAGE.xlf.")
@pass_context
@report_errors
def export_xliff_command(ctx: Context, language: str, output: Path | None) -> None:
    """Write LANGUAGE's strings as XLIFF 1.2 for CAT tools (memoQ, Trados, OmegaT, Weblate)."""
    from pipeline.fsutil import write_atomic
    from pipeline.xliff import export_xliff

    translated_language(ctx, language)
    data = export_xliff(ctx.source, language)
    if str(output) == "-":
        click.echo(data, nl=False)
        return
    path = output or ctx.project.output_path("xliff", f"{language}.xlf")
    write_atomic(path, data)
    click.echo(f"{language}: {len(ctx.source.strings)} strings -> {ctx.project.relative(path.resolve())}")


@main.command("import-xliff")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_context
@report_errors
@one_writer("import-xliff")
def import_xliff_command(ctx: Context, file: Path) -> None:
    """Write the changed translations in an XLIFF 1.2 FILE back into its language's PO.

    Unchanged texts keep their approvals; changed texts need review again.
    Units whose English changed since the export, or whose id is unknown, are
    listed and left out, and the command exits 1.
    """
    from pipeline.xliff import import_xliff

    report = import_xliff(ctx.source, file, now())
    root = ctx.project.root
    for problem in report.skipped:
        click.echo(f"warning: {problem.format(root)}", err=True)
    for finding in report.findings:
        click.echo(f"  {finding.format(root)}")
    parts = [f"{len(report.changed)} changed (awaiting review)", f"{len(report.unchanged)} unchanged"]
    if report.unapproved:
        parts.append(f"{len(report.unapproved)} approvals withdrawn")
    if report.noted:
        parts.append(f"{len(report.noted)} with new translator notes")
    if report.skipped:
        parts.append(f"{len(report.skipped)} not imported")
    click.echo(f"{report.language}: " + ", ".join(parts))
    if report.skipped:
        sys.exit(1)


# ------------------------------------------------------------------ reviewers


@main.group()
def reviewers() -> None:
    """Who may approve which languages: the public keys in source/reviewers.yaml."""


@reviewers.command("list")
@pass_context
@report_errors
def reviewers_list(ctx: Context) -> None:
    """List each reviewer, their languages and their key's fingerprint."""
    from pipeline.reviewers import read_reviewers

    listed = read_reviewers(ctx.project)
    if not listed.entries:
        click.echo("no reviewers listed; see `outreach reviewers add --help`")
    for reviewer in listed.entries:
        click.echo(f"{reviewer.name}  [{', '.join(reviewer.languages)}]  {reviewer.fingerprint}")


@reviewers.command("add")
@click.argument("name")
@click.option("--languages", required=True, help="Comma-separated language codes this reviewer may approve, or 'all'.")
@click.option("--key-file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The reviewer's public key, e.g. ~/.ssh/id_ed25519.pub (never the private key).")
@pass_context
@report_errors
def reviewers_add(ctx: Context, name: str, languages: str, key_file: Path) -> None:
    """Add NAME to source/reviewers.yaml, allowed to approve LANGUAGES with the key in KEY_FILE.

    The file keeps its comments. Commit it: from then on the reviewer signs
    with `outreach approve LANG IDS --key PRIVATE_KEY`.
    """
    from pipeline.reviewers import ALL, add_reviewer
    from pipeline.signing import read_public_key_file

    codes = list(dict.fromkeys(code.strip() for code in languages.split(",") if code.strip()))
    if not codes:
        raise click.BadParameter("name at least one language code, or 'all'", param_hint="--languages")
    unknown = [code for code in codes if code != ALL and code not in ctx.source.languages]
    if unknown:
        raise click.BadParameter(f"unknown language {', '.join(unknown)} (known: {', '.join(ctx.source.languages)}, or all)", param_hint="--languages")
    if not name.strip():
        raise click.BadParameter("give the reviewer's name", param_hint="NAME")
    reviewer = add_reviewer(ctx.project, name, codes, read_public_key_file(key_file))
    click.echo(f"added {reviewer.name} [{', '.join(reviewer.languages)}] {reviewer.fingerprint} to {ctx.project.relative(ctx.project.source / 'reviewers.yaml')}")


# ------------------------------------------------------------------ review desk


@main.command()
@click.option("--reviewer", default=None, help=REVIEWER_HELP)
@key_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (keep it local).")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="Port to listen on (0: any free port).")
@pass_context
@report_errors
def serve(ctx: Context, reviewer: str | None, key_path: Path | None, host: str, port: int) -> None:
    """Start the review desk: each string beside the print page it lands on.

    Prints a local address with a one-off access token; open it in a browser on
    this machine. Approvals and rejections are signed with your key (read once,
    now) and recorded exactly as by `outreach approve`, `reject` and `review`.
    Ctrl-C stops it.
    """
    from pipeline.desk.server import prepare_desk, serve as serve_desk

    claimed = reviewer_name(reviewer) if reviewer is not None else None
    desk, guard, sock = prepare_desk(ctx.project.root, signing_key(key_path), claimed, host, port)

    def announce(url: str) -> None:
        click.echo(f"Review desk for {desk.reviewer} (key {desk.key.fingerprint}): open this address in a browser on this machine (Ctrl-C stops it):")
        click.echo(f"    {url}")

    serve_desk(desk, guard, sock, announce)
    click.echo("review desk stopped")
