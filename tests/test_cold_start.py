"""`kb search` as a whole process loads only what searching needs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from kb.cli import COMMAND_MODULES, app

# What a command-line search must never pay for: the flow's, the web's and the build's imports.
NOT_FOR_SEARCH = ("prefect", "fastapi", "starlette", "uvicorn", "kb.web", "flows", "kb.cli.web")

_PROBE = """
import json, sys
sys.argv = ["kb", *json.loads(sys.argv[1])]
from kb.cli import main
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
sys.stderr.write("\\nMODULES " + json.dumps({"code": code, "modules": sorted(sys.modules)}) + "\\n")
"""


def _modules_after(*args: str) -> tuple[int, str, set[str]]:
    """Exit code, output and the modules loaded by `kb ARGS` run the way the `kb` script runs it."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(list(args))],
        capture_output=True, text=True, timeout=120, check=False, env={"COLUMNS": "200", "PATH": ""},
    )  # fmt: skip
    report = json.loads(done.stderr.rsplit("MODULES ", 1)[1])
    return report["code"], done.stdout, set(report["modules"])


def _loaded(modules: set[str], package: str) -> list[str]:
    return sorted(m for m in modules if m == package or m.startswith(package + "."))


def test_kb_search_does_not_import_prefect_the_web_or_other_commands(corpus_home: Path) -> None:
    code, output, modules = _modules_after("search", "hotline", "--home", str(corpus_home))
    assert code == 0, output
    assert "hotline" in output.lower()
    for package in NOT_FOR_SEARCH:
        assert not _loaded(modules, package), f"`kb search` imported {_loaded(modules, package)}"
    # Nor the other commands' modules: law comparison, the build, the nightly status.
    for module in ("kb.cli.legal", "kb.cli.core", "kb.cli.ops", "kb.legal.compare"):
        assert module not in modules


def test_help_still_lists_every_command() -> None:
    code, output, _ = _modules_after("--help")
    assert code == 0
    for command in COMMAND_MODULES:
        assert command in output


def test_each_command_is_registered_by_the_module_the_entry_point_loads_for_it() -> None:
    defined = {info.name or info.callback.__name__: info.callback.__module__ for info in app.registered_commands}  # fmt: skip
    defined |= {
        group.name: group.typer_instance.registered_commands[0].callback.__module__
        for group in app.registered_groups
    }
    assert defined == {name: f"kb.cli.{module}" for name, module in COMMAND_MODULES.items()}


def test_every_command_runs_with_only_its_own_module_loaded() -> None:
    """The `kb` script registers one module's commands; each must still be `kb COMMAND`."""
    for command, module in COMMAND_MODULES.items():
        code, output, modules = _modules_after(command, "--help")
        assert code == 0, f"kb {command} --help: {output}"
        assert f"Usage: kb {command} " in output
        others = {f"kb.cli.{m}" for m in COMMAND_MODULES.values()} - {f"kb.cli.{module}"}
        # facts reuses the core commands' store helper; nothing else loads another's module.
        assert not (others & modules) - ({"kb.cli.core"} if module == "facts" else set())
