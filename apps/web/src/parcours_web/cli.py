"""The ``parcours`` command (names fixed by docs/api-contract.md)."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

import click

from parcours_web.settings import SettingsError, load_settings
from shared_core.db import Database
from shared_core.errors import NotFound, ValidationFailed
from shared_core.memory import tune_malloc


def _database() -> Database:
    try:
        settings = load_settings()
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    return Database(settings.database_url)


def _fail_on_validation(error: ValidationFailed) -> click.ClickException:
    lines = [f"  {e.field}: {e.message}" for e in error.errors]
    return click.ClickException("invalid input:\n" + "\n".join(lines))


@click.group(help="Parcours: rTMS care pathway and sport-health referral.")
def main() -> None:
    pass


@main.command(help="Serve the application.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
def serve(host: str, port: int, workers: int) -> None:
    import uvicorn

    tune_malloc()
    from parcours_web.migrate import is_up_to_date

    database = _database()
    try:
        if not is_up_to_date(database):
            raise click.ClickException("the database schema is not up to date: run `parcours db upgrade` first")
    finally:
        database.dispose()
    uvicorn.run("parcours_web.app:asgi", factory=True, host=host, port=port, workers=workers,
                proxy_headers=False, server_header=False, log_level="info")


@main.group(help="Database commands.")
def db() -> None:
    pass


@db.command("upgrade", help="Apply migrations (creates the database when absent).")
def db_upgrade() -> None:
    from parcours_web.migrate import current_revision, upgrade

    database = _database()
    try:
        upgrade(database)
        click.echo(f"database at revision {current_revision(database)}")
    finally:
        database.dispose()


@main.group(help="Demonstration data.")
def demo() -> None:
    pass


@demo.command("seed", help="Load a realistic demo data set (idempotent).")
def demo_seed() -> None:
    from parcours_web.demo import DEMO_PASSWORD, seed

    database = _database()
    try:
        summary = seed(database)
    finally:
        database.dispose()
    click.echo(summary.message)
    click.echo(f"demo accounts (password for all: {DEMO_PASSWORD}):")
    for email, role in summary.accounts:
        click.echo(f"  {role:<13} {email}")


@main.group(help="User accounts.")
def users() -> None:
    pass


@users.command("add", help="Create a user.")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(
    ["psychiatrist", "operator", "referrer", "coordinator", "observer", "admin"]))
@click.option("--structure", "structure", default=None, help="Organisation id (a coordinator's structure).")
@click.option("--name", "display_name", default=None, help="Display name (defaults to the e-mail).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_add(email: str, role: str, structure: str | None, display_name: str | None, password_stdin: bool) -> None:
    from parcours_web.auth.users import create_user, parse_user_input
    from shared_core.actors import Actor

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat the password: ") != password:
            raise click.ClickException("the two passwords differ")
    database = _database()
    try:
        data = parse_user_input({"email": email, "display_name": display_name or email, "role": role,
                                 "organisation_id": structure, "password": password}, creating=True)
        user = create_user(database, Actor(id="cli", role="admin"), data)
    except ValidationFailed as error:
        raise _fail_on_validation(error) from None
    finally:
        database.dispose()
    click.echo(f"created {user.email} ({user.role}) as {user.id}")


@main.group(help="API bearer tokens.")
def tokens() -> None:
    pass


@tokens.command("issue", help="Print a new API bearer token for a user, on stdout, alone.")
@click.argument("email")
@click.option("--ttl-days", type=click.IntRange(1, 3650), default=None)
def tokens_issue(email: str, ttl_days: int | None) -> None:
    from parcours_web.auth.service import issue_token

    database = _database()
    try:
        token = issue_token(database, email, ttl_days)
    except NotFound as error:
        raise click.ClickException(error.message) from None
    finally:
        database.dispose()
    click.echo(token)


@main.group("import", help="Import reference data.")
def import_group() -> None:
    pass


@import_group.command("structures", help="Import a directory file (Data ES, FINESS extraction, Parcours format).")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "file_format", type=click.Choice(["dataes", "finess", "parcours"]), default="parcours",
              show_default=True)
@click.option("--encoding", default=None, help="Override the file's text encoding (e.g. iso-8859-15).")
@click.option("--all-or-nothing", is_flag=True, help="Import nothing if any row is invalid.")
def import_structures_command(file: Path, file_format: str, encoding: str | None, all_or_nothing: bool) -> None:
    from shared_core.actors import Actor
    from sport_referral.geo.gazetteer import get_gazetteer
    from sport_referral.importers import import_structures
    from sport_referral.service import persist_import

    def progress(done: int, total: int | None) -> None:
        if done % 10_000 == 0:
            click.echo(f"  {done} rows read" + (f" of {total}" if total else ""), err=True)

    with file.open("rb") as handle:
        result = import_structures(handle, file_format, get_gazetteer(),  # type: ignore[arg-type]
                                   encoding=encoding, all_or_nothing=all_or_nothing, progress=progress)
    for line in result.report.lines():
        click.echo(line)
    if result.report.file_errors or result.report.aborted:
        raise click.ClickException("nothing was imported")
    database = _database()
    try:
        saved = persist_import(database, Actor(id="cli", role="admin"), result, file.name)
    finally:
        database.dispose()
    click.echo(f"saved: {saved.created} created, {saved.updated} updated, {saved.unchanged} unchanged")
    for conflict in saved.conflicts:
        click.echo(f"conflict: {conflict}")


@main.command(help="Write a consistent backup of the whole database to FILE while the application runs.")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def backup(file: Path) -> None:
    from parcours_web.backup import BackupError, write_backup

    database = _database()
    try:
        summary = write_backup(database, file)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    finally:
        database.dispose()
    click.echo(f"backup written to {file}: {summary.total_rows} rows in {len(summary.tables)} tables, "
               f"schema revision {summary.revision}")


@main.command(help="Restore FILE (a `parcours backup`) into a new, empty database: all of it or nothing.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore(file: Path) -> None:
    from sqlalchemy.exc import DBAPIError

    from parcours_web.backup import BackupError, restore_backup, restore_error_message

    database = _database()
    try:
        summary = restore_backup(database, file)
    except (BackupError, DBAPIError) as error:
        raise click.ClickException(restore_error_message(error)) from None
    finally:
        database.dispose()
    click.echo(f"restored {summary.total_rows} rows in {len(summary.tables)} tables from {file}")


if __name__ == "__main__":  # pragma: no cover
    main()
