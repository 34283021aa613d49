"""The ``tadamun`` command.

``tadamun demo``   create the data folder and database, load the demo, serve it.
``tadamun serve``  run a real install: migrate, collect static files, serve with gunicorn.
``tadamun worker`` run the background-task worker.
anything else      a Django management command (``tadamun migrate``, ``tadamun shell`` ...).
"""

import argparse
import os
import signal
import subprocess
import sys


def _django(settings: str = "tadamun.settings"):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings)
    import django

    django.setup()
    from django.core.management import call_command

    return call_command


def _start_worker() -> subprocess.Popen | None:
    from django.conf import settings

    if "django_tasks_db" not in settings.TASKS["default"]["BACKEND"]:
        return None
    return subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "tadamun.cli", "worker"], env=os.environ.copy()
    )


def demo(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="tadamun demo")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--people", type=int, default=3000, help="synthetic people to create")
    parser.add_argument("--no-serve", action="store_true", help="load the demo and stop")
    args = parser.parse_args(argv)
    os.environ["TADAMUN_DEMO"] = "1"
    call_command = _django()
    from django.conf import settings

    call_command("migrate", interactive=False, verbosity=0)
    call_command("demo_load", people=args.people)
    from tadamun.demo.accounts import DEMO_PASSWORD, demo_accounts

    print(f"\nTadamun demo, data in {settings.DATA_DIR}")
    print(
        f"Open http://{args.host}:{args.port}/ and sign in with one of these "
        f"(password {DEMO_PASSWORD!r}):"
    )
    for account in demo_accounts():
        print(f"  {account['username']:<22} {account['role_label']} · {account['organisation']}")
    print("Platform operator (admin): operator\n", flush=True)
    if args.no_serve:
        return 0
    worker = _start_worker()
    try:
        call_command("runserver", f"{args.host}:{args.port}", use_reloader=False)
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
    return 0


def serve(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="tadamun serve")
    parser.add_argument("--bind", default=os.environ.get("BIND", "127.0.0.1:8000"))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", 3)))
    args = parser.parse_args(argv)
    call_command = _django()
    call_command("migrate", interactive=False, verbosity=1)
    call_command("collectstatic", interactive=False, verbosity=0)
    worker = _start_worker()
    try:
        return subprocess.call(  # noqa: S603
            [
                sys.executable,
                "-m",
                "gunicorn",
                "tadamun.wsgi",
                "--bind",
                args.bind,
                "--workers",
                str(args.workers),
                "--access-logfile",
                "-",
            ]
        )
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGTERM)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv else "help"
    if command == "demo":
        return demo(argv[1:])
    if command == "serve":
        return serve(argv[1:])
    if command == "worker":
        call_command = _django()
        call_command("db_worker")
        return 0
    if command == "manage":
        argv = argv[1:]
    if command in ("help", "-h", "--help"):
        print(__doc__)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tadamun.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["tadamun", *argv])
    return 0


if __name__ == "__main__":
    sys.exit(main())
